/**
 * Probot wiring: GitHub webhooks in, jobs out. No business logic here — probot verifies the signature, the
 * handlers decide which repo a delivery concerns and enqueue a reconcile for it. All git and API work
 * happens in the worker (GitHub gives up on a delivery after 10 s).
 */
import type { Probot } from 'probot';
import type { JobReason } from '../core/domain/reasons.js';
import type { ImagePushed } from '../core/domain/types.js';
import { parseWebhook } from '../core/events/index.js';
import { commandLine } from '../core/plan/commands.js';
import { boxId, isDashboard, tickedBoxes } from '../core/plan/dashboard.js';
import { touchesConfig } from '../core/plan/preview.js';
import { isTidemarkBranch } from '../core/plan/update.js';
import type { RepoTarget } from '../state/policy-index.js';

/** A reason from a GitHub delivery: every member of the union but the registry's. */
export type GitHubReason = Exclude<JobReason, { kind: 'registry-push' }>;

export interface Dispatcher {
  /** Enqueue a reconcile of one repo. `target.cloneUrl` may be empty: the worker then looks the repo up. */
  enqueueRepo(target: RepoTarget, reason: GitHubReason): Promise<void>;
  /** Route registry pushes to the repos whose policies watch the image, and enqueue them. */
  routeImagePushes(
    events: readonly ImagePushed[],
    meta: { source: string; deliveryId?: string },
  ): Promise<number>;
  forgetInstallation(installationId: number): Promise<void>;
  forgetRepo(target: Pick<RepoTarget, 'installationId' | 'owner' | 'repo'>): Promise<void>;
  /** Called for every delivery, for metrics. */
  observed?(event: string, outcome: 'enqueued' | 'ignored' | 'failed'): void;
}

interface RepoPayload {
  name: string;
  full_name: string;
  owner?: { login?: string; name?: string } | null;
  clone_url?: string;
  default_branch?: string;
}

function targetOf(installationId: number, repo: RepoPayload): RepoTarget {
  const [owner = '', name = repo.name] = repo.full_name.split('/');
  return {
    installationId,
    owner: repo.owner?.login ?? owner,
    repo: name,
    cloneUrl: repo.clone_url ?? '',
    defaultBranch: repo.default_branch ?? '',
  };
}

/** A YAML file, a Kustomization or tidemark's own config: something whose change can change the plan. */
export { touchesConfig };

export function tidemarkApp(dispatch: Dispatcher): (app: Probot) => void {
  return (app) => {
    app.on('push', async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (!installationId || p.deleted) return dispatch.observed?.('push', 'ignored');
      const branch = p.ref.replace(/^refs\/heads\//, '');
      const repo = p.repository as unknown as RepoPayload;
      const isDefault = branch === p.repository.default_branch;
      const byHuman = p.sender?.type !== 'Bot';
      const paths = p.commits.flatMap((c) => [
        ...(c.added ?? []),
        ...(c.modified ?? []),
        ...(c.removed ?? []),
      ]);
      // GitHub lists at most 2048 files per push and 20 commits; a truncated list must not hide a change.
      const maybeTruncated = p.commits.length === 0 || p.commits.length >= 20;
      if ((isDefault && (maybeTruncated || touchesConfig(paths))) || (isTidemarkBranch(branch) && byHuman)) {
        await dispatch.enqueueRepo(targetOf(installationId, repo), {
          kind: 'github-push',
          detail: { ref: p.ref, after: p.after, delivery: context.id },
        });
        return dispatch.observed?.('push', 'enqueued');
      }
      dispatch.observed?.('push', 'ignored');
    });

    // Someone's PR opened or pushed to: the run previews what its configuration would do (a check run on its
    // head). tidemark's own PRs need no preview.
    app.on(['pull_request.opened', 'pull_request.synchronize', 'pull_request.reopened'], async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (
        !installationId ||
        (isTidemarkBranch(p.pull_request.head.ref) && p.pull_request.user?.type === 'Bot')
      )
        return dispatch.observed?.('pull_request', 'ignored');
      await dispatch.enqueueRepo(targetOf(installationId, p.repository as unknown as RepoPayload), {
        kind: 'pr-preview',
        detail: { number: p.number, headSha: p.pull_request.head.sha, delivery: context.id },
      });
      dispatch.observed?.('pull_request', 'enqueued');
    });

    app.on('pull_request.closed', async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (!installationId || !isTidemarkBranch(p.pull_request.head.ref))
        return dispatch.observed?.('pull_request', 'ignored');
      await dispatch.enqueueRepo(targetOf(installationId, p.repository as unknown as RepoPayload), {
        kind: 'pull-request-closed',
        detail: { number: p.number, merged: p.pull_request.merged === true, delivery: context.id },
      });
      dispatch.observed?.('pull_request', 'enqueued');
    });

    // `/tidemark …` in a comment on a pull request: whether the PR is tidemark's and the commenter may steer it
    // is for the run to check (it reads both from GitHub); here only the command line travels.
    app.on('issue_comment.created', async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      const text = p.issue.pull_request ? commandLine(p.comment.body ?? '') : undefined;
      if (!installationId || text === undefined || p.comment.user?.type === 'Bot')
        return dispatch.observed?.('issue_comment', 'ignored');
      await dispatch.enqueueRepo(targetOf(installationId, p.repository as unknown as RepoPayload), {
        kind: 'pr-command',
        detail: {
          number: p.issue.number,
          commentId: p.comment.id,
          user: p.comment.user?.login ?? '',
          text,
          delivery: context.id,
        },
      });
      dispatch.observed?.('issue_comment', 'enqueued');
    });

    // The dashboard issue edited by a person: the boxes they ticked travel (the run checks their permission);
    // an edit that ticks nothing still makes the run read the issue afresh, so their text is kept.
    app.on('issues.edited', async (context) => {
      const p = context.payload;
      const installationId = p.installation?.id;
      if (!installationId || p.sender?.type === 'Bot' || !isDashboard(p.issue.title, p.issue.body))
        return dispatch.observed?.('issues', 'ignored');
      const before = p.changes.body?.from;
      const boxes = before === undefined ? [] : tickedBoxes(before, p.issue.body ?? '').map(boxId);
      await dispatch.enqueueRepo(targetOf(installationId, p.repository as unknown as RepoPayload), {
        kind: 'dashboard-edit',
        detail: { issue: p.issue.number, user: p.sender.login, boxes, delivery: context.id },
      });
      dispatch.observed?.('issues', 'enqueued');
    });

    app.on(
      ['installation.created', 'installation.new_permissions_accepted', 'installation.unsuspend'],
      async (context) => {
        const p = context.payload;
        for (const r of p.repositories ?? []) {
          await dispatch.enqueueRepo(targetOf(p.installation.id, { name: r.name, full_name: r.full_name }), {
            kind: 'installation',
          });
        }
        dispatch.observed?.('installation', 'enqueued');
      },
    );

    app.on(['installation.deleted', 'installation.suspend'], async (context) => {
      await dispatch.forgetInstallation(context.payload.installation.id);
      dispatch.observed?.('installation', 'enqueued');
    });

    app.on('installation_repositories', async (context) => {
      const p = context.payload;
      for (const r of p.repositories_added) {
        await dispatch.enqueueRepo(targetOf(p.installation.id, { name: r.name, full_name: r.full_name }), {
          kind: 'installation',
        });
      }
      for (const r of p.repositories_removed) {
        const [owner = '', repo = r.name ?? ''] = (r.full_name ?? '').split('/');
        if (owner && repo) await dispatch.forgetRepo({ installationId: p.installation.id, owner, repo });
      }
      dispatch.observed?.('installation_repositories', 'enqueued');
    });

    // GHCR tells the App about pushes through these two events; they go through the same parser and
    // routing as every registry webhook.
    app.on(['registry_package', 'package'], async (context) => {
      let events: ImagePushed[];
      try {
        events = parseWebhook('github', {
          headers: { 'x-github-event': context.name, 'content-type': 'application/json' },
          body: JSON.stringify(context.payload),
        });
      } catch (err) {
        context.log.warn({ err }, 'unreadable package event');
        return dispatch.observed?.(context.name, 'ignored');
      }
      if (events.length === 0) return dispatch.observed?.(context.name, 'ignored');
      await dispatch.routeImagePushes(events, { source: `github:${context.name}`, deliveryId: context.id });
      dispatch.observed?.(context.name, 'enqueued');
    });
  };
}
