/**
 * "Rollback means hold": when a person sets a marked value on the default branch back to an older tag than
 * tidemark last wrote (a revert, or a manual edit), tidemark holds that policy at the person's value — no new
 * PR — until a tag newer than the one rolled back from appears, or until someone releases the hold on the
 * dashboard. Derived from git history alone (the run reads `git log -p` of marked lines), so it survives
 * restarts and needs no store. Pure: the run collects the commits, this decides.
 */
import { parseMarkerComment } from '../markers/marker-grammar.js';
import { selectLatest } from '../policy/select-latest.js';
import type { ImagePolicySpec } from '../policy/types.js';
import { tagOfValue } from './plan-files.js';

/** One commit that touched marked lines, with the removed and added lines of its diff. */
export interface HistoryCommit {
  readonly sha: string;
  readonly authorName: string;
  readonly authorEmail: string;
  /** ISO date of the commit. */
  readonly date: string;
  readonly message: string;
  readonly removed: readonly string[];
  readonly added: readonly string[];
}

export interface Rollback {
  readonly key: string;
  /** The tag the person set (what is deployed now). */
  readonly to: string;
  /** The tag tidemark had written, rolled back from. */
  readonly from: string;
  readonly sha: string;
  readonly by: string;
  readonly at: string;
}

// `key: value # {"$imagepolicy": …}` or a sequence item `- value # {…}`; the value possibly quoted.
const MARKED_LINE = /^\s*(?:-\s+)?(?:[^\s:#"'][^:#]*:\s+)?["']?([^"'#\s]+)["']?\s+(#\s*\{.*\})\s*$/;

/** The (policy key → tag) values a diff's lines hold. */
export function markedTags(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    if (!line.includes('$imagepolicy')) continue;
    const m = MARKED_LINE.exec(line);
    if (!m) continue;
    const spec = parseMarkerComment(m[2]!.replace(/^#\s*/, ''));
    if (!spec) continue;
    const tag = tagOfValue(m[1]!, spec.field);
    if (tag !== undefined && !out.has(spec.key)) out.set(spec.key, tag);
  }
  return out;
}

/** Is `a` older than `b` by the policy's own ordering (Flux's selection between the two)? */
export function isOlder(spec: ImagePolicySpec, a: string, b: string): boolean {
  if (a === b) return false;
  const s = selectLatest(spec, [a, b]);
  return s.kind === 'selected' && s.tag === b;
}

/**
 * Rollbacks in force: for each policy, the newest commit that changed its value was a person's, setting a
 * tag older than the one tidemark's newest commit before it had written. `commits` newest first.
 */
export function findRollbacks(
  commits: readonly HistoryCommit[],
  isTidemark: (c: HistoryCommit) => boolean,
  policies: readonly ImagePolicySpec[],
): Rollback[] {
  const out: Rollback[] = [];
  const changes = commits.map((c) => ({ c, after: markedTags(c.added), before: markedTags(c.removed) }));
  for (const spec of policies) {
    const key = `${spec.namespace}:${spec.name}`;
    const touching = changes.filter((x) => x.after.has(key) && x.after.get(key) !== x.before.get(key));
    const newest = touching[0];
    // A rollback replaces a value; a person adding a new marked line (a new file at an old tag) is not one,
    // and that line is brought up to date like any other.
    if (!newest || isTidemark(newest.c) || !newest.before.has(key)) continue;
    const ours = touching.find((x) => isTidemark(x.c));
    if (!ours) continue;
    const to = newest.after.get(key)!;
    const from = ours.after.get(key)!;
    if (!isOlder(spec, to, from)) continue;
    out.push({
      key,
      to,
      from,
      sha: newest.c.sha,
      by: newest.c.authorName || newest.c.authorEmail,
      at: newest.c.date,
    });
  }
  return out;
}

/** The hold a rollback puts on a policy's choice, or undefined when the choice is newer than `from`. */
export function rollbackHold(spec: ImagePolicySpec, r: Rollback, chosen: string): string | undefined {
  if (isOlder(spec, r.from, chosen)) return undefined; // a tag newer than the one rolled back from: go on
  return `rolled back to ${r.to} by ${r.by} in ${r.sha.slice(0, 7)} (from ${r.from}); held until a tag newer than ${r.from} appears, or release it on the dashboard`;
}

/** Parses `git log -p -U0` output written with RECORD/FIELD separators (see the workspace's markerHistory). */
export function parseMarkerHistory(raw: string): HistoryCommit[] {
  return raw
    .split('\x1e')
    .filter((s) => s.trim() !== '')
    .flatMap((rec) => {
      const [sha, authorName, authorEmail, date, message, diff] = rec.split('\x1f');
      if (!sha || diff === undefined) return [];
      const removed: string[] = [];
      const added: string[] = [];
      for (const line of diff.split('\n')) {
        if (line.startsWith('---') || line.startsWith('+++')) continue;
        if (line.startsWith('-')) removed.push(line.slice(1));
        else if (line.startsWith('+')) added.push(line.slice(1));
      }
      return [
        {
          sha: sha.trim(),
          authorName: authorName ?? '',
          authorEmail: authorEmail ?? '',
          date: date ?? '',
          message: message ?? '',
          removed,
          added,
        },
      ];
    });
}
