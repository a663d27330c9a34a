/**
 * The `tidemark/preview` check run on a pull request that changes tidemark's configuration (a policy, an
 * automation, `.github/tidemark.yml`, a marker): per policy, the tag tidemark picks under the base branch's
 * configuration and under the PR's, the diff it would open once the PR is merged, and every configuration error
 * of the PR as an annotation on its line. Pure; nothing is written to the repo.
 */
import type { FileChange } from '../domain/types.js';
import { markdownCell } from './messages.js';
import type { PolicyOutcome } from './publish-plan.js';
import { formatUnifiedDiff } from './unified-diff.js';

/** One side of the comparison: what a run on that commit would decide. */
export interface PreviewSide {
  readonly perPolicy: Readonly<Record<string, PolicyOutcome>>;
  readonly errors: readonly { readonly file: string; readonly line?: number; readonly text: string }[];
  readonly changes: readonly FileChange[];
}

export interface Annotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly annotation_level: 'failure' | 'warning' | 'notice';
  readonly message: string;
}

export interface PreviewReport {
  readonly conclusion: 'success' | 'neutral' | 'failure';
  readonly title: string;
  readonly summary: string;
  readonly text: string;
  readonly annotations: readonly Annotation[];
}

/** A change to these can change what tidemark does: YAML, Kustomizations, templates, tidemark's config. */
export function touchesConfig(paths: readonly string[]): boolean {
  return paths.some((p) => /\.ya?ml$/.test(p) || /(^|\/)Kustomization$/.test(p) || /\.(gotmpl|tpl)$/.test(p));
}

function pick(o: PolicyOutcome | undefined): string {
  if (!o) return '—';
  if (o.status === 'selected') return o.markers === 0 ? `${o.tag} (no marker)` : o.tag;
  if (o.status === 'skipped') return `${o.tag} (declined)`;
  if (o.status === 'waiting') return `${o.tag} (waiting: ${o.reason})`;
  return `${o.status === 'none' ? 'nothing' : 'error'}: ${o.reason}`;
}

/** GitHub takes at most 50 annotations per request. */
const MAX_ANNOTATIONS = 50;

export function previewReport(
  base: PreviewSide,
  head: PreviewSide,
  changedFiles: readonly string[],
): PreviewReport {
  const keys = [...new Set([...Object.keys(base.perPolicy), ...Object.keys(head.perPolicy)])].sort();
  const rows = keys.map((k) => {
    const b = pick(base.perPolicy[k]);
    const h = pick(head.perPolicy[k]);
    return { k, b, h, differs: b !== h };
  });
  const differing = rows.filter((r) => r.differs).length;
  const changed = new Set(changedFiles);
  const annotations = head.errors
    .filter((e) => e.line !== undefined && changed.has(e.file))
    .slice(0, MAX_ANNOTATIONS)
    .map(
      (e): Annotation => ({
        path: e.file,
        start_line: e.line!,
        end_line: e.line!,
        annotation_level: 'failure',
        message: e.text,
      }),
    );
  const newErrors = head.errors.filter((e) => !base.errors.some((b) => b.text === e.text));
  const conclusion: PreviewReport['conclusion'] =
    newErrors.length > 0 ? 'failure' : differing > 0 ? 'neutral' : 'success';
  const title =
    newErrors.length > 0
      ? `tidemark preview: ${newErrors.length} configuration problem${newErrors.length === 1 ? '' : 's'} in this PR`
      : differing > 0
        ? `tidemark preview: ${differing} polic${differing === 1 ? 'y picks' : 'ies pick'} differently once merged`
        : 'tidemark preview: no change to what tidemark picks';
  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push('| policy | picks now (base) | picks once merged (this PR) |', '| --- | --- | --- |');
    for (const r of rows)
      lines.push(
        `| ${markdownCell(r.k)} | ${markdownCell(r.b)} | ${r.differs ? '**' : ''}${markdownCell(r.h)}${r.differs ? '**' : ''} |`,
      );
  }
  if (head.errors.length > 0) {
    lines.push('', '**Configuration problems in this PR**', '');
    for (const e of head.errors) lines.push(`- ${markdownCell(e.text)}`);
  }
  if (head.changes.length > 0) {
    lines.push(
      '',
      'Once merged, tidemark would change:',
      '',
      '```diff',
      formatUnifiedDiff(head.changes).trimEnd(),
      '```',
    );
  }
  return {
    conclusion,
    title,
    summary:
      'What tidemark would do with this pull request’s configuration, next to what it does with the base branch’s. Nothing is written until the PR is merged.',
    text: lines.join('\n'),
    annotations,
  };
}
