/**
 * Publish a plan: commit to the target branch (push mode) or keep one branch and PR per group up to date
 * (pull-request mode). Idempotent: a branch that already holds the planned content gets no commit, a PR whose
 * title and body are current gets no update, so a repeated event costs no API call.
 */
import { BranchMovedError } from '../errors.js';
import type { GitIdentity, RepoWorkspace } from '../git/workspace.js';
import {
  COMMIT_TRAILER,
  commitMessage,
  metadataFor,
  type PrMetadata,
  prBody,
  prTitle,
  withMetadata,
} from '../plan/messages.js';
import { semverLevel, type UpdateGroup } from '../plan/update.js';
import type { PolicyOutcome, ReconcilePlan } from '../reconcile.js';
import type { GitHubPort, PullSummary, RepoRef } from './port.js';

export interface PublishSettings {
  readonly strategy: 'pull-request' | 'push';
  /** Push mode: the branch to commit to (default: the repo's default branch). PR mode: the PRs' base. */
  readonly targetBranch: string;
  readonly commitTemplate?: string;
  readonly labels: readonly string[];
  readonly autoMerge: { readonly major?: boolean; readonly minor?: boolean; readonly patch?: boolean };
  /** `api` writes Verified commits through GraphQL createCommitOnBranch; `git` pushes commits made locally. */
  readonly publisher: 'api' | 'git';
  readonly author: GitIdentity;
}

export interface PublishLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PublishDeps {
  readonly github: GitHubPort;
  readonly workspace: RepoWorkspace;
  readonly log: PublishLogger;
}

export type GroupOutcome =
  | {
      readonly branch: string;
      readonly action: 'opened' | 'updated' | 'unchanged';
      readonly pr: number;
      readonly commit?: string;
    }
  | { readonly branch: string; readonly action: 'frozen'; readonly pr?: number }
  | { readonly branch: string; readonly action: 'pushed'; readonly commit: string };

export interface PublishResult {
  readonly groups: readonly GroupOutcome[];
  readonly closed: readonly { readonly pr: number; readonly reason: string }[];
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

export async function publishPlan(
  deps: PublishDeps,
  repo: RepoRef,
  plan: ReconcilePlan,
  settings: PublishSettings,
  ctx: { readonly baseSha: string; readonly pulls: readonly PullSummary[] },
): Promise<PublishResult> {
  if (settings.strategy === 'push') {
    if (plan.changes.length === 0) return { groups: [], closed: [] };
    const group: UpdateGroup = {
      kind: 'all',
      branch: settings.targetBranch,
      updates: plan.updates,
      files: plan.changes,
    };
    const commit = await writeCommit(deps, repo, settings, group, settings.targetBranch, ctx.baseSha);
    deps.log.info(
      { branch: settings.targetBranch, commit, policies: plan.updates.map((u) => u.key) },
      'pushed update',
    );
    return { groups: [{ branch: settings.targetBranch, action: 'pushed', commit }], closed: [] };
  }
  const outcomes: GroupOutcome[] = [];
  for (const group of plan.groups) outcomes.push(await publishPullRequest(deps, repo, settings, group, ctx));
  const closed = await closeMootPulls(deps, repo, plan, ctx.pulls, outcomes);
  await deleteMergedBranches(deps, ctx.pulls, new Set(outcomes.map((o) => o.branch)));
  return { groups: outcomes, closed };
}

async function writeCommit(
  deps: PublishDeps,
  repo: RepoRef,
  settings: PublishSettings,
  group: UpdateGroup,
  branch: string,
  parent: string,
): Promise<string> {
  const msg = commitMessage(group, settings.commitTemplate);
  if (settings.publisher === 'git') {
    const sha = await deps.workspace.commitAndPush({
      parent,
      branch,
      files: group.files.map((f) => ({ path: f.file, text: f.newText })),
      message: `${msg.headline}\n\n${msg.body}`,
      author: settings.author,
    });
    if (!sha) throw new BranchMovedError(`${repo.owner}/${repo.repo}@${branch} moved: push rejected`);
    return sha;
  }
  return deps.github.createCommitOnBranch(repo, {
    branch,
    expectedHeadOid: parent,
    headline: msg.headline,
    body: msg.body,
    additions: group.files.map((f) => ({ path: f.file, contents: f.newText })),
  });
}

/** True when the branch already carries exactly this group's change on a base that has not touched its files. */
async function branchHolds(
  ws: RepoWorkspace,
  group: UpdateGroup,
  branchHead: string,
  baseSha: string,
): Promise<boolean> {
  const mergeBase = await ws.mergeBase(baseSha, branchHead);
  if (!mergeBase) return false;
  for (const f of group.files) {
    if ((await ws.showFile(branchHead, f.file)) !== f.newText) return false;
    if (mergeBase !== baseSha && (await ws.showFile(mergeBase, f.file)) !== f.oldText) return false;
  }
  return true;
}

async function publishPullRequest(
  deps: PublishDeps,
  repo: RepoRef,
  settings: PublishSettings,
  group: UpdateGroup,
  ctx: { readonly baseSha: string; readonly pulls: readonly PullSummary[] },
): Promise<GroupOutcome> {
  const { github, workspace: ws, log } = deps;
  const branch = group.branch;
  const open = ctx.pulls.find((p) => p.headRef === branch && p.state === 'open');
  const head = await ws.remoteHead(branch);
  let commit: string | undefined;

  if (head) {
    const foreign = (await ws.commitsBetween(ctx.baseSha, head)).filter((c) => !isTidemarkCommit(c.message));
    if (foreign.length > 0) {
      if (open && !open.meta?.frozen) {
        const shas = foreign.map((c) => c.sha.slice(0, 7)).join(', ');
        await github.comment(
          repo,
          open.number,
          `tidemark stopped updating this branch because it has commits it did not make (${shas}). ` +
            'Merge or close this PR as it is; close it and delete the branch to let tidemark start over.',
        );
        const meta: PrMetadata = { ...(open.meta ?? metadataFor(group)), frozen: true };
        await github.updatePull(repo, open.number, { body: withMetadata(open.body, meta) });
      }
      log.warn({ branch, foreign: foreign.map((c) => c.sha) }, 'branch has foreign commits; not updating it');
      return { branch, action: 'frozen', ...(open && { pr: open.number }) };
    }
    if (!(await branchHolds(ws, group, head, ctx.baseSha))) {
      if (!(await ws.setRemoteBranch(branch, ctx.baseSha, head))) {
        throw new BranchMovedError(`${repo.owner}/${repo.repo}@${branch} moved while tidemark reset it`);
      }
      commit = await writeCommit(deps, repo, settings, group, branch, ctx.baseSha);
    }
  } else {
    if (!(await ws.setRemoteBranch(branch, ctx.baseSha, undefined))) {
      throw new BranchMovedError(`${repo.owner}/${repo.repo}@${branch} appeared while tidemark created it`);
    }
    commit = await writeCommit(deps, repo, settings, group, branch, ctx.baseSha);
  }

  const title = prTitle(group, settings.commitTemplate);
  const body = prBody(group);
  if (open) {
    if (open.title !== title || open.body !== body) {
      await github.updatePull(repo, open.number, { title, body });
      log.info({ branch, pr: open.number, commit }, 'pull request updated');
      return { branch, action: 'updated', pr: open.number, ...(commit && { commit }) };
    }
    return { branch, action: commit ? 'updated' : 'unchanged', pr: open.number, ...(commit && { commit }) };
  }
  const pr = await github.createPull(repo, { head: branch, base: settings.targetBranch, title, body });
  log.info({ branch, pr: pr.number, commit }, 'pull request opened');
  await github.addLabels(repo, pr.number, settings.labels);
  if (wantsAutoMerge(group, settings)) await github.enableAutoMerge(pr.nodeId, 'SQUASH');
  return { branch, action: 'opened', pr: pr.number, ...(commit && { commit }) };
}

/**
 * A merged PR's branch is deleted, over git and only while it still points at the merged head (someone may
 * have reused the name since). No API call.
 */
async function deleteMergedBranches(
  deps: PublishDeps,
  pulls: readonly PullSummary[],
  live: ReadonlySet<string>,
): Promise<void> {
  for (const p of pulls) {
    if (!p.merged || live.has(p.headRef)) continue;
    if ((await deps.workspace.remoteHead(p.headRef)) !== p.headSha) continue;
    if (await deps.workspace.deleteRemoteBranch(p.headRef, p.headSha)) {
      deps.log.info({ branch: p.headRef, pr: p.number }, 'merged branch deleted');
    }
  }
}

function wantsAutoMerge(group: UpdateGroup, settings: PublishSettings): boolean {
  const levels = group.updates.map((u) => semverLevel(u.oldTag, u.newTag));
  return levels.length > 0 && levels.every((l) => l !== undefined && settings.autoMerge[l] === true);
}

/**
 * Close open tidemark PRs that no current group carries: moot when every policy they bump is already at
 * (or past) its selection on the base branch, superseded when another group now carries the update.
 */
async function closeMootPulls(
  deps: PublishDeps,
  repo: RepoRef,
  plan: ReconcilePlan,
  pulls: readonly PullSummary[],
  outcomes: readonly GroupOutcome[],
): Promise<{ pr: number; reason: string }[]> {
  const live = new Set(outcomes.map((o) => o.branch));
  const closed: { pr: number; reason: string }[] = [];
  for (const p of pulls) {
    if (p.state !== 'open' || live.has(p.headRef) || !p.meta || p.meta.frozen) continue;
    const reason = mootReason(p.meta, plan, outcomes);
    if (!reason) continue;
    await deps.github.comment(repo, p.number, `tidemark closed this pull request: ${reason}`);
    await deps.github.updatePull(repo, p.number, {
      state: 'closed',
      body: withMetadata(p.body, { ...p.meta, closedByTidemark: true }),
    });
    await deps.workspace.deleteRemoteBranch(p.headRef, p.headSha);
    deps.log.info({ pr: p.number, reason }, 'pull request closed');
    closed.push({ pr: p.number, reason });
  }
  return closed;
}

function mootReason(
  meta: PrMetadata,
  plan: ReconcilePlan,
  outcomes: readonly GroupOutcome[],
): string | undefined {
  const reasons: string[] = [];
  for (const pol of meta.policies) {
    const outcome: PolicyOutcome | undefined = plan.perPolicy[pol.key];
    if (!outcome || outcome.status !== 'selected') return undefined; // unknown state: leave the PR alone
    const carrier = plan.groups.find((g) => g.updates.some((u) => u.key === pol.key));
    if (carrier) {
      const o = outcomes.find((x) => x.branch === carrier.branch);
      reasons.push(
        `${pol.key} is now updated${o && 'pr' in o && o.pr ? ` in #${o.pr}` : ` on ${carrier.branch}`}`,
      );
    } else {
      reasons.push(`${pol.key} is already at ${outcome.tag} on the base branch`);
    }
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
