/**
 * Commands people give tidemark in a comment on one of its pull requests (`/tidemark hold`, …). Pure: the run
 * collects each request's facts (the PR, the commenter's permission) and this decides the answer (a reaction,
 * a reply), the change of state (written to the PR's hidden metadata, so git-backed state tidemark can rebuild
 * from GitHub alone), and what the rest of the run must do differently (rebase or recreate a branch).
 */
import { didYouMean } from '../domain/did-you-mean.js';
import type { Permission } from '../domain/types.js';
import { parseTagVersion } from '../policy/semver.js';
import { type PrMetadata, withMetadata } from './messages.js';
import type { PullSummary } from './publish-plan.js';

export type PrCommandName =
  | 'ignore this version'
  | 'ignore this minor'
  | 'ignore this major'
  | 'hold'
  | 'unhold'
  | 'rebase'
  | 'recreate'
  | 'unignore';

export const PR_COMMANDS: readonly PrCommandName[] = [
  'ignore this version',
  'ignore this minor',
  'ignore this major',
  'hold',
  'unhold',
  'rebase',
  'recreate',
  'unignore',
];

export type ParsedCommand =
  | { readonly kind: 'command'; readonly name: PrCommandName }
  | { readonly kind: 'unknown'; readonly text: string; readonly suggestion?: PrCommandName };

const PREFIX = /^\s*\/tidemark(?:\s+(.*))?$/;

/** The first line addressed to tidemark (`/tidemark …`) in a comment; undefined when there is none. */
export function commandLine(body: string): string | undefined {
  for (const line of body.split(/\r?\n/).slice(0, 50)) {
    const m = PREFIX.exec(line);
    if (m) return (m[1] ?? '').trim().replace(/\s+/g, ' ').toLowerCase().slice(0, 100);
  }
  return undefined;
}

export function parsePrCommand(text: string): ParsedCommand {
  const name = PR_COMMANDS.find((c) => c === text);
  if (name) return { kind: 'command', name };
  const suggestion = didYouMean(text, PR_COMMANDS) as PrCommandName | undefined;
  return { kind: 'unknown', text, ...(suggestion && { suggestion }) };
}

/** A command as the webhook delivered it. */
export interface CommandRequest {
  readonly pr: number;
  /** The comment that gave it (answered with a reaction); absent for a box ticked on the dashboard. */
  readonly commentId?: number;
  readonly user: string;
  /** The command line, as `commandLine` read it. */
  readonly text: string;
}

export type { Permission };

export function canSteer(p: Permission | undefined): boolean {
  return p === 'admin' || p === 'maintain' || p === 'write';
}

export type CommandAction =
  | { readonly kind: 'react'; readonly commentId: number; readonly content: '+1' | '-1' | 'confused' }
  | { readonly kind: 'reply'; readonly pr: number; readonly body: string }
  | { readonly kind: 'update-pr'; readonly pr: number; readonly body: string }
  | {
      readonly kind: 'close-pr';
      readonly pr: number;
      readonly body: string;
      /** Delete the PR's branch while it is at `headSha` (ignore); recreate keeps it to rebuild it. */
      readonly deleteBranch?: { readonly branch: string; readonly headSha: string };
    };

export interface CommandPlan {
  readonly actions: readonly CommandAction[];
  /** The pull requests as they are once the actions are applied (the rest of the run plans on these). */
  readonly pulls: readonly PullSummary[];
  /** Branches to rebuild from the base even when they already hold the change (or hold others' commits). */
  readonly rebase: readonly string[];
}

const HELP = `tidemark understands, from people with write access: ${PR_COMMANDS.map((c) => `\`/tidemark ${c}\``).join(', ')}.`;

function describeIgnore(meta: PrMetadata, scope: 'version' | 'minor' | 'major'): string {
  return meta.policies
    .map((p) => {
      const v = parseTagVersion(p.tag);
      const what =
        scope === 'version' || !v ? p.tag : scope === 'minor' ? `${v.major}.${v.minor}.x` : `${v.major}.x`;
      return `${what} of ${p.key}`;
    })
    .join(', ');
}

/**
 * Each request, in order, against the PRs as they stand after the previous one. Requests on a PR that is not
 * tidemark's are ignored without a word; requests from people without write access get a 👎 and nothing else.
 */
export function planCommands(
  requests: readonly CommandRequest[],
  pulls: readonly PullSummary[],
  permissions: Readonly<Record<string, Permission>>,
  now: string,
): CommandPlan {
  const current = new Map(pulls.map((p) => [p.number, p]));
  const actions: CommandAction[] = [];
  const rebase = new Set<string>();
  const seen = new Set<string>();
  const react = (r: CommandRequest, content: '+1' | '-1' | 'confused') => {
    if (r.commentId !== undefined) actions.push({ kind: 'react', commentId: r.commentId, content });
  };
  for (const r of requests) {
    // A comment delivered twice (a redelivery, a coalesced job) is answered once.
    const id = r.commentId !== undefined ? `c${r.commentId}` : `d${r.pr}:${r.text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const pr = current.get(r.pr);
    if (!pr?.meta) continue;
    if (!canSteer(permissions[r.user])) {
      react(r, '-1');
      continue;
    }
    const parsed = parsePrCommand(r.text);
    if (parsed.kind === 'unknown') {
      react(r, 'confused');
      actions.push({
        kind: 'reply',
        pr: pr.number,
        body: `tidemark does not know \`/tidemark ${parsed.text}\`${parsed.suggestion ? `; did you mean \`/tidemark ${parsed.suggestion}\`?` : '.'} ${HELP}`,
      });
      continue;
    }
    const by = { by: r.user, at: now };
    const meta = pr.meta;
    const set = (next: PrMetadata, state: 'open' | 'closed' = pr.state): PullSummary => {
      const updated: PullSummary = { ...pr, state, body: withMetadata(pr.body, next), meta: next };
      current.set(pr.number, updated);
      return updated;
    };
    let reply: string | undefined;
    switch (parsed.name) {
      case 'ignore this version':
      case 'ignore this minor':
      case 'ignore this major': {
        const scope = parsed.name.split(' ')[2] as 'version' | 'minor' | 'major';
        const updated = set({ ...meta, ignore: { scope, ...by } }, 'closed');
        actions.push({
          kind: 'close-pr',
          pr: pr.number,
          body: updated.body,
          ...(pr.state === 'open' && { deleteBranch: { branch: pr.headRef, headSha: pr.headSha } }),
        });
        reply = `Ignoring ${describeIgnore(meta, scope)}, as @${r.user} asked; this PR is closed. A newer version will be proposed when one is allowed. Restoring the branch and reopening this PR undoes it.`;
        break;
      }
      case 'hold':
        if (pr.state !== 'open' || meta.hold) break;
        actions.push({ kind: 'update-pr', pr: pr.number, body: set({ ...meta, hold: by }).body });
        reply = `Held, as @${r.user} asked: tidemark keeps this PR as it is and proposes no newer version for ${meta.policies.map((p) => p.key).join(', ')} until someone comments \`/tidemark unhold\`.`;
        break;
      case 'unhold': {
        if (!meta.hold) break;
        const { hold: _, ...rest } = meta;
        actions.push({ kind: 'update-pr', pr: pr.number, body: set(rest).body });
        reply = `No longer held (@${r.user}): tidemark updates this PR again.`;
        break;
      }
      case 'rebase':
        if (pr.state !== 'open') break;
        rebase.add(pr.headRef);
        if (meta.frozen) {
          // Rebuilding the branch drops the commits that froze it: the PR is tidemark's to update again.
          const { frozen: _, ...rest } = meta;
          actions.push({ kind: 'update-pr', pr: pr.number, body: set(rest).body });
        }
        reply = `Rebuilding \`${pr.headRef}\` on the base branch, as @${r.user} asked.`;
        break;
      case 'unignore': {
        if (pr.state !== 'closed' || pr.merged) break;
        // Closed, but not a decline any more: the version (or line) may be proposed again.
        const { ignore: _, ...rest } = meta;
        actions.push({
          kind: 'update-pr',
          pr: pr.number,
          body: set({ ...rest, closedByTidemark: true }).body,
        });
        reply = `@${r.user} lifted the ignore: ${meta.policies.map((p) => `${p.tag} of ${p.key}`).join(', ')} may be proposed again.`;
        break;
      }
      case 'recreate': {
        if (pr.state !== 'open') break;
        // Closed by tidemark (not a declined version); the run then opens a fresh PR from a rebuilt branch.
        const updated = set({ ...meta, closedByTidemark: true }, 'closed');
        actions.push({ kind: 'close-pr', pr: pr.number, body: updated.body });
        rebase.add(pr.headRef);
        reply = `Closing this PR and opening a new one from a rebuilt branch, as @${r.user} asked.`;
        break;
      }
    }
    react(r, '+1');
    if (reply) actions.push({ kind: 'reply', pr: pr.number, body: reply });
  }
  return { actions, pulls: pulls.map((p) => current.get(p.number) ?? p), rebase: [...rebase] };
}

/** A version line someone asked tidemark to ignore (`/tidemark ignore this minor|major`). */
export interface IgnoreRule {
  readonly scope: 'minor' | 'major';
  readonly major: string;
  readonly minor: string;
  readonly by: string;
  readonly pr: number;
}

/** Ignored version lines by policy key, from PRs closed with an ignore command. */
export function ignoreRulesFrom(pulls: readonly PullSummary[]): Map<string, IgnoreRule[]> {
  const rules = new Map<string, IgnoreRule[]>();
  for (const p of pulls) {
    const ig = p.meta?.ignore;
    if (p.state !== 'closed' || p.merged || !ig || ig.scope === 'version') continue;
    for (const pol of p.meta!.policies) {
      const v = parseTagVersion(pol.tag);
      if (!v) continue;
      const list = rules.get(pol.key) ?? [];
      list.push({ scope: ig.scope, major: String(v.major), minor: String(v.minor), by: ig.by, pr: p.number });
      rules.set(pol.key, list);
    }
  }
  return rules;
}

/** The rule that ignores `tag`, if any. */
export function ignoredBy(rules: readonly IgnoreRule[] | undefined, tag: string): IgnoreRule | undefined {
  if (!rules) return undefined;
  const v = parseTagVersion(tag);
  if (!v) return undefined;
  return rules.find(
    (r) => r.major === String(v.major) && (r.scope === 'major' || r.minor === String(v.minor)),
  );
}
