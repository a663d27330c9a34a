/**
 * The dashboard issue ("tidemark dashboard"): one per repo, regenerated from state after each run — open PRs,
 * held and ignored versions with who and when, what is blocked and why, errors, what to fix — with checkboxes
 * that act (lift a hold, propose an ignored version again, retry). Pure: the run collects, this renders and
 * decides whether GitHub hears of it; ticks are read back from `issues.edited` by `tickedBoxes`.
 *
 * tidemark owns only the text between its two marker comments; whatever people write above or below is kept.
 */
import { markdownCell } from './messages.js';
import type { PullSummary } from './publish-plan.js';
import type { Rollback } from './rollback.js';
import { policyRows, type StatusInput, statusReport } from './status-report.js';

export const DASHBOARD_TITLE = 'tidemark dashboard';
const START = '<!-- tidemark-dashboard:start -->';
const END = '<!-- tidemark-dashboard:end -->';

/** What a box does when someone with write access ticks it. */
export type BoxAction =
  | { readonly kind: 'unhold'; readonly pr: number }
  | { readonly kind: 'unignore'; readonly pr: number }
  /** Release a rollback hold: the person's commit (its first 12 hex digits). */
  | { readonly kind: 'release'; readonly sha: string }
  | { readonly kind: 'retry' };

export function boxId(a: BoxAction): string {
  return a.kind === 'retry' ? 'retry' : a.kind === 'release' ? `release:${a.sha}` : `${a.kind}:${a.pr}`;
}

export function parseBoxId(id: string): BoxAction | undefined {
  if (id === 'retry') return { kind: 'retry' };
  const r = /^release:([0-9a-f]{12})$/.exec(id);
  if (r) return { kind: 'release', sha: r[1]! };
  const m = /^(unhold|unignore):([1-9][0-9]{0,9})$/.exec(id);
  return m ? { kind: m[1] as 'unhold' | 'unignore', pr: Number(m[2]) } : undefined;
}

const box = (a: BoxAction, text: string) => `- [ ] <!-- tidemark-box: ${boxId(a)} --> ${text}`;
const BOX_RE = /^\s*[-*] \[( |x|X)\] <!-- tidemark-box: ([a-z]+(?::[0-9a-f]+)?) -->/;
const RELEASED_RE = /<!-- tidemark-released: ([0-9a-f]{12}) by ([A-Za-z0-9-]{1,39}(?:\[bot\])?) -->/g;

/** Rollback holds released on the dashboard (commit prefix → who), read from tidemark's part of its body. */
export function releasedRollbacks(body: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of (ownPart(body ?? '') ?? '').matchAll(RELEASED_RE)) out.set(m[1]!, m[2]!);
  return out;
}

/** Box ids that are ticked in `body` (inside tidemark's part only). */
function ticked(body: string): Set<string> {
  const own = ownPart(body);
  const out = new Set<string>();
  for (const line of (own ?? '').split('\n')) {
    const m = BOX_RE.exec(line);
    if (m && m[1] !== ' ') out.add(m[2]!);
  }
  return out;
}

/** Boxes someone ticked in an edit: ticked after and not before. */
export function tickedBoxes(before: string, after: string): BoxAction[] {
  const was = ticked(before);
  return [...ticked(after)]
    .filter((id) => !was.has(id))
    .flatMap((id) => {
      const a = parseBoxId(id);
      return a ? [a] : [];
    });
}

function ownPart(body: string): string | undefined {
  const s = body.indexOf(START);
  const e = body.indexOf(END, s + START.length);
  return s >= 0 && e > s ? body.slice(s + START.length, e) : undefined;
}

export function isDashboard(title: string, body: string | null | undefined): boolean {
  return title === DASHBOARD_TITLE && ownPart(body ?? '') !== undefined;
}

export interface DashboardInput extends StatusInput {
  /** tidemark's PRs (open and closed), with their metadata. */
  readonly pulls: readonly PullSummary[];
  /** Rollbacks found in git history: holding, or released (by whom). */
  readonly rollbacks?: readonly (Rollback & { readonly releasedBy?: string })[];
}

function fmtDate(at: string): string {
  return /^\d{4}-\d\d-\d\d/.test(at) ? at.slice(0, 10) : markdownCell(at);
}

/** tidemark's part of the body: every section, boxes unticked. */
export function dashboardSection(input: DashboardInput): string {
  const rows = policyRows(input);
  const report = statusReport(input);
  const out: string[] = [];
  out.push(
    `Updated after each run. **${markdownCell(report.title.replace(/^tidemark: /, ''))}**`,
    '',
    'Tick a box to act (people with write access only).',
  );

  // Open PRs as this run left them (one it just opened included), from what publishing did.
  const groups = new Map((input.plan?.groups ?? []).map((g) => [g.branch, g]));
  const open = (input.published ?? []).filter(
    (g) => g.pr !== undefined && g.action !== 'held' && g.action !== 'pushed' && groups.has(g.branch),
  );
  out.push('', '## Open pull requests', '');
  if (open.length === 0) out.push('None.');
  for (const g of open) {
    const what = groups
      .get(g.branch)!
      .updates.map((u) => `${markdownCell(u.key)} → \`${markdownCell(u.newTag)}\``)
      .join(', ');
    out.push(
      `- #${g.pr}: ${what}${g.action === 'frozen' ? ' (others committed to its branch; not updated)' : ''}`,
    );
  }

  const held = input.pulls.filter((p) => p.state === 'open' && p.meta?.hold);
  out.push('', '## Held', '');
  if (held.length === 0) out.push('Nothing is held. Comment `/tidemark hold` on a PR to keep it as it is.');
  for (const p of held) {
    const h = p.meta!.hold!;
    const keys = p.meta!.policies.map((x) => markdownCell(x.key)).join(', ');
    out.push(
      box(
        { kind: 'unhold', pr: p.number },
        `#${p.number} (${keys}) held by \`@${markdownCell(h.by)}\` on ${fmtDate(h.at)} — tick to lift the hold`,
      ),
    );
  }

  const rollbacks = input.rollbacks ?? [];
  out.push('', '## Rollbacks', '');
  if (rollbacks.length === 0)
    out.push('None. A person setting a marked value back to an older tag holds that policy there.');
  for (const r of rollbacks) {
    const id = r.sha.slice(0, 12);
    const what = `${markdownCell(r.key)} rolled back to \`${markdownCell(r.to)}\` (from \`${markdownCell(r.from)}\`) by ${markdownCell(r.by)} in ${id.slice(0, 7)}`;
    if (r.releasedBy)
      out.push(
        `- ${what}: released by \`@${markdownCell(r.releasedBy)}\` <!-- tidemark-released: ${id} by ${r.releasedBy} -->`,
      );
    else
      out.push(
        box({ kind: 'release', sha: id }, `${what}: held — tick to let tidemark propose newer tags again`),
      );
  }

  const ignored = input.pulls.filter((p) => p.state === 'closed' && !p.merged && p.meta?.ignore);
  const declined = input.pulls.filter(
    (p) => p.state === 'closed' && !p.merged && p.meta && !p.meta.ignore && !p.meta.closedByTidemark,
  );
  out.push('', '## Ignored versions', '');
  if (ignored.length === 0 && declined.length === 0) out.push('None.');
  for (const p of ignored) {
    const ig = p.meta!.ignore!;
    const what = p.meta!.policies.map((x) => `${markdownCell(x.key)} \`${markdownCell(x.tag)}\``).join(', ');
    out.push(
      box(
        { kind: 'unignore', pr: p.number },
        `${what}: this ${ig.scope} ignored by \`@${markdownCell(ig.by)}\` on ${fmtDate(ig.at)} (#${p.number}) — tick to propose it again`,
      ),
    );
  }
  for (const p of declined) {
    const what = p.meta!.policies.map((x) => `${markdownCell(x.key)} \`${markdownCell(x.tag)}\``).join(', ');
    out.push(
      box(
        { kind: 'unignore', pr: p.number },
        `${what}: #${p.number} was closed without merging — tick to propose it again`,
      ),
    );
  }

  // What the trust gates hold back, and until when (a run is scheduled for that time).
  const waits: string[] = [];
  for (const [key, o] of Object.entries(input.plan?.perPolicy ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const list = o.status === 'waiting' || o.status === 'selected' ? (o.waiting ?? []) : [];
    if (o.status === 'waiting' && list.length === 0)
      waits.push(`- ${markdownCell(key)} \`${markdownCell(o.tag)}\`: ${markdownCell(o.reason)}`);
    for (const w of list)
      waits.push(
        `- ${markdownCell(key)} \`${markdownCell(w.tag)}\` ${w.status === 'block' ? 'blocked' : 'waits'}: ${markdownCell(w.reason)}`,
      );
    if (o.status === 'waiting' && list.length > 0 && !o.reason.startsWith(`${o.tag}:`))
      waits.push(`- ${markdownCell(key)} \`${markdownCell(o.tag)}\` waits: ${markdownCell(o.reason)}`);
  }
  // New PRs past prConcurrentLimit / prHourlyLimit wait too.
  for (const r of rows)
    if (input.plan?.perPolicy[r.key]?.status === 'selected' && r.state.startsWith('waiting: '))
      waits.push(
        `- ${markdownCell(r.key)} \`${markdownCell(r.newest ?? '?')}\`: ${markdownCell(r.state.slice(9))}`,
      );
  out.push('', '## Waiting for gates', '');
  if (waits.length === 0) out.push('Nothing waits.');
  else out.push(...waits);

  const blocked = rows.filter((r) => r.problem);
  out.push('', '## Blocked and errors', '');
  if (blocked.length === 0) out.push('None.');
  else {
    for (const r of blocked)
      out.push(`- ${markdownCell(r.key)} (${markdownCell(r.image)}): ${markdownCell(r.state)}`);
    out.push(box({ kind: 'retry' }, 'tick to run again now (registries are asked afresh)'));
  }

  const fixes = report.text.split('**To fix**')[1];
  if (fixes) out.push('', '## To fix', fixes.trimEnd());
  return out.join('\n');
}

/** The whole body: tidemark's part regenerated, anything people wrote around it kept. */
export function dashboardBody(section: string, previous?: string): string {
  const own = `${START}\n${section}\n${END}`;
  if (previous === undefined) return own;
  const s = previous.indexOf(START);
  const e = previous.indexOf(END, s + START.length);
  if (s < 0 || e < 0) return `${previous.trimEnd()}\n\n${own}`;
  return `${previous.slice(0, s)}${own}${previous.slice(e + END.length)}`;
}

export type DashboardStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'create'; readonly title: string; readonly body: string }
  | { readonly kind: 'update'; readonly number: number; readonly body: string };

/** Create the issue when there is none, update it when its body would change, otherwise nothing. */
export function dashboardStep(
  section: string,
  existing: { readonly number: number; readonly body: string } | undefined,
): DashboardStep {
  if (!existing) return { kind: 'create', title: DASHBOARD_TITLE, body: dashboardBody(section) };
  const body = dashboardBody(section, existing.body);
  return body === existing.body ? { kind: 'none' } : { kind: 'update', number: existing.number, body };
}
