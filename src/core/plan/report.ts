/**
 * What the user must fix, as one check run on the commit that carries it: configuration errors (a policy that
 * could not be read) and the warnings about things the user wrote that do nothing or cannot be used (a marker
 * naming no policy, a policy no marker uses, YAML that does not parse, a refused credential variable, …).
 * Pure: the run posts it once per commit.
 */
import type { Warning } from '../domain/types.js';

/** Warnings that name something in the repo the user should change. */
export const FIX_IN_REPO: ReadonlySet<string> = new Set([
  'policy-invalid',
  'yaml-invalid',
  'marker-unknown-policy',
  'marker-not-understood',
  'marker-digest-unknown',
  'policy-unused',
  'automation-ignored',
  'marker-outside-path',
  'registry-credentials-refused',
  'registry-credentials-unset',
  'symlink-outside',
  'file-too-large',
  'file-not-utf8',
]);

export interface ProblemReport {
  readonly conclusion: 'failure' | 'neutral';
  readonly title: string;
  readonly summary: string;
  readonly text: string;
}

export function problemReport(
  configErrors: readonly string[],
  warnings: readonly Warning[],
): ProblemReport | undefined {
  const fixes = [...new Set(warnings.filter((w) => FIX_IN_REPO.has(w.code)).map((w) => w.message))];
  if (configErrors.length === 0 && fixes.length === 0) return undefined;
  const n = configErrors.length + fixes.length;
  const plural = n === 1 ? '' : 's';
  if (configErrors.length > 0) {
    return {
      conclusion: 'failure',
      title: `tidemark: ${n} configuration problem${plural}`,
      summary: 'Some image policies could not be read; the others were still applied. Fix these and push:',
      text: [...configErrors, ...fixes].map((m) => `- ${m}`).join('\n'),
    };
  }
  return {
    conclusion: 'neutral',
    title: `tidemark: ${n} thing${plural} to fix`,
    summary: 'Every policy was read and applied, but these do nothing as written. Fix them and push:',
    text: fixes.map((m) => `- ${m}`).join('\n'),
  };
}
