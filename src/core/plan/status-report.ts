/**
 * The `tidemark` check run on the default branch's head: what tidemark decided for every policy (image,
 * current value, newest allowed tag, state) and everything the user should fix, with file and line. Pure: the
 * run hands in what it collected, planned and published; `checkRunStep` decides whether GitHub hears of it —
 * created once per head commit, updated in place only when what it shows changed, never a flood.
 */
import type { Warning } from '../domain/types.js';
import { markdownCell } from './messages.js';
import type { PolicyOutcome, ReconcilePlan } from './publish-plan.js';

/** Warnings that name something in the repo the user should change (listed under "To fix"). */
export const FIX_IN_REPO: ReadonlySet<string> = new Set([
  'policy-invalid',
  'yaml-invalid',
  'marker-unknown-policy',
  'marker-not-understood',
  'marker-digest-unknown',
  'policy-unused',
  'policy-unselected',
  'marker-no-automation',
  'automation-mode-differs',
  'marker-outside-path',
  'registry-credentials-refused',
  'registry-credentials-unset',
  'registry-secret-undeclared',
  'symlink-outside',
  'file-too-large',
  'file-not-utf8',
]);

/** What publishing did for one branch (apply's result, as plain facts). */
export interface PublishedGroup {
  readonly branch: string;
  readonly action: 'opened' | 'updated' | 'unchanged' | 'frozen' | 'held' | 'limited' | 'pushed';
  /** Why a PR was not opened (`limited`). */
  readonly reason?: string;
  readonly pr?: number;
  /** Who held it (`/tidemark hold`). */
  readonly by?: string;
  readonly commit?: string;
}

export interface StatusInput {
  /** Every policy the repo declares: key `namespace:name` and image. */
  readonly policies: readonly { readonly key: string; readonly image: string }[];
  readonly configErrors: readonly string[];
  readonly warnings: readonly Warning[];
  readonly strategy: 'pull-request' | 'push';
  /** Absent when the run stopped before planning (no usable policy). */
  readonly plan?: ReconcilePlan;
  readonly published?: readonly PublishedGroup[];
}

export interface StatusReport {
  readonly conclusion: 'success' | 'neutral' | 'failure';
  readonly title: string;
  readonly summary: string;
  readonly text: string;
}

export interface PolicyRow {
  readonly key: string;
  readonly image: string;
  readonly current: readonly string[];
  readonly newest?: string;
  readonly state: string;
  /** Needs the user's attention (an error, or something that cannot work as written). */
  readonly problem: boolean;
}

export function policyRows(input: StatusInput): PolicyRow[] {
  const { plan } = input;
  const branchOf = new Map<string, string>();
  for (const g of plan?.groups ?? []) for (const u of g.updates) branchOf.set(u.key, g.branch);
  const published = new Map((input.published ?? []).map((g) => [g.branch, g]));
  const pushed = (input.published ?? []).find((g) => g.action === 'pushed');
  return [...input.policies]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ key, image }): PolicyRow => {
      const o: PolicyOutcome | undefined = plan?.perPolicy[key];
      const base = { key, image };
      if (!o) return { ...base, current: [], state: 'not evaluated', problem: false };
      if (o.status === 'skipped')
        return { ...base, current: [], newest: o.tag, state: `ignored: ${o.reason}`, problem: false };
      // A gate holds the newer tags back: not a problem, the repo is as safe as it should be.
      if (o.status === 'waiting')
        return { ...base, current: [], newest: o.tag, state: `waiting: ${o.reason}`, problem: false };
      if (o.status !== 'selected')
        return {
          ...base,
          current: [],
          state: `${o.status === 'none' ? 'blocked' : 'error'}: ${o.reason}`,
          problem: true,
        };
      const current = o.current ?? [];
      const row = { ...base, current, newest: o.tag };
      const next = o.waiting?.[0];
      const waits = next ? `; waiting: ${next.tag}: ${next.reason}` : '';
      if (o.markers === 0) return { ...row, state: 'no marker uses this policy', problem: true };
      const branch = branchOf.get(key);
      if (branch === undefined) return { ...row, state: `up to date${waits}`, problem: false };
      if (input.strategy === 'push') {
        return {
          ...row,
          state: pushed?.commit ? `pushed ${pushed.commit.slice(0, 7)}` : 'to be pushed',
          problem: false,
        };
      }
      const g = published.get(branch);
      if (g?.action === 'frozen')
        return {
          ...row,
          state: `held: ${g.pr ? `PR #${g.pr}` : branch} has commits tidemark did not make`,
          problem: false,
        };
      if (g?.action === 'limited')
        return { ...row, state: `waiting: ${g.reason ?? 'PR limit reached'}`, problem: false };
      if (g?.action === 'held')
        return { ...row, state: `held: PR #${g.pr} held by @${g.by ?? '?'}`, problem: false };
      if (g?.pr !== undefined) return { ...row, state: `PR open #${g.pr}${waits}`, problem: false };
      return { ...row, state: `update pending on ${branch}`, problem: false };
    });
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The check run's content. */
export function statusReport(input: StatusInput): StatusReport {
  const rows = policyRows(input);
  const fixes = [...new Set(input.warnings.filter((w) => FIX_IN_REPO.has(w.code)).map((w) => w.message))];
  const problems = [...input.configErrors, ...fixes];
  const failing = rows.filter((r) => r.problem && !r.state.startsWith('no marker'));
  const conclusion: StatusReport['conclusion'] =
    input.configErrors.length > 0
      ? 'failure'
      : problems.length > 0 || failing.length > 0
        ? 'neutral'
        : 'success';

  const counts = new Map<string, number>();
  for (const r of rows) {
    const k = r.state.startsWith('PR open')
      ? 'PR open'
      : r.state.startsWith('pushed')
        ? 'pushed'
        : (r.state.split(':')[0] ?? r.state);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const parts = [...counts].map(([k, n]) => `${n} ${k}`);
  const title =
    rows.length === 0
      ? input.configErrors.length > 0
        ? `tidemark: ${plural(input.configErrors.length, 'configuration problem')}`
        : 'tidemark: no image policies'
      : `tidemark: ${plural(rows.length, 'policy', 'policies')} — ${parts.join(', ')}${
          problems.length > 0 ? `; ${plural(problems.length, 'thing')} to fix` : ''
        }`;

  const summary =
    rows.length === 0 && input.configErrors.length === 0
      ? 'No image policy was found in this repository (no Flux `ImagePolicy` and no `.github/tidemark.yml`). Run `tidemark init --dir .` on a checkout to propose policies and markers for the images it finds.'
      : input.configErrors.length > 0
        ? 'Some image policies could not be read; the others were still applied. Fix the problems below and push.'
        : problems.length > 0
          ? 'Every policy was read; some things below do nothing as written. Fix them and push.'
          : 'Every policy was read and applied.';

  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push('| policy | image | current | newest allowed | state |', '| --- | --- | --- | --- | --- |');
    for (const r of rows)
      lines.push(
        `| ${markdownCell(r.key)} | ${markdownCell(r.image)} | ${markdownCell(r.current.join(', ') || '—')} | ${markdownCell(r.newest ?? '—')} | ${markdownCell(r.state)} |`,
      );
  }
  if (problems.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('**To fix**', '', ...problems.map((m) => `- ${markdownCell(m)}`));
  }
  return { conclusion, title: title.slice(0, 255), summary, text: lines.join('\n') };
}

/** What tidemark last put on GitHub for a repo's check run. */
export interface PostedCheck {
  readonly sha: string;
  readonly id: number;
  readonly fingerprint: string;
}

export type CheckRunStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'create'; readonly sha: string; readonly fingerprint: string }
  | { readonly kind: 'update'; readonly id: number; readonly sha: string; readonly fingerprint: string };

/** A stable digest of the report's content (what the user would see change). */
export function fingerprintOf(report: StatusReport): string {
  const s = `${report.conclusion}\n${report.title}\n${report.summary}\n${report.text}`;
  // FNV-1a, 32 bit: pure and dependency-free; a collision only costs one skipped update.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${s.length.toString(16)}-${h.toString(16)}`;
}

/**
 * One check run per head commit: created the first time tidemark reports on `sha`, updated in place when what
 * it shows changed, and left alone otherwise (a run that changes nothing costs no API call).
 */
export function checkRunStep(
  sha: string,
  report: StatusReport,
  posted: PostedCheck | undefined,
): CheckRunStep {
  const fingerprint = fingerprintOf(report);
  if (!posted || posted.sha !== sha) return { kind: 'create', sha, fingerprint };
  if (posted.fingerprint === fingerprint) return { kind: 'none' };
  return { kind: 'update', id: posted.id, sha, fingerprint };
}
