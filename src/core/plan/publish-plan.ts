/**
 * The publishing half of a run's plan, pure: from the run's result (selections, groups, file changes) and the
 * collected facts about GitHub and git (open and closed PRs and whether auto-merge is armed on them, branch
 * heads, foreign commits, whether a branch already holds its change), decide every action — commit, reset or
 * create a branch, open / update / close a PR, label, comment, enable auto-merge, delete a merged branch. `run/apply.ts` executes the actions through
 * the ports and decides nothing.
 */
import type { UpdateSettings } from '../config/repo-config.js';
import type { FileChange, PullRequestFacts, Warning } from '../domain/types.js';
import type { GateCheck, WaitingCandidate } from './gates.js';
import {
  COMMIT_TRAILER,
  metadataFor,
  type PrMetadata,
  parsePrMetadata,
  prBody,
  prTitle,
  withMetadata,
} from './messages.js';
import { type PolicyUpdate, semverLevel, type UpdateGroup } from './update.js';

/** What a run decided for one policy. */
export type PolicyOutcome =
  | {
      readonly status: 'selected';
      readonly tag: string;
      readonly digest?: string;
      readonly previous?: string;
      /** Markers that use this policy; 0 means the policy changes nothing (and `plan` says so). */
      readonly markers?: number;
      /** The distinct tags those markers hold before this run's change (sorted). */
      readonly current?: readonly string[];
      /** The gates the chosen tag passed, with their evidence. */
      readonly checks?: readonly GateCheck[];
      /** Newer candidates a gate holds back, newest first. */
      readonly waiting?: readonly WaitingCandidate[];
    }
  /** A gate holds every newer candidate back (too young, a platform missing, unsigned, a freeze, a rollback). */
  | {
      readonly status: 'waiting';
      readonly tag: string;
      readonly reason: string;
      /** When it will pass by itself (a maturity time, the end of a freeze); a run is scheduled then. */
      readonly until?: number;
      readonly waiting?: readonly WaitingCandidate[];
    }
  | { readonly status: 'skipped'; readonly tag: string; readonly reason: string }
  | { readonly status: 'none' | 'invalid' | 'registry-error'; readonly reason: string };

/** The file half of a run's plan (computed by reconcile). */
export interface ReconcilePlan {
  readonly perPolicy: Readonly<Record<string, PolicyOutcome>>;
  readonly updates: readonly PolicyUpdate[];
  readonly groups: readonly UpdateGroup[];
  /** Every file change of the run, all policies applied together. */
  readonly changes: readonly FileChange[];
  readonly warnings: readonly Warning[];
  /** Registry failures; a run with any is incomplete and should be retried when they are transient. */
  readonly registryErrors: readonly { readonly image: string; readonly error: Error }[];
  /** The earliest time a waiting gate passes by itself: the run to schedule then. */
  readonly wakeAt?: number;
}

/** A tidemark PR as read from GitHub (head branch starts with `tidemark/`). */
/** A pull request on a tidemark branch, with the metadata tidemark wrote into its body (when it parses). */
export interface PullSummary extends PullRequestFacts {
  readonly meta?: PrMetadata;
}

/**
 * tidemark's pull requests among a repo's, their metadata read: on a `tidemark/` branch of the repository itself
 * (not a fork), opened by the App (`botLogin`). Anyone else's PR — a fork's branch named `tidemark/…`, a person's
 * PR with a copied metadata block — is never adopted, updated, closed or read for declined versions.
 */
/**
 * tidemark's own PRs: opened by the App from a branch of the same repository. The branch name is not part of
 * the test: an automation's `push.branch` and a custom group branch are tidemark's too, and a fork or a person
 * can name a branch anything.
 */
export function summarizePulls(pulls: readonly PullRequestFacts[], botLogin: string): PullSummary[] {
  return pulls.filter((p) => !p.fromFork && p.author === botLogin).map(summarizePull);
}

export function summarizePull(p: PullRequestFacts): PullSummary {
  const meta = parsePrMetadata(p.body);
  return { ...p, ...(meta && { meta }) };
}

export interface PublishSettings {
  readonly strategy: 'pull-request' | 'push';
  /** Push mode: the branch to commit to. PR mode: the PRs' base. */
  readonly targetBranch: string;
  readonly commitTemplate?: string;
  readonly labels: readonly string[];
  readonly labelsByLevel?: UpdateSettings['labelsByLevel'];
  readonly reviewers?: readonly string[];
  readonly teamReviewers?: readonly string[];
  readonly assignees?: readonly string[];
  readonly draft?: boolean;
  readonly autoMerge: { readonly major?: boolean; readonly minor?: boolean; readonly patch?: boolean };
  /** At most this many tidemark PRs open at once (new ones wait). */
  readonly prConcurrentLimit?: number;
  /** At most this many new tidemark PRs per hour. */
  readonly prHourlyLimit?: number;
}

/**
 * A repo's `update` settings as the publishing plan needs them; `defaultBranch` is the PRs' base and, unless
 * `update.branch` names another, the branch push mode commits to. The App and `tidemark plan` both use it.
 */
export function publishSettingsFor(update: UpdateSettings, defaultBranch: string): PublishSettings {
  return {
    strategy: update.strategy,
    targetBranch: update.strategy === 'push' ? (update.branch ?? defaultBranch) : defaultBranch,
    ...(update.commitMessage && { commitTemplate: update.commitMessage }),
    labels: update.labels,
    ...(update.labelsByLevel && { labelsByLevel: update.labelsByLevel }),
    ...(update.reviewers && { reviewers: update.reviewers }),
    ...(update.teamReviewers && { teamReviewers: update.teamReviewers }),
    ...(update.assignees && { assignees: update.assignees }),
    ...(update.draft && { draft: true }),
    autoMerge: update.autoMerge,
    ...(update.prConcurrentLimit !== undefined && { prConcurrentLimit: update.prConcurrentLimit }),
    ...(update.prHourlyLimit !== undefined && { prHourlyLimit: update.prHourlyLimit }),
  };
}

/** What git says about one group's branch, collected before planning. */
export interface BranchFacts {
  /** The branch's head on the remote; absent when the branch does not exist. */
  readonly head?: string;
  /** Commits between the base and the head that tidemark did not make (their shas). */
  readonly foreign: readonly string[];
  /** The branch already carries exactly this group's change, on a base that has not touched its files. */
  readonly holds: boolean;
}

export interface PublishFacts {
  /** The head of the target branch the run read. */
  readonly baseSha: string;
  readonly pulls: readonly PullSummary[];
  /** By group branch name. */
  readonly branches: Readonly<Record<string, BranchFacts>>;
  /** Current remote heads of merged PRs' branches (absent: the branch is gone). */
  readonly mergedHeads: Readonly<Record<string, string | undefined>>;
  /** Branches someone asked to rebuild (`/tidemark rebase|recreate`): reset and committed even when they hold the change or others' commits. */
  readonly rebase?: readonly string[];
  /** The run's now (ms), for `prHourlyLimit`. */
  readonly now?: number;
}

/** One reason a PR is closed as moot, rendered once the PR numbers of this run are known. */
export type MootPart =
  | { readonly key: string; readonly carrier: string; readonly pr?: number }
  | { readonly key: string; readonly alreadyAt: string };

export type PublishAction =
  /** Push mode: one commit on the target branch, compare-and-swap on `parent`. */
  | { readonly kind: 'commit'; readonly branch: string; readonly parent: string; readonly group: UpdateGroup }
  /** Move (or create, when `expected` is absent) a branch to `to`, only while it is at `expected`. */
  | {
      readonly kind: 'reset-branch';
      readonly branch: string;
      readonly to: string;
      readonly expected?: string;
    }
  | { readonly kind: 'comment'; readonly pr: number; readonly body: string }
  /** Labels for an open PR that has none of them (a crash between opening it and labelling it). */
  | { readonly kind: 'label-pr'; readonly pr: number; readonly labels: readonly string[] }
  /** Arm auto-merge on an open PR that should auto-merge and is not armed (a crash between opening and arming it). */
  | { readonly kind: 'enable-auto-merge'; readonly pr: number; readonly nodeId: string }
  /** Before new content lands on an armed PR that must not auto-merge (e.g. its minor bump became a major). */
  | { readonly kind: 'disable-auto-merge'; readonly pr: number; readonly nodeId: string }
  | {
      readonly kind: 'update-pr';
      readonly pr: number;
      readonly branch: string;
      readonly title?: string;
      readonly body?: string;
    }
  | {
      readonly kind: 'open-pr';
      readonly branch: string;
      readonly base: string;
      readonly title: string;
      readonly body: string;
      readonly labels: readonly string[];
      readonly autoMerge: boolean;
      readonly draft?: boolean;
      readonly reviewers?: readonly string[];
      readonly teamReviewers?: readonly string[];
      readonly assignees?: readonly string[];
    }
  | {
      readonly kind: 'close-pr';
      readonly pr: number;
      readonly branch: string;
      readonly headSha: string;
      readonly reasons: readonly MootPart[];
      readonly body: string;
    }
  | {
      readonly kind: 'delete-branch';
      readonly branch: string;
      readonly expected: string;
      readonly pr: number;
    };

/** What the plan intends for one group; apply fills in the commit and PR numbers it gets back. */
export type GroupIntent =
  | { readonly branch: string; readonly action: 'pushed' }
  | {
      readonly branch: string;
      readonly action: 'frozen';
      readonly pr?: number;
      readonly foreign: readonly string[];
    }
  /** A new PR would pass `prConcurrentLimit` or `prHourlyLimit`: it waits for a later run. */
  | { readonly branch: string; readonly action: 'limited'; readonly reason: string }
  /** Someone said `/tidemark hold` on the open PR: it is left exactly as it is. */
  | {
      readonly branch: string;
      readonly action: 'held';
      readonly pr: number;
      readonly by: string;
      readonly at: string;
    }
  | {
      readonly branch: string;
      readonly action: 'opened' | 'updated' | 'unchanged';
      readonly pr?: number;
      readonly commits: boolean;
    };

export interface PublishPlan {
  readonly groups: readonly GroupIntent[];
  readonly actions: readonly PublishAction[];
}

export function isTidemarkCommit(message: string): boolean {
  return new RegExp(`^${COMMIT_TRAILER}: `, 'm').test(message);
}

/** Tags a user declined: PRs closed without merging (and not closed by tidemark itself). */
export function skippedTagsFrom(pulls: readonly PullSummary[]): Map<string, Set<string>> {
  const skipped = new Map<string, Set<string>>();
  for (const p of pulls) {
    if (p.state !== 'closed' || p.merged || !p.meta || p.meta.closedByTidemark) continue;
    for (const pol of p.meta.policies) {
      const set = skipped.get(pol.key) ?? new Set<string>();
      set.add(pol.tag);
      skipped.set(pol.key, set);
    }
  }
  return skipped;
}

/** The labels of a new PR: `labels`, plus `labelsByLevel` when every bump of the group is of that level. */
export function labelsFor(group: UpdateGroup, settings: PublishSettings): string[] {
  const levels = new Set(group.updates.map((u) => semverLevel(u.oldTag, u.newTag)));
  const level = levels.size === 1 ? [...levels][0] : undefined;
  const extra = level ? (settings.labelsByLevel?.[level] ?? []) : [];
  return [...new Set([...settings.labels, ...extra])];
}

/**
 * Auto-merge when every update of the group allows it: a policy's own `autoMerge` decides for it, else its
 * semver level must be one the config allows.
 */
export function wantsAutoMerge(group: UpdateGroup, autoMerge: PublishSettings['autoMerge']): boolean {
  return (
    group.updates.length > 0 &&
    group.updates.every((u) => {
      if (u.autoMerge !== undefined) return u.autoMerge;
      const l = semverLevel(u.oldTag, u.newTag);
      return l !== undefined && autoMerge[l] === true;
    })
  );
}

/** A group's PR auto-merges when `wantsAutoMerge` says so and it is not a draft (a draft is never auto-merged). */
export function autoMergeFor(group: UpdateGroup, settings: PublishSettings): boolean {
  return !settings.draft && wantsAutoMerge(group, settings.autoMerge);
}

export const FROZEN_COMMENT = (shas: readonly string[]) =>
  `tidemark stopped updating this branch because it has commits it did not make (${shas
    .map((s) => s.slice(0, 7))
    .join(
      ', ',
    )}). Merge or close this PR as it is; close it and delete the branch to let tidemark start over.`;

export function planPublish(
  plan: ReconcilePlan,
  settings: PublishSettings,
  facts: PublishFacts,
): PublishPlan {
  if (settings.strategy === 'push') {
    if (plan.changes.length === 0) return { groups: [], actions: [] };
    const group: UpdateGroup = {
      kind: 'all',
      branch: settings.targetBranch,
      updates: plan.updates,
      files: plan.changes,
    };
    return {
      groups: [{ branch: settings.targetBranch, action: 'pushed' }],
      actions: [{ kind: 'commit', branch: settings.targetBranch, parent: facts.baseSha, group }],
    };
  }
  const actions: PublishAction[] = [];
  const groups: GroupIntent[] = [];
  // PR limits: open PRs count now; PRs opened in the last hour count for the hourly limit.
  let open = facts.pulls.filter((p) => p.state === 'open').length;
  const hourAgo = (facts.now ?? 0) - 3_600_000;
  let lastHour = facts.pulls.filter((p) => p.createdAt && Date.parse(p.createdAt) > hourAgo).length;
  for (const group of plan.groups) {
    const { intent, actions: a } = planGroup(group, settings, facts);
    if (intent.action === 'opened') {
      const limit =
        settings.prConcurrentLimit !== undefined && open >= settings.prConcurrentLimit
          ? `${open} tidemark PRs are open (prConcurrentLimit ${settings.prConcurrentLimit})`
          : settings.prHourlyLimit !== undefined && lastHour >= settings.prHourlyLimit
            ? `${lastHour} tidemark PRs were opened in the last hour (prHourlyLimit ${settings.prHourlyLimit})`
            : undefined;
      if (limit) {
        groups.push({ branch: group.branch, action: 'limited', reason: limit });
        continue;
      }
      open++;
      lastHour++;
    }
    groups.push(intent);
    actions.push(...a);
  }
  actions.unshift(...planGateDisarms(plan, facts.pulls, groups));
  actions.push(...planMootClosures(plan, facts.pulls, groups));
  actions.push(...planMergedBranchDeletions(facts, new Set(groups.map((g) => g.branch))));
  return { groups, actions };
}

function planGroup(
  group: UpdateGroup,
  settings: PublishSettings,
  facts: PublishFacts,
): { intent: GroupIntent; actions: PublishAction[] } {
  const branch = group.branch;
  const open = facts.pulls.find((p) => p.headRef === branch && p.state === 'open');
  const b: BranchFacts = facts.branches[branch] ?? { foreign: [], holds: false };
  const actions: PublishAction[] = [];
  const rebuild = facts.rebase?.includes(branch) === true;

  if (open?.meta?.hold) {
    const { by, at } = open.meta.hold;
    return { intent: { branch, action: 'held', pr: open.number, by, at }, actions };
  }

  if (b.head && b.foreign.length > 0 && !rebuild) {
    // Someone else committed to the branch: never overwrite it; say so once on the PR.
    if (open && !open.meta?.frozen) {
      const meta: PrMetadata = { ...(open.meta ?? metadataFor(group)), frozen: true };
      actions.push({ kind: 'comment', pr: open.number, body: FROZEN_COMMENT(b.foreign) });
      actions.push({ kind: 'update-pr', pr: open.number, branch, body: withMetadata(open.body, meta) });
    }
    return {
      intent: { branch, action: 'frozen', ...(open && { pr: open.number }), foreign: b.foreign },
      actions,
    };
  }

  const commits = !b.head || !b.holds || rebuild;
  // New content on a PR that is armed but must not auto-merge (its minor bump became a major, a policy said
  // `autoMerge: false`): disarmed first, so the new commit can never merge by itself. Arming by a person after
  // the last change is left alone until the content changes again — their consent was for that content.
  if (commits && open?.autoMerge === true && !autoMergeFor(group, settings))
    actions.push({ kind: 'disable-auto-merge', pr: open.number, nodeId: open.nodeId });
  if (commits) {
    actions.push({
      kind: 'reset-branch',
      branch,
      to: facts.baseSha,
      ...(b.head && { expected: b.head }),
    });
    actions.push({ kind: 'commit', branch, parent: facts.baseSha, group });
  }
  const title = prTitle(group, settings.commitTemplate);
  const body = prBody(group);
  if (open) {
    const stale = open.title !== title || open.body !== body;
    if (stale) actions.push({ kind: 'update-pr', pr: open.number, branch, title, body });
    // Opening and labelling are two requests: a PR left with none of its labels gets them (a PR whose labels a
    // person changed keeps at least one of them, and is left alone).
    const labels = labelsFor(group, settings);
    if (labels.length > 0 && !labels.some((l) => open.labels.includes(l)))
      actions.push({ kind: 'label-pr', pr: open.number, labels });
    // Opening and arming auto-merge are two requests too: an open PR that should auto-merge (the rule `open-pr`
    // follows) and that GitHub says is not armed is armed. Unknown (`autoMerge` absent) or a draft: left alone.
    if (autoMergeFor(group, settings) && open.autoMerge === false && !open.draft)
      actions.push({ kind: 'enable-auto-merge', pr: open.number, nodeId: open.nodeId });
    return {
      intent: { branch, action: stale || commits ? 'updated' : 'unchanged', pr: open.number, commits },
      actions,
    };
  }
  actions.push({
    kind: 'open-pr',
    branch,
    base: settings.targetBranch,
    title,
    body,
    labels: labelsFor(group, settings),
    // A draft cannot be auto-merged: draft wins.
    autoMerge: autoMergeFor(group, settings),
    ...(settings.draft && { draft: true }),
    ...(settings.reviewers?.length && { reviewers: settings.reviewers }),
    ...(settings.teamReviewers?.length && { teamReviewers: settings.teamReviewers }),
    ...(settings.assignees?.length && { assignees: settings.assignees }),
  });
  return { intent: { branch, action: 'opened', commits }, actions };
}

/**
 * Disarm auto-merge on open tidemark PRs that this run does not carry because a gate now holds one of their
 * policies (a freeze began, a schedule window closed, a tag must mature again): armed, GitHub would merge them
 * during the hold. When the hold ends the PR is carried again and re-armed (see `planGroup`). Held PRs
 * (`/tidemark hold`) are left as a person left them.
 */
export function planGateDisarms(
  plan: ReconcilePlan,
  pulls: readonly PullSummary[],
  groups: readonly GroupIntent[],
): PublishAction[] {
  const live = new Set(groups.map((g) => g.branch));
  return pulls
    .filter(
      (p) =>
        p.state === 'open' &&
        p.autoMerge === true &&
        !live.has(p.headRef) &&
        !p.meta?.hold &&
        p.meta?.policies.some((pol) => plan.perPolicy[pol.key]?.status === 'waiting'),
    )
    .map((p) => ({ kind: 'disable-auto-merge' as const, pr: p.number, nodeId: p.nodeId }));
}

/**
 * Close open tidemark PRs that no current group carries: moot when every policy they bump is already at
 * (or past) its selection on the base branch, superseded when another group now carries the update. A PR
 * whose policies' state is unknown (not selected this run) or that is frozen is left alone.
 */
export function planMootClosures(
  plan: ReconcilePlan,
  pulls: readonly PullSummary[],
  groups: readonly GroupIntent[],
): PublishAction[] {
  const live = new Set(groups.map((g) => g.branch));
  const actions: PublishAction[] = [];
  for (const p of pulls) {
    if (p.state !== 'open' || live.has(p.headRef) || !p.meta || p.meta.frozen || p.meta.hold) continue;
    const reasons = mootReasons(p.meta, plan, groups);
    if (!reasons) continue;
    actions.push({
      kind: 'close-pr',
      pr: p.number,
      branch: p.headRef,
      headSha: p.headSha,
      reasons,
      body: withMetadata(p.body, { ...p.meta, closedByTidemark: true }),
    });
  }
  return actions;
}

function mootReasons(
  meta: PrMetadata,
  plan: ReconcilePlan,
  groups: readonly GroupIntent[],
): MootPart[] | undefined {
  const parts: MootPart[] = [];
  for (const pol of meta.policies) {
    const outcome = plan.perPolicy[pol.key];
    if (outcome?.status !== 'selected') return undefined; // unknown state: leave the PR alone
    const carrier = plan.groups.find((g) => g.updates.some((u) => u.key === pol.key));
    if (carrier) {
      const intent = groups.find((g) => g.branch === carrier.branch);
      const pr = intent && 'pr' in intent ? intent.pr : undefined;
      parts.push({ key: pol.key, carrier: carrier.branch, ...(pr !== undefined && { pr }) });
    } else {
      parts.push({ key: pol.key, alreadyAt: outcome.tag });
    }
  }
  return parts.length > 0 ? parts : undefined;
}

/** Why a PR is closed as moot; `opened` maps branches to PRs this run opened. */
export function formatMootReason(parts: readonly MootPart[], opened: ReadonlyMap<string, number>): string {
  return parts
    .map((p) => {
      if ('alreadyAt' in p) return `${p.key} is already at ${p.alreadyAt} on the base branch`;
      const pr = p.pr ?? opened.get(p.carrier);
      return `${p.key} is now updated${pr ? ` in #${pr}` : ` on ${p.carrier}`}`;
    })
    .join('; ');
}

/** The comment on a PR closed as moot. */
export function formatMootComment(parts: readonly MootPart[], opened: ReadonlyMap<string, number>): string {
  return `tidemark closed this pull request: ${formatMootReason(parts, opened)}`;
}

/**
 * A merged PR's branch is deleted, over git and only while it still points at the merged head (someone may
 * have reused the name since).
 */
export function planMergedBranchDeletions(facts: PublishFacts, live: ReadonlySet<string>): PublishAction[] {
  const actions: PublishAction[] = [];
  for (const p of facts.pulls) {
    if (!p.merged || live.has(p.headRef)) continue;
    if (facts.mergedHeads[p.headRef] !== p.headSha) continue;
    actions.push({ kind: 'delete-branch', branch: p.headRef, expected: p.headSha, pr: p.number });
  }
  return actions;
}

/** A publishing action as plain JSON for people and tools: file texts left out, commit headline included. */
export function describeAction(a: PublishAction, commitHeadline: (g: UpdateGroup) => string): object {
  switch (a.kind) {
    case 'commit':
      return {
        kind: a.kind,
        branch: a.branch,
        parent: a.parent,
        headline: commitHeadline(a.group),
        files: a.group.files.map((f) => f.file),
        policies: a.group.updates.map((u) => ({ key: u.key, from: u.oldTag, to: u.newTag })),
      };
    case 'open-pr':
      return {
        kind: a.kind,
        branch: a.branch,
        base: a.base,
        title: a.title,
        labels: a.labels,
        autoMerge: a.autoMerge,
      };
    case 'update-pr':
      return { kind: a.kind, pr: a.pr, branch: a.branch, ...(a.title !== undefined && { title: a.title }) };
    case 'close-pr':
      return { kind: a.kind, pr: a.pr, branch: a.branch, reasons: a.reasons };
    default:
      return a;
  }
}
