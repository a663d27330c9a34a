/**
 * The GitHub operations tidemark performs, over an installation's octokit. Errors are classified here, once:
 * a moved branch becomes BranchMovedError, 5xx/429/secondary rate limits become retryable GitHubApiErrors.
 */
import type { ProbotOctokit } from 'probot';
import type { Permission, PullRequestFacts, RepoId } from '../core/domain/types.js';
import { BranchMovedError, GitHubApiError } from '../core/errors.js';

export type Octokit = InstanceType<typeof ProbotOctokit>;

export type { RepoId };

export interface CommitRequest {
  readonly branch: string;
  readonly expectedHeadOid: string;
  readonly headline: string;
  readonly body: string;
  readonly additions: readonly { readonly path: string; readonly contents: string }[];
  readonly deletions?: readonly string[];
}

export interface GitHubPort {
  /** Pull requests, newest updated first: every open one, and closed ones up to MAX_PULL_PAGES pages. */
  listPulls(repo: RepoId): Promise<PullRequestFacts[]>;
  createCommitOnBranch(repo: RepoId, req: CommitRequest): Promise<string>;
  createPull(
    repo: RepoId,
    pr: { head: string; base: string; title: string; body: string; draft?: boolean },
  ): Promise<PullRequestFacts>;
  /** Asks users and teams (slugs) to review a PR. */
  requestReviewers(
    repo: RepoId,
    number: number,
    who: { reviewers: readonly string[]; teamReviewers: readonly string[] },
  ): Promise<void>;
  addAssignees(repo: RepoId, number: number, assignees: readonly string[]): Promise<void>;
  updatePull(
    repo: RepoId,
    number: number,
    patch: { title?: string; body?: string; state?: 'open' | 'closed' },
  ): Promise<void>;
  addLabels(repo: RepoId, number: number, labels: readonly string[]): Promise<void>;
  comment(repo: RepoId, number: number, body: string): Promise<void>;
  enableAutoMerge(pullNodeId: string, method: 'MERGE' | 'SQUASH' | 'REBASE'): Promise<void>;
  disableAutoMerge(pullNodeId: string): Promise<void>;
  /** Open issues (not pull requests) opened by `creator`, newest first, at most 100. */
  listOpenIssues(repo: RepoId, creator: string): Promise<{ number: number; title: string; body: string }[]>;
  createIssue(repo: RepoId, issue: { title: string; body: string }): Promise<number>;
  updateIssue(repo: RepoId, number: number, body: string): Promise<void>;
  /** A user's permission on the repo (`none` when they are not a collaborator). */
  permission(repo: RepoId, user: string): Promise<Permission>;
  /** Adds a reaction to an issue or PR comment. */
  react(repo: RepoId, commentId: number, content: '+1' | '-1' | 'confused'): Promise<void>;
  /** Creates the `tidemark` check run on a commit; returns its id. */
  createCheckRun(repo: RepoId, run: CheckRunContent & { headSha: string }): Promise<number>;
  /** Replaces a check run's conclusion and output in place. */
  updateCheckRun(repo: RepoId, id: number, run: CheckRunContent): Promise<void>;
}

export interface CheckRunContent {
  readonly conclusion: 'success' | 'failure' | 'neutral';
  readonly title: string;
  readonly summary: string;
  readonly text?: string;
  /** The check's name (default `tidemark`). */
  readonly name?: string;
  /** Line annotations (at most 50, as GitHub takes per request). */
  readonly annotations?: readonly {
    readonly path: string;
    readonly start_line: number;
    readonly end_line: number;
    readonly annotation_level: 'failure' | 'warning' | 'notice';
    readonly message: string;
  }[];
}

/** GitHub's limit on a check run's `output.text` and `output.summary` (65,535 characters each). */
const CHECK_OUTPUT_MAX = 65_535;

function checkOutput(run: CheckRunContent) {
  const cut = (s: string) =>
    s.length <= CHECK_OUTPUT_MAX ? s : `${s.slice(0, CHECK_OUTPUT_MAX - 40)}\n\n… (truncated by tidemark)`;
  return {
    title: run.title,
    summary: cut(run.summary),
    ...(run.text && { text: cut(run.text) }),
    ...(run.annotations?.length && { annotations: run.annotations.slice(0, 50).map((a) => ({ ...a })) }),
  };
}

interface RawPull {
  number: number;
  node_id: string;
  state: string;
  merged_at?: string | null;
  head: { ref: string; sha: string; repo?: { full_name?: string } | null };
  base: { ref: string; repo?: { full_name?: string } | null };
  user?: { login?: string } | null;
  title: string;
  body?: string | null;
  html_url: string;
  labels?: { name?: string }[];
  created_at?: string;
  draft?: boolean;
  auto_merge?: object | null;
}

function toFacts(p: RawPull): PullRequestFacts {
  const body = p.body ?? '';
  return {
    number: p.number,
    nodeId: p.node_id,
    state: p.state === 'open' ? 'open' : 'closed',
    merged: !!p.merged_at,
    headRef: p.head.ref,
    headSha: p.head.sha,
    baseRef: p.base.ref,
    title: p.title,
    body,
    htmlUrl: p.html_url,
    labels: (p.labels ?? []).map((l) => l.name ?? '').filter((n) => n !== ''),
    author: p.user?.login ?? '',
    // A deleted fork has no head repository: it is not the base repository either.
    fromFork: !p.head.repo?.full_name || p.head.repo.full_name !== p.base.repo?.full_name,
    ...(p.created_at && { createdAt: p.created_at }),
    // Always in GitHub's pull request object: null until auto-merge is enabled, and again once it is disabled.
    ...(p.auto_merge !== undefined && { autoMerge: p.auto_merge !== null }),
    ...(p.draft !== undefined && { draft: p.draft }),
  };
}

/** GitHub's 422 "A pull request already exists for owner:branch." */
function isAlreadyExists(err: unknown): boolean {
  const e = err as {
    status?: number;
    message?: string;
    response?: { data?: { errors?: { message?: string }[] } };
  };
  return (
    e.status === 422 &&
    [e.message ?? '', ...(e.response?.data?.errors ?? []).map((x) => x.message ?? '')].some((m) =>
      /pull request already exists/i.test(m),
    )
  );
}

/** Map an octokit error to a classified error. */
export function classifyGitHubError(err: unknown, what: string): Error {
  const e = err as { status?: number; message?: string; response?: { headers?: Record<string, string> } };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const headers = e.response?.headers ?? {};
  // GitHub's primary limit answers 403/429 with `x-ratelimit-remaining: 0`; a secondary limit with
  // `retry-after` (docs: "Rate limits for the REST API"). Any other 403 is a permission problem.
  const rateLimited = headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined;
  const retryable =
    status === undefined || status >= 500 || status === 429 || (status === 403 && rateLimited);
  // GitHub says how long to wait: `retry-after` (seconds; secondary limits, 429), or at the primary limit
  // `x-ratelimit-reset` (epoch seconds). The queue waits at least that long before the retry.
  const after = Number(headers['retry-after']);
  const reset = Number(headers['x-ratelimit-reset']);
  const retryAfterMs =
    Number.isFinite(after) && after > 0
      ? after * 1000
      : headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset)
        ? Math.max(0, reset * 1000 - Date.now())
        : undefined;
  return new GitHubApiError(
    `${what}: ${status ?? 'network error'} ${e.message ?? ''}`.trim(),
    status,
    retryable,
    { cause: err, ...(retryAfterMs !== undefined && retryable && { retryAfterMs }) },
  );
}

const CREATE_COMMIT = /* GraphQL */ `
  mutation ($input: CreateCommitOnBranchInput!) {
    createCommitOnBranch(input: $input) {
      commit {
        oid
      }
    }
  }
`;

const ENABLE_AUTO_MERGE = /* GraphQL */ `
  mutation ($input: EnablePullRequestAutoMergeInput!) {
    enablePullRequestAutoMerge(input: $input) {
      clientMutationId
    }
  }
`;

const DISABLE_AUTO_MERGE = /* GraphQL */ `
  mutation ($input: DisablePullRequestAutoMergeInput!) {
    disablePullRequestAutoMerge(input: $input) {
      clientMutationId
    }
  }
`;

/** Pages of pull requests read per run (100 each); open PRs are always read completely. */
export const MAX_PULL_PAGES = 10;

export function octokitPort(octokit: Octokit): GitHubPort {
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classifyGitHubError(err, what);
    }
  };
  return {
    async listPulls({ owner, repo }) {
      // Every page, newest first: in a busy repo tidemark's PRs (open ones, and declined versions) may be far
      // down the list. Bounded at MAX_PULL_PAGES; past that, the open ones are still listed completely.
      const list = (state: 'all' | 'open', maxPages: number) =>
        call('list pull requests', async () => {
          const raw: RawPull[] = [];
          let pages = 0;
          for await (const res of octokit.paginate.iterator(octokit.rest.pulls.list, {
            owner,
            repo,
            state,
            sort: 'updated',
            direction: 'desc',
            per_page: 100,
          })) {
            raw.push(...(res.data as RawPull[]));
            if (++pages >= maxPages) return { raw, complete: false };
          }
          return { raw, complete: true };
        });
      const all = await list('all', MAX_PULL_PAGES);
      let raw = all.raw;
      if (!all.complete) {
        const seen = new Set(raw.map((p) => p.number));
        raw = raw.concat(
          (await list('open', Number.POSITIVE_INFINITY)).raw.filter((p) => !seen.has(p.number)),
        );
      }
      return raw.map(toFacts);
    },
    async createCommitOnBranch({ owner, repo }, req) {
      try {
        const res = await octokit.graphql<{ createCommitOnBranch: { commit: { oid: string } } }>(
          CREATE_COMMIT,
          {
            input: {
              branch: { repositoryNameWithOwner: `${owner}/${repo}`, branchName: req.branch },
              expectedHeadOid: req.expectedHeadOid,
              message: { headline: req.headline, body: req.body },
              fileChanges: {
                additions: req.additions.map((a) => ({
                  path: a.path,
                  contents: Buffer.from(a.contents, 'utf8').toString('base64'),
                })),
                deletions: (req.deletions ?? []).map((path) => ({ path })),
              },
            },
          },
        );
        return res.createCommitOnBranch.commit.oid;
      } catch (err) {
        const errors = (err as { errors?: { type?: string; message?: string }[] }).errors ?? [];
        // GitHub answers a failed compare-and-swap with STALE_DATA ("Expected branch to point to … but it did not").
        if (errors.some((x) => x.type === 'STALE_DATA')) {
          throw new BranchMovedError(
            `${owner}/${repo}@${req.branch} moved since ${req.expectedHeadOid.slice(0, 7)}`,
            { cause: err },
          );
        }
        throw classifyGitHubError(err, 'createCommitOnBranch');
      }
    },
    async createPull({ owner, repo }, pr) {
      try {
        const res = await octokit.rest.pulls.create({ owner, repo, ...pr, maintainer_can_modify: true });
        return toFacts(res.data as RawPull);
      } catch (err) {
        // The PR exists already (a crash after creating it, or a stale PR list): not a failure to report, but a
        // state to read afresh — the queue runs the repo again and that run adopts and updates the PR.
        if (isAlreadyExists(err))
          throw new BranchMovedError(
            `${owner}/${repo}: a pull request from ${pr.head} already exists; the run will read PRs afresh and update it`,
            { cause: err },
          );
        throw classifyGitHubError(err, 'create pull request');
      }
    },
    async updatePull({ owner, repo }, number, patch) {
      await call('update pull request', () =>
        octokit.rest.pulls.update({ owner, repo, pull_number: number, ...patch }),
      );
    },
    async requestReviewers({ owner, repo }, number, who) {
      await call('request reviewers', () =>
        octokit.rest.pulls.requestReviewers({
          owner,
          repo,
          pull_number: number,
          reviewers: [...who.reviewers],
          team_reviewers: [...who.teamReviewers],
        }),
      );
    },
    async addAssignees({ owner, repo }, number, assignees) {
      await call('add assignees', () =>
        octokit.rest.issues.addAssignees({ owner, repo, issue_number: number, assignees: [...assignees] }),
      );
    },
    async addLabels({ owner, repo }, number, labels) {
      if (labels.length === 0) return;
      await call('add labels', () =>
        octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels: [...labels] }),
      );
    },
    async comment({ owner, repo }, number, body) {
      await call('comment', () =>
        octokit.rest.issues.createComment({ owner, repo, issue_number: number, body }),
      );
    },
    async enableAutoMerge(pullNodeId, method) {
      await call('enable auto-merge', () =>
        octokit.graphql(ENABLE_AUTO_MERGE, { input: { pullRequestId: pullNodeId, mergeMethod: method } }),
      );
    },
    async disableAutoMerge(pullNodeId) {
      await call('disable auto-merge', () =>
        octokit.graphql(DISABLE_AUTO_MERGE, { input: { pullRequestId: pullNodeId } }),
      );
    },
    async listOpenIssues({ owner, repo }, creator) {
      const res = await call('list issues', () =>
        octokit.rest.issues.listForRepo({ owner, repo, state: 'open', creator, per_page: 100 }),
      );
      return res.data
        .filter((i) => !i.pull_request)
        .map((i) => ({ number: i.number, title: i.title, body: i.body ?? '' }));
    },
    async createIssue({ owner, repo }, issue) {
      const res = await call('create issue', () => octokit.rest.issues.create({ owner, repo, ...issue }));
      return res.data.number;
    },
    async updateIssue({ owner, repo }, number, body) {
      await call('update issue', () =>
        octokit.rest.issues.update({ owner, repo, issue_number: number, body }),
      );
    },
    async permission({ owner, repo }, user) {
      try {
        const res = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: user });
        // `role_name` tells maintain and triage apart; `permission` folds them into write and read.
        const role = (res.data as { role_name?: string }).role_name;
        const p = role === 'maintain' || role === 'triage' ? role : res.data.permission;
        return (['admin', 'maintain', 'write', 'triage', 'read'] as const).find((x) => x === p) ?? 'none';
      } catch (err) {
        // GitHub answers 404 for a user who is not a collaborator (or does not exist).
        if ((err as { status?: number }).status === 404) return 'none';
        throw classifyGitHubError(err, 'read permission');
      }
    },
    async react({ owner, repo }, commentId, content) {
      await call('react', () =>
        octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: commentId, content }),
      );
    },
    async createCheckRun({ owner, repo }, run) {
      const res = await call('create check run', () =>
        octokit.rest.checks.create({
          owner,
          repo,
          name: run.name ?? 'tidemark',
          head_sha: run.headSha,
          status: 'completed',
          conclusion: run.conclusion,
          output: checkOutput(run),
        }),
      );
      return res.data.id;
    },
    async updateCheckRun({ owner, repo }, id, run) {
      await call('update check run', () =>
        octokit.rest.checks.update({
          owner,
          repo,
          check_run_id: id,
          status: 'completed',
          conclusion: run.conclusion,
          output: checkOutput(run),
        }),
      );
    },
  };
}
