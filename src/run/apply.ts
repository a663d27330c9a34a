/**
 * Apply a publishing plan: execute its actions, in order, through the GitHub port and the git workspace.
 * Nothing is decided here; the only logic is turning a lost compare-and-swap into `BranchMovedError` (the
 * run starts over on fresh facts) and remembering the PR numbers and commits the ports hand back.
 */
import type { Logger } from 'pino';
import { BranchMovedError } from '../core/errors.js';
import type { CommandAction } from '../core/plan/commands.js';
import { commitMessage } from '../core/plan/messages.js';
import { formatMootComment, formatMootReason, type PublishPlan } from '../core/plan/publish-plan.js';
import type { UpdateGroup } from '../core/plan/update.js';
import type { GitIdentity, RepoWorkspace } from '../git/workspace.js';
import type { GitHubPort, RepoId } from '../github/port.js';

export type GroupOutcome =
  | {
      readonly branch: string;
      readonly action: 'opened' | 'updated' | 'unchanged';
      readonly pr: number;
      readonly commit?: string;
    }
  | { readonly branch: string; readonly action: 'frozen'; readonly pr?: number }
  | { readonly branch: string; readonly action: 'held'; readonly pr: number; readonly by: string }
  | { readonly branch: string; readonly action: 'limited'; readonly reason: string }
  | { readonly branch: string; readonly action: 'pushed'; readonly commit: string };

export interface PublishResult {
  readonly groups: readonly GroupOutcome[];
  readonly closed: readonly { readonly pr: number; readonly reason: string }[];
}

export interface ApplyDeps {
  readonly github: GitHubPort;
  readonly workspace: Pick<RepoWorkspace, 'setRemoteBranch' | 'deleteRemoteBranch' | 'commitAndPush'>;
  readonly log: Pick<Logger, 'info' | 'warn'>;
}

export interface ApplySettings {
  readonly commitTemplate?: string;
  /** `api` writes Verified commits through GraphQL createCommitOnBranch; `git` pushes commits made locally. */
  readonly publisher: 'api' | 'git';
  readonly author: GitIdentity;
}

export async function applyPublishPlan(
  deps: ApplyDeps,
  repo: RepoId,
  plan: PublishPlan,
  settings: ApplySettings,
): Promise<PublishResult> {
  const { github, workspace: ws, log } = deps;
  const name = `${repo.owner}/${repo.repo}`;
  const commits = new Map<string, string>();
  const opened = new Map<string, number>();
  const closed: { pr: number; reason: string }[] = [];
  for (const a of plan.actions) {
    switch (a.kind) {
      case 'reset-branch':
        if (!(await ws.setRemoteBranch(a.branch, a.to, a.expected)))
          throw new BranchMovedError(
            a.expected
              ? `${name}@${a.branch} moved while tidemark reset it`
              : `${name}@${a.branch} appeared while tidemark created it`,
          );
        break;
      case 'commit':
        commits.set(a.branch, await writeCommit(deps, settings, repo, a.group, a.branch, a.parent));
        break;
      case 'comment':
        await github.comment(repo, a.pr, a.body);
        break;
      case 'label-pr':
        await github.addLabels(repo, a.pr, a.labels);
        log.info({ pr: a.pr, labels: a.labels }, 'pull request labelled');
        break;
      case 'disable-auto-merge':
        await github.disableAutoMerge(a.nodeId);
        log.info({ pr: a.pr }, 'auto-merge disabled: the new change must not merge by itself');
        break;
      case 'enable-auto-merge':
        await github.enableAutoMerge(a.nodeId, 'SQUASH');
        log.info({ pr: a.pr }, 'auto-merge enabled on the open pull request');
        break;
      case 'update-pr':
        await github.updatePull(repo, a.pr, {
          ...(a.title !== undefined && { title: a.title }),
          ...(a.body !== undefined && { body: a.body }),
        });
        if (a.title !== undefined) log.info({ branch: a.branch, pr: a.pr }, 'pull request updated');
        break;
      case 'open-pr': {
        const pr = await github.createPull(repo, {
          head: a.branch,
          base: a.base,
          title: a.title,
          body: a.body,
          ...(a.draft && { draft: true }),
        });
        opened.set(a.branch, pr.number);
        log.info({ branch: a.branch, pr: pr.number, commit: commits.get(a.branch) }, 'pull request opened');
        await github.addLabels(repo, pr.number, a.labels);
        if (a.reviewers?.length || a.teamReviewers?.length)
          await github.requestReviewers(repo, pr.number, {
            reviewers: a.reviewers ?? [],
            teamReviewers: a.teamReviewers ?? [],
          });
        if (a.assignees?.length) await github.addAssignees(repo, pr.number, a.assignees);
        if (a.autoMerge) await github.enableAutoMerge(pr.nodeId, 'SQUASH');
        break;
      }
      case 'close-pr': {
        const reason = formatMootReason(a.reasons, opened);
        await github.comment(repo, a.pr, formatMootComment(a.reasons, opened));
        await github.updatePull(repo, a.pr, { state: 'closed', body: a.body });
        await ws.deleteRemoteBranch(a.branch, a.headSha);
        log.info({ pr: a.pr, reason }, 'pull request closed');
        closed.push({ pr: a.pr, reason });
        break;
      }
      case 'delete-branch':
        if (await ws.deleteRemoteBranch(a.branch, a.expected))
          log.info({ branch: a.branch, pr: a.pr }, 'merged branch deleted');
        break;
    }
  }
  const groups = plan.groups.map((g): GroupOutcome => {
    const commit = commits.get(g.branch);
    switch (g.action) {
      case 'pushed':
        log.info({ branch: g.branch, commit }, 'pushed update');
        return { branch: g.branch, action: 'pushed', commit: commit! };
      case 'frozen':
        log.warn({ branch: g.branch, foreign: g.foreign }, 'branch has foreign commits; not updating it');
        return { branch: g.branch, action: 'frozen', ...(g.pr !== undefined && { pr: g.pr }) };
      case 'held':
        log.info({ branch: g.branch, pr: g.pr, by: g.by }, 'pull request held; not updating it');
        return { branch: g.branch, action: 'held', pr: g.pr, by: g.by };
      case 'limited':
        log.info({ branch: g.branch, reason: g.reason }, 'pull request not opened: limit reached');
        return { branch: g.branch, action: 'limited', reason: g.reason };
      default:
        return {
          branch: g.branch,
          action: g.action,
          pr: g.pr ?? opened.get(g.branch)!,
          ...(commit && { commit }),
        };
    }
  });
  return { groups, closed };
}

async function writeCommit(
  deps: ApplyDeps,
  settings: ApplySettings,
  repo: RepoId,
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

/**
 * Apply the answers to `/tidemark …` commands: reactions, replies, metadata and closed PRs. Nothing is decided
 * here (`core/plan/commands.ts` did); a branch is deleted only while it is where the PR left it.
 */
export async function applyCommandActions(
  deps: ApplyDeps,
  repo: RepoId,
  actions: readonly CommandAction[],
): Promise<void> {
  const { github, workspace: ws, log } = deps;
  for (const a of actions) {
    switch (a.kind) {
      case 'react':
        await github.react(repo, a.commentId, a.content);
        break;
      case 'reply':
        await github.comment(repo, a.pr, a.body);
        break;
      case 'update-pr':
        await github.updatePull(repo, a.pr, { body: a.body });
        break;
      case 'close-pr':
        await github.updatePull(repo, a.pr, { state: 'closed', body: a.body });
        if (a.deleteBranch) await ws.deleteRemoteBranch(a.deleteBranch.branch, a.deleteBranch.headSha);
        log.info({ pr: a.pr }, 'pull request closed on request');
        break;
    }
  }
}
