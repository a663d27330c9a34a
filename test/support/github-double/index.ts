/**
 * A GitHub stand-in over real HTTP for end-to-end tests. Every REST request is checked against GitHub's
 * OpenAPI description and every GraphQL document against GitHub's schema; a mismatch fails the test
 * (`assertNoValidationErrors`). Repos are real bare git repos served over smart HTTP with installation-token
 * auth; `createCommitOnBranch` is applied with git plumbing and honours `expectedHeadOid`; pushes, merges and
 * closes send signed webhooks.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { importSPKI, jwtVerify } from 'jose';
import { execGit, GIT_TEST_ENV, type GitServer, startGitServer, ZERO_SHA } from '../git-http.js';
import { validateGraphql, validateRest } from './openapi-validator.js';

export interface RecordedRequest {
  readonly kind: 'rest' | 'graphql';
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  readonly status: number;
  readonly operation?: string;
  /** A staged crash cut this request's connection: `before` it was applied, or `after` (see `crashAfter`). */
  readonly crashed?: 'before' | 'after';
}

export interface Pull {
  number: number;
  node_id: string;
  state: 'open' | 'closed';
  merged_at: string | null;
  title: string;
  body: string;
  head: { ref: string; sha: string; label: string };
  /** Who opened it (default: the App, `tidemark[bot]`). */
  author?: { login: string; type: 'User' | 'Bot' };
  /** The head's repository when it is a fork (`someone/config`); undefined: the same repository. */
  forkOf?: string;
  base: { ref: string; sha: string };
  labels: { name: string }[];
  comments: string[];
  autoMerge?: string;
  /** When it was opened (ISO); set when the App opens it. */
  createdAt?: string;
  draft?: boolean;
  reviewers?: string[];
  teamReviewers?: string[];
  assignees?: string[];
  owner: string;
  repo: string;
}

/** An issue (not a pull request). */
export interface Issue {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  author: string;
  /** Bodies it had, oldest first (the current one last). */
  history: string[];
}

/** A check run as tidemark created (and later updated) it. */
export interface CheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  head_sha: string;
  status?: string;
  conclusion?: string;
  output?: { title?: string; summary?: string; text?: string };
  /** How many times it was updated after being created. */
  updates: number;
}

interface Repo {
  id: number;
  owner: string;
  name: string;
  installationId: number;
  defaultBranch: string;
}

const BOT = { name: 'tidemark[bot]', email: '1+tidemark[bot]@users.noreply.github.com' };

export interface GitHubDouble {
  readonly url: string;
  readonly appId: number;
  readonly privateKey: string;
  readonly webhookSecret: string;
  readonly requests: RecordedRequest[];
  readonly validationErrors: string[];
  readonly git: GitServer;
  setWebhookUrl(url: string): void;
  addInstallation(account: string): number;
  addRepo(opts: {
    installationId: number;
    owner: string;
    name: string;
    files: Record<string, string>;
    defaultBranch?: string;
  }): Promise<void>;
  /** Adds `count` open PRs from people's branches (not tidemark's), newer than every PR so far. */
  addForeignPulls(owner: string, name: string, count: number): void;
  /** A pull request opened by a person (from a fork when `fork` names one), e.g. on a `tidemark/` branch. */
  openPullAsUser(
    owner: string,
    name: string,
    pr: { head: string; title: string; body: string; user: string; fork?: string },
  ): Pull;
  /** The environment that points a tidemark at this double: app id, key, webhook secret, API URL. */
  appEnv(): Record<'APP_ID' | 'PRIVATE_KEY' | 'WEBHOOK_SECRET' | 'GITHUB_API_URL', string>;
  /**
   * A one-time code, as GitHub hands the setup page after someone registers the app from its manifest
   * (`?code=` on the redirect); `POST /app-manifests/{code}/conversions` exchanges it for this app's credentials.
   */
  manifestCode(): string;
  /** Every repo, as installation id, owner and name. */
  repos(): { installationId: number; owner: string; name: string }[];
  pulls(owner: string, name: string): Pull[];
  /** A user's permission on a repo, as `GET …/collaborators/{username}/permission` reports it (default: none, 404). */
  setPermission(
    owner: string,
    name: string,
    user: string,
    permission: 'admin' | 'maintain' | 'write' | 'triage' | 'read',
  ): void;
  /**
   * A person comments on a PR (stored with an id, as GitHub does) and GitHub sends `issue_comment.created`.
   * Returns the comment's id.
   */
  commentAsUser(owner: string, name: string, number: number, user: string, body: string): Promise<number>;
  /** Issues of a repo (not pull requests), oldest first. */
  issues(owner: string, name: string): Issue[];
  /** A person edits an issue's body and GitHub sends `issues.edited` with the previous body. */
  editIssueAsUser(owner: string, name: string, number: number, user: string, body: string): Promise<void>;
  /** Reactions the app added to comments of a repo, oldest first. */
  reactions(owner: string, name: string): { commentId: number; content: string }[];
  /**
   * A person opens a PR from a new branch of the repo (made from `main`) carrying `files`; GitHub keeps
   * `refs/pull/<n>/head` and sends `pull_request.opened`. Returns the PR.
   */
  openPullFromBranch(
    owner: string,
    name: string,
    pr: { head: string; user: string; title: string; files: Record<string, string> },
  ): Promise<Pull>;
  /** Check runs on a repo, oldest first. */
  checkRuns(owner: string, name: string): CheckRun[];
  /** Revokes every installation token minted so far (API and git answer 401 to them); returns how many. */
  revokeInstallationTokens(): number;
  readFile(owner: string, name: string, ref: string, path: string): Promise<string | null>;
  branchHead(owner: string, name: string, branch: string): Promise<string | null>;
  pushAsUser(
    owner: string,
    name: string,
    branch: string,
    files: Record<string, string>,
    message: string,
  ): Promise<string>;
  mergePull(owner: string, name: string, number: number): Promise<void>;
  closePull(owner: string, name: string, number: number): Promise<void>;
  /** Send a signed webhook to the app, as GitHub would. */
  sendWebhook(name: string, payload: unknown): Promise<void>;
  /**
   * Answers `method template` (an OpenAPI path template, e.g. `/app/installations`) with `status` until the
   * returned function is called: a GitHub outage on one endpoint.
   */
  outage(method: string, template: string, status: number): () => void;
  /**
   * The next `times` requests to one endpoint are refused as GitHub refuses at a rate limit: 403 "You have
   * exceeded a secondary rate limit" or 429, with `retry-after` (seconds). Returns how many were refused so far.
   */
  rateLimit(
    method: string,
    template: string,
    opts: { status: 403 | 429; retryAfterSeconds: number; times: number },
  ): () => number;
  /** Run `fn` once, right before the next createCommitOnBranch is applied (to stage a race). */
  beforeNextCommit(fn: () => Promise<void>): void;
  /**
   * "The process died right after this step took effect": the next `times` (default 1) requests to
   * `method template` (an OpenAPI path template; `POST /graphql` with `graphql` naming the mutation, e.g.
   * `createCommitOnBranch`) are validated and fully applied, then their connection is destroyed instead of
   * answered: the client sees a reset, as a worker killed after GitHub applied its call would never see the
   * answer. Returns how many requests the crash took so far.
   */
  crashAfter(method: string, template: string, opts?: CrashOptions): () => number;
  /**
   * "The process died before this step reached GitHub": the next `times` (default 1) matching requests are
   * validated, then their connection is destroyed and nothing is applied. Returns how many it took so far.
   */
  crashBefore(method: string, template: string, opts?: CrashOptions): () => number;
  /** REST + GraphQL calls, not counting installation tokens. */
  apiCalls(): number;
  assertNoValidationErrors(): void;
  stop(): Promise<void>;
}

export interface CrashOptions {
  /** With `POST /graphql`: the mutation the crash is for (`createCommitOnBranch`, `enablePullRequestAutoMerge`). */
  readonly graphql?: string;
  /** How many matching requests the crash takes (default 1); each is cut the same way. */
  readonly times?: number;
}

interface Crash {
  readonly key: string;
  /** The GraphQL mutation it is for, and how to find it in a document. */
  readonly mutation?: { readonly name: string; readonly pattern: RegExp };
  readonly when: 'before' | 'after';
  left: number;
  taken: number;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startGitHubDouble(): Promise<GitHubDouble> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const spki = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
  const appId = 4242;
  const webhookSecret = randomBytes(16).toString('hex');
  const tokens: string[] = [`placeholder-${randomUUID()}`];
  const tokenInstallation = new Map<string, number>();
  const manifestCodes = new Set<string>();
  const installations = new Map<number, string>();
  const repos: Repo[] = [];
  const pulls: Pull[] = [];
  const requests: RecordedRequest[] = [];
  const validationErrors: string[] = [];
  let webhookUrl = '';
  let beforeCommit: (() => Promise<void>) | undefined;
  const outages = new Map<string, number>();
  /** Staged crashes, used in the order they were staged. */
  const crashes: Crash[] = [];
  /** Answers a crash-after cut: `send` destroys their connection instead of writing. */
  const cut = new WeakSet<ServerResponse>();
  /** The staged crash the request `method template` (a GraphQL `query`) takes, if any; counted as taken. */
  const takeCrash = (method: string, template: string, query?: string): Crash | undefined => {
    const c = crashes.find(
      (x) =>
        x.left > 0 &&
        x.key === `${method} ${template}` &&
        (x.mutation === undefined || (query !== undefined && x.mutation.pattern.test(query))),
    );
    if (!c) return undefined;
    c.left--;
    c.taken++;
    return c;
  };
  const stageCrash = (when: Crash['when'], method: string, template: string, o: CrashOptions = {}) => {
    const c: Crash = {
      key: `${method.toUpperCase()} ${template}`,
      ...(o.graphql && { mutation: { name: o.graphql, pattern: new RegExp(`\\b${o.graphql}\\s*\\(`) } }),
      when,
      left: o.times ?? 1,
      taken: 0,
    };
    crashes.push(c);
    return () => c.taken;
  };
  /** Staged rate-limit answers per endpoint, used in the order they were staged. */
  const limits = new Map<string, { status: number; retryAfter: number; left: number; refused: number }[]>();
  const checkRuns: CheckRun[] = [];
  const issues: Issue[] = [];
  const issueJson = (i: Issue) => ({
    id: i.number,
    node_id: `I_${i.number}`,
    number: i.number,
    title: i.title,
    body: i.body,
    state: i.state,
    user: { login: i.author, type: i.author.endsWith('[bot]') ? 'Bot' : 'User' },
    html_url: `${url}/${i.owner}/${i.repo}/issues/${i.number}`,
  });
  const permissions = new Map<string, string>();
  const reactions: { owner: string; repo: string; commentId: number; content: string }[] = [];
  const commentIds = new Map<number, { owner: string; repo: string }>();
  let nextId = 100;
  let url = '';

  const repoOf = (owner: string, name: string) => repos.find((r) => r.owner === owner && r.name === name);
  const repoJson = (r: Repo) => ({
    id: r.id,
    node_id: `R_${r.id}`,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    private: true,
    owner: { login: r.owner, id: 1, type: 'Organization' },
    default_branch: r.defaultBranch,
    clone_url: `${git.url}/${r.owner}/${r.name}.git`,
    html_url: `${url}/${r.owner}/${r.name}`,
    archived: false,
  });
  const pullJson = (p: Pull) => ({
    id: p.number,
    number: p.number,
    node_id: p.node_id,
    state: p.state,
    merged_at: p.merged_at,
    title: p.title,
    body: p.body,
    head: {
      ...p.head,
      repo: p.forkOf
        ? { ...repoJson(repoOf(p.owner, p.repo)!), full_name: p.forkOf, name: p.forkOf.split('/')[1] }
        : repoJson(repoOf(p.owner, p.repo)!),
    },
    base: { ...p.base, repo: repoJson(repoOf(p.owner, p.repo)!) },
    labels: p.labels,
    html_url: `${url}/${p.owner}/${p.repo}/pull/${p.number}`,
    user: p.author ?? { login: 'tidemark[bot]', type: 'Bot' },
    created_at: p.createdAt ?? '2026-01-01T00:00:00Z',
    draft: p.draft ?? false,
    // As GitHub reports it: null until enablePullRequestAutoMerge arms it.
    auto_merge: p.autoMerge
      ? {
          enabled_by: { login: 'tidemark[bot]', id: 1, node_id: 'BOT_1', type: 'Bot' },
          merge_method: p.autoMerge.toLowerCase(),
          commit_title: `${p.title} (#${p.number})`,
          commit_message: '',
        }
      : null,
  });

  const bare = (r: Repo) => `${git.root}/${r.owner}/${r.name}.git`;
  const revParse = async (r: Repo, ref: string) => {
    try {
      return (await execGit(bare(r), ['rev-parse', '--verify', '--quiet', ref])).trim() || null;
    } catch {
      return null;
    }
  };

  async function sendWebhook(name: string, payload: unknown): Promise<void> {
    if (!webhookUrl) return;
    const body = JSON.stringify(payload);
    await fetch(webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': name,
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': await sign(webhookSecret, body),
      },
      body,
    }).catch(() => undefined);
  }

  async function pushWebhook(
    r: Repo,
    ref: string,
    before: string,
    after: string,
    sender: { login: string; type: string },
  ) {
    const commits: { id: string; added: string[]; modified: string[]; removed: string[] }[] = [];
    if (after !== ZERO_SHA) {
      const range = before === ZERO_SHA ? after : `${before}..${after}`;
      const shas = (await execGit(bare(r), ['rev-list', '--reverse', range, '--max-count=20']))
        .trim()
        .split('\n')
        .filter(Boolean);
      for (const sha of shas) {
        const out = (
          await execGit(bare(r), ['diff-tree', '--no-commit-id', '--name-status', '-r', '--root', sha])
        ).trim();
        const c = { id: sha, added: [] as string[], modified: [] as string[], removed: [] as string[] };
        for (const line of out.split('\n').filter(Boolean)) {
          const [st, path] = line.split('\t');
          (st === 'A' ? c.added : st === 'D' ? c.removed : c.modified).push(path!);
        }
        commits.push(c);
      }
    }
    await sendWebhook('push', {
      ref,
      before,
      after,
      deleted: after === ZERO_SHA,
      created: before === ZERO_SHA,
      commits,
      repository: repoJson(r),
      installation: { id: r.installationId },
      sender,
    });
  }

  const git = await startGitServer({
    tokens,
    onPush: async (repoName, updates) => {
      const [owner, name] = repoName.replace(/\.git$/, '').split('/');
      const r = repoOf(owner!, name!);
      if (!r) return;
      // Pushes over git here come from the app (branch moves): GitHub reports them with the bot as sender.
      for (const u of updates)
        void pushWebhook(r, u.ref, u.before, u.after, { login: 'tidemark[bot]', type: 'Bot' });
    },
  });

  async function installationOf(req: IncomingMessage): Promise<number | undefined> {
    const m = /^(?:token|Bearer) (.+)$/i.exec(req.headers.authorization ?? '');
    return m ? tokenInstallation.get(m[1]!) : undefined;
  }

  /** Runs git with `input` on its stdin; resolves with its stdout. */
  function gitWithInput(cwd: string, args: string[], input: string, env: Record<string, string> = {}) {
    return new Promise<string>((resolve, reject) => {
      const p = spawn('git', args, { cwd, env: { ...process.env, ...GIT_TEST_ENV, ...env } });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`git ${args[0]} failed: ${err}`)),
      );
      p.stdin.end(input);
    });
  }

  async function createCommitOnBranch(input: {
    branch: { repositoryNameWithOwner: string; branchName: string };
    expectedHeadOid: string;
    message: { headline: string; body?: string };
    fileChanges?: { additions?: { path: string; contents: string }[]; deletions?: { path: string }[] };
  }) {
    const hook = beforeCommit;
    beforeCommit = undefined;
    await hook?.();
    const [owner, name] = input.branch.repositoryNameWithOwner.split('/');
    const r = repoOf(owner!, name!);
    if (!r)
      return {
        errors: [
          {
            type: 'NOT_FOUND',
            message: `Could not resolve to a Repository with the name '${input.branch.repositoryNameWithOwner}'.`,
          },
        ],
      };
    const ref = `refs/heads/${input.branch.branchName}`;
    const head = await revParse(r, ref);
    if (!head)
      return {
        errors: [{ type: 'NOT_FOUND', message: `A ref named "${input.branch.branchName}" does not exist` }],
      };
    if (head !== input.expectedHeadOid) {
      return {
        errors: [
          {
            type: 'STALE_DATA',
            message: `Expected branch to point to "${input.expectedHeadOid}" but it did not. Pull and try again.`,
          },
        ],
      };
    }
    const env = { GIT_INDEX_FILE: `${bare(r)}/tidemark-double-index-${randomUUID()}` };
    await execGit(bare(r), ['read-tree', head], env);
    // All additions with two git processes, not two per file: blobs written from temporary files
    // (`hash-object --stdin-paths`), then the index entries in one `update-index --index-info`.
    const additions = input.fileChanges?.additions ?? [];
    if (additions.length > 0) {
      const tmp = await mkdtemp(join(tmpdir(), 'tidemark-double-blobs-'));
      try {
        const files = await Promise.all(
          additions.map(async (a, i) => {
            const f = join(tmp, String(i));
            await writeFile(f, Buffer.from(a.contents, 'base64'));
            return f;
          }),
        );
        const oids = (
          await gitWithInput(bare(r), ['hash-object', '-w', '--stdin-paths'], `${files.join('\n')}\n`)
        )
          .trim()
          .split('\n');
        const entries = additions.map((a, i) => `100644 ${oids[i]}\t${a.path}\n`).join('');
        await gitWithInput(bare(r), ['update-index', '--add', '--index-info'], entries, env);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    for (const d of input.fileChanges?.deletions ?? [])
      await execGit(bare(r), ['update-index', '--force-remove', d.path], env);
    const tree = (await execGit(bare(r), ['write-tree'], env)).trim();
    const message = input.message.body
      ? `${input.message.headline}\n\n${input.message.body}`
      : input.message.headline;
    const ident = {
      GIT_AUTHOR_NAME: BOT.name,
      GIT_AUTHOR_EMAIL: BOT.email,
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.com',
    };
    const commit = (await execGit(bare(r), ['commit-tree', tree, '-p', head, '-m', message], ident)).trim();
    try {
      await execGit(bare(r), ['update-ref', ref, commit, head]);
    } catch {
      return {
        errors: [
          {
            type: 'STALE_DATA',
            message: `Expected branch to point to "${head}" but it did not. Pull and try again.`,
          },
        ],
      };
    }
    void pushWebhook(r, ref, head, commit, { login: 'tidemark[bot]', type: 'Bot' });
    return {
      data: {
        createCommitOnBranch: {
          commit: { oid: commit, url: `${url}/${r.owner}/${r.name}/commit/${commit}` },
        },
      },
    };
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    // A crash after the step: it took effect, and the connection dies before the answer is written.
    if (cut.has(res)) {
      res.destroy();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-limit': '5000',
      ...headers,
    });
    res.end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return send(res, 400, { message: 'Problems parsing JSON' });
    }
    let crashed: RecordedRequest['crashed'];
    const record = (kind: RecordedRequest['kind'], status: number, operation?: string) =>
      requests.push({
        kind,
        method,
        path: u.pathname,
        query: u.search,
        body,
        status,
        ...(operation && { operation }),
        ...(crashed && { crashed }),
      });
    /** A staged crash: `before` destroys the connection now (true: stop here), `after` marks the answer cut. */
    const crash = (kind: RecordedRequest['kind'], template: string, query?: string): boolean => {
      const c = takeCrash(method, template, query);
      if (!c) return false;
      crashed = c.when;
      if (c.when === 'after') {
        cut.add(res);
        return false;
      }
      record(kind, 0, kind === 'graphql' ? c.mutation?.name : template);
      res.destroy();
      return true;
    };

    if (u.pathname === '/graphql' && method === 'POST') {
      const { query, variables } = body as { query: string; variables?: { input?: unknown } };
      const problems = validateGraphql(query);
      if (problems.length > 0) {
        validationErrors.push(...problems.map((p) => `GraphQL: ${p}`));
        record('graphql', 200);
        return send(res, 200, { errors: problems.map((message) => ({ message })) });
      }
      if (!(await installationOf(req))) {
        record('graphql', 401);
        return send(res, 401, { message: 'Bad credentials' });
      }
      if (crash('graphql', '/graphql', query)) return;
      if (/createCommitOnBranch/.test(query)) {
        const result = await createCommitOnBranch(
          variables?.input as Parameters<typeof createCommitOnBranch>[0],
        );
        record('graphql', 200, 'createCommitOnBranch');
        return send(res, 200, result);
      }
      if (/enablePullRequestAutoMerge/.test(query)) {
        const input = variables?.input as { pullRequestId: string; mergeMethod: string };
        const p = pulls.find((x) => x.node_id === input.pullRequestId);
        if (p) p.autoMerge = input.mergeMethod;
        record('graphql', 200, 'enablePullRequestAutoMerge');
        return send(res, 200, { data: { enablePullRequestAutoMerge: { clientMutationId: null } } });
      }
      if (/disablePullRequestAutoMerge/.test(query)) {
        const input = variables?.input as { pullRequestId: string };
        const p = pulls.find((x) => x.node_id === input.pullRequestId);
        if (p) p.autoMerge = undefined;
        record('graphql', 200, 'disablePullRequestAutoMerge');
        return send(res, 200, { data: { disablePullRequestAutoMerge: { clientMutationId: null } } });
      }
      validationErrors.push(`GraphQL operation not implemented by the double: ${query.slice(0, 80)}`);
      record('graphql', 200);
      return send(res, 200, { errors: [{ message: 'not implemented by the double' }] });
    }

    const v = validateRest(method, u.pathname, u.searchParams, body);
    if (v.problems.length > 0) {
      validationErrors.push(...v.problems.map((p) => `${method} ${u.pathname}: ${p}`));
      record('rest', 422, v.template);
      return send(res, 422, { message: 'Validation Failed', errors: v.problems });
    }
    const t = v.template!;
    const p = u.pathname.split('/').map(decodeURIComponent);
    const limit = limits.get(`${method} ${t}`)?.find((l) => l.left > 0);
    if (limit) {
      limit.left--;
      limit.refused++;
      record('rest', limit.status, t);
      res.setHeader('retry-after', String(limit.retryAfter));
      return send(res, limit.status, {
        message:
          limit.status === 403
            ? 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'
            : 'Too many requests',
        documentation_url: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api',
      });
    }
    const down = outages.get(`${method} ${t}`);
    if (down !== undefined) {
      record('rest', down, t);
      return send(res, down, { message: 'Service unavailable (an outage staged by the test)' });
    }
    if (crash('rest', t)) return;

    if (t === '/app-manifests/{code}/conversions' && method === 'POST') {
      // Unauthenticated, as on GitHub; each code is good once.
      if (!manifestCodes.delete(p[2]!)) {
        record('rest', 404, t);
        return send(res, 404, { message: 'Not Found' });
      }
      record('rest', 201, t);
      return send(res, 201, {
        id: appId,
        slug: 'tidemark',
        node_id: 'A_1',
        name: 'tidemark',
        owner: { login: 'octocat' },
        html_url: `${url}/apps/tidemark`,
        pem,
        webhook_secret: webhookSecret,
        client_id: 'Iv1.double',
        client_secret: 'double-client-secret',
      });
    }
    if (t === '/app' || t.startsWith('/app/')) {
      const jwt = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      try {
        const { payload } = await jwtVerify(jwt ?? '', spki);
        if (String(payload.iss) !== String(appId)) throw new Error('iss');
      } catch (err) {
        if (process.env.DEBUG_DOUBLE) console.log('JWT', jwt, err);
        record('rest', 401, t);
        return send(res, 401, { message: 'A JSON web token could not be decoded' });
      }
      if (t === '/app/installations/{installation_id}/access_tokens' && method === 'POST') {
        const id = Number(p[3]);
        if (!installations.has(id)) {
          record('rest', 404, t);
          return send(res, 404, { message: 'Not Found' });
        }
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        tokens.push(token);
        tokenInstallation.set(token, id);
        record('rest', 201, t);
        return send(res, 201, {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          permissions: {},
        });
      }
      if (t === '/app' && method === 'GET') {
        record('rest', 200, t);
        return send(res, 200, {
          id: appId,
          slug: 'tidemark',
          node_id: 'A_1',
          name: 'tidemark',
          owner: { login: 'octocat' },
          html_url: `${url}/apps/tidemark`,
        });
      }
      if (t === '/app/installations' && method === 'GET') {
        record('rest', 200, t);
        return send(
          res,
          200,
          [...installations].map(([id, login]) => ({ id, account: { login }, suspended_at: null })),
        );
      }
    }
    const inst = await installationOf(req);
    if (!inst) {
      record('rest', 401, t);
      return send(res, 401, { message: 'Bad credentials' });
    }
    if (t === '/installation/repositories') {
      record('rest', 200, t);
      const list = repos.filter((r) => r.installationId === inst).map(repoJson);
      return send(res, 200, { total_count: list.length, repositories: list });
    }
    const r = p[1] === 'repos' ? repoOf(p[2]!, p[3]!) : undefined;
    if (!r || r.installationId !== inst) {
      record('rest', 404, t);
      return send(res, 404, { message: 'Not Found' });
    }
    const status = (s: number) => record('rest', s, t);
    switch (`${method} ${t}`) {
      case 'GET /repos/{owner}/{repo}':
        status(200);
        return send(res, 200, repoJson(r));
      case 'GET /repos/{owner}/{repo}/pulls': {
        const state = u.searchParams.get('state') ?? 'open';
        const list = pulls.filter(
          (x) => x.owner === r.owner && x.repo === r.name && (state === 'all' || x.state === state),
        );
        status(200);
        // Pages as GitHub does: `page` and `per_page`, and a Link header to the next page.
        const perPage = Number(u.searchParams.get('per_page') ?? 30);
        const page = Number(u.searchParams.get('page') ?? 1);
        const sorted = list.sort((a, b) => b.number - a.number);
        const next = new URL(`${u.pathname}${u.search}`, url);
        next.searchParams.set('page', String(page + 1));
        return send(
          res,
          200,
          sorted.slice((page - 1) * perPage, page * perPage).map(pullJson),
          sorted.length > page * perPage ? { link: `<${next.toString()}>; rel="next"` } : {},
        );
      }
      case 'POST /repos/{owner}/{repo}/pulls': {
        const b = body as { head: string; base: string; title: string; body?: string; draft?: boolean };
        if (
          pulls.some(
            // GitHub's rule: one open PR per head `owner:branch` (a fork's same-named branch is another head).
            (x) =>
              x.owner === r.owner &&
              x.repo === r.name &&
              x.state === 'open' &&
              x.head.label === `${r.owner}:${b.head}`,
          )
        ) {
          status(422);
          return send(res, 422, {
            message: 'Validation Failed',
            errors: [{ message: `A pull request already exists for ${r.owner}:${b.head}.` }],
          });
        }
        const headSha = await revParse(r, `refs/heads/${b.head}`);
        const baseSha = await revParse(r, `refs/heads/${b.base}`);
        if (!headSha || !baseSha) {
          status(422);
          return send(res, 422, {
            message: 'Validation Failed',
            errors: [{ field: 'head', code: 'invalid' }],
          });
        }
        const pr: Pull = {
          number: nextId++,
          node_id: `PR_${randomUUID()}`,
          state: 'open',
          merged_at: null,
          title: b.title,
          body: b.body ?? '',
          head: { ref: b.head, sha: headSha, label: `${r.owner}:${b.head}` },
          base: { ref: b.base, sha: baseSha },
          labels: [],
          comments: [],
          owner: r.owner,
          repo: r.name,
          createdAt: new Date().toISOString(),
          ...(b.draft && { draft: true }),
        };
        pulls.push(pr);
        status(201);
        return send(res, 201, pullJson(pr));
      }
      case 'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': {
        const pr = pulls.find((x) => x.owner === r.owner && x.repo === r.name && x.number === Number(p[5]));
        if (!pr) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        const b = body as { title?: string; body?: string; state?: 'open' | 'closed' };
        if (b.title !== undefined) pr.title = b.title;
        if (b.body !== undefined) pr.body = b.body;
        if (b.state !== undefined) pr.state = b.state;
        status(200);
        return send(res, 200, pullJson(pr));
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const pr = pulls.find((x) => x.owner === r.owner && x.repo === r.name && x.number === Number(p[5]));
        pr?.comments.push((body as { body: string }).body);
        status(201);
        return send(res, 201, { id: nextId++, body: (body as { body: string }).body });
      }
      case 'GET /repos/{owner}/{repo}/issues': {
        // As on GitHub, pull requests are issues too (with a `pull_request` key).
        const state = u.searchParams.get('state') ?? 'open';
        const creator = u.searchParams.get('creator');
        const all = [
          ...issues.filter((i) => i.owner === r.owner && i.repo === r.name).map(issueJson),
          ...pulls
            .filter((x) => x.owner === r.owner && x.repo === r.name)
            .map((x) => ({
              ...pullJson(x),
              user: x.author ?? { login: 'tidemark[bot]', type: 'Bot' },
              pull_request: { url: `${url}/repos/${r.owner}/${r.name}/pulls/${x.number}` },
            })),
        ].filter((i) => (state === 'all' || i.state === state) && (!creator || i.user.login === creator));
        status(200);
        return send(res, 200, all.sort((a, b) => b.number - a.number).slice(0, 100));
      }
      case 'POST /repos/{owner}/{repo}/issues': {
        const b = body as { title: string; body?: string };
        const issue: Issue = {
          number: nextId++,
          owner: r.owner,
          repo: r.name,
          title: b.title,
          body: b.body ?? '',
          state: 'open',
          author: 'tidemark[bot]',
          history: [b.body ?? ''],
        };
        issues.push(issue);
        status(201);
        return send(res, 201, issueJson(issue));
      }
      case 'PATCH /repos/{owner}/{repo}/issues/{issue_number}': {
        const issue = issues.find(
          (i) => i.owner === r.owner && i.repo === r.name && i.number === Number(p[5]),
        );
        if (!issue) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        const b = body as { title?: string; body?: string; state?: 'open' | 'closed' };
        if (b.title !== undefined) issue.title = b.title;
        if (b.body !== undefined) {
          issue.body = b.body;
          issue.history.push(b.body);
        }
        if (b.state !== undefined) issue.state = b.state;
        status(200);
        return send(res, 200, issueJson(issue));
      }
      case 'GET /repos/{owner}/{repo}/collaborators/{username}/permission': {
        const role = permissions.get(`${r.owner}/${r.name}/${p[5]}`);
        if (!role) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        // GitHub folds maintain into write and triage into read in `permission`; `role_name` keeps them.
        const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
        status(200);
        return send(res, 200, {
          permission,
          role_name: role,
          user: { login: p[5], id: 1, node_id: 'U_1', type: 'User' },
        });
      }
      case 'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions': {
        const at = commentIds.get(Number(p[6]));
        if (!at || at.owner !== r.owner || at.repo !== r.name) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        const content = (body as { content: string }).content;
        reactions.push({ owner: r.owner, repo: r.name, commentId: Number(p[6]), content });
        status(201);
        return send(res, 201, { id: nextId++, content });
      }
      case 'POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers': {
        const pr = pulls.find((x) => x.owner === r.owner && x.repo === r.name && x.number === Number(p[5]));
        if (!pr) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        const b = body as { reviewers?: string[]; team_reviewers?: string[] };
        pr.reviewers = [...(pr.reviewers ?? []), ...(b.reviewers ?? [])];
        pr.teamReviewers = [...(pr.teamReviewers ?? []), ...(b.team_reviewers ?? [])];
        status(201);
        return send(res, 201, pullJson(pr));
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/assignees': {
        const pr = pulls.find((x) => x.owner === r.owner && x.repo === r.name && x.number === Number(p[5]));
        if (!pr) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        pr.assignees = [...(pr.assignees ?? []), ...((body as { assignees?: string[] }).assignees ?? [])];
        status(201);
        return send(res, 201, { ...pullJson(pr), number: pr.number });
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/labels': {
        const pr = pulls.find((x) => x.owner === r.owner && x.repo === r.name && x.number === Number(p[5]));
        const labels = ((body as { labels: string[] }).labels ?? []).map((name) => ({ name }));
        // As on GitHub: labels are added once (sending one again is a no-op); the answer is the issue's labels.
        for (const l of labels) if (pr && !pr.labels.some((x) => x.name === l.name)) pr.labels.push(l);
        status(200);
        return send(res, 200, pr?.labels ?? labels);
      }
      case 'POST /repos/{owner}/{repo}/check-runs': {
        const b = body as Omit<CheckRun, 'id' | 'owner' | 'repo' | 'updates'>;
        const run: CheckRun = { ...b, id: nextId++, owner: r.owner, repo: r.name, updates: 0 };
        checkRuns.push(run);
        status(201);
        return send(res, 201, { ...b, id: run.id });
      }
      case 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': {
        const run = checkRuns.find((c) => c.id === Number(p[5]) && c.owner === r.owner && c.repo === r.name);
        if (!run) {
          status(404);
          return send(res, 404, { message: 'Not Found' });
        }
        Object.assign(run, body as object);
        run.updates++;
        status(200);
        return send(res, 200, run);
      }
    }
    validationErrors.push(`${method} ${t}: valid for GitHub but not implemented by the double`);
    status(501);
    return send(res, 501, { message: 'not implemented by the double' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      validationErrors.push(`double crashed: ${(err as Error).stack}`);
      if (!res.headersSent) send(res, 500, { message: 'double error' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    appId,
    privateKey: pem,
    webhookSecret,
    requests,
    validationErrors,
    git,
    setWebhookUrl(u) {
      webhookUrl = u;
    },
    addInstallation(account) {
      const id = nextId++;
      installations.set(id, account);
      return id;
    },
    async addRepo({ installationId, owner, name, files, defaultBranch = 'main' }) {
      await git.createRepo(`${owner}/${name}`, files, defaultBranch);
      repos.push({ id: nextId++, owner, name, installationId, defaultBranch });
    },
    addForeignPulls(owner, name, count) {
      for (let i = 0; i < count; i++) {
        const number = nextId++;
        pulls.push({
          number,
          node_id: `PR_foreign_${number}`,
          state: 'open',
          merged_at: null,
          title: `feature ${number}`,
          body: '',
          head: { ref: `feature/${number}`, sha: ZERO_SHA, label: `${owner}:feature/${number}` },
          author: { login: 'octocat', type: 'User' },
          base: { ref: 'main', sha: ZERO_SHA },
          labels: [],
          comments: [],
          owner,
          repo: name,
        });
      }
    },
    openPullAsUser(owner, name, pr) {
      const number = nextId++;
      const pull: Pull = {
        number,
        node_id: `PR_user_${number}`,
        state: 'open',
        merged_at: null,
        title: pr.title,
        body: pr.body,
        head: { ref: pr.head, sha: ZERO_SHA, label: `${pr.fork?.split('/')[0] ?? owner}:${pr.head}` },
        base: { ref: 'main', sha: ZERO_SHA },
        labels: [],
        comments: [],
        owner,
        repo: name,
        author: { login: pr.user, type: 'User' },
        ...(pr.fork && { forkOf: pr.fork }),
      };
      pulls.push(pull);
      return pull;
    },
    manifestCode() {
      const code = randomBytes(10).toString('hex');
      manifestCodes.add(code);
      return code;
    },
    appEnv: () => ({
      APP_ID: String(appId),
      PRIVATE_KEY: pem,
      WEBHOOK_SECRET: webhookSecret,
      GITHUB_API_URL: url,
    }),
    repos: () => repos.map((r) => ({ installationId: r.installationId, owner: r.owner, name: r.name })),
    pulls: (owner, name) => pulls.filter((x) => x.owner === owner && x.repo === name),
    readFile: (owner, name, ref, path) => git.readFile(`${owner}/${name}`, path, ref),
    async branchHead(owner, name, branch) {
      return revParse(repoOf(owner, name)!, `refs/heads/${branch}`);
    },
    async openPullFromBranch(owner, name, pr) {
      const r = repoOf(owner, name)!;
      const base = (await revParse(r, `refs/heads/${r.defaultBranch}`))!;
      await execGit(bare(r), ['update-ref', `refs/heads/${pr.head}`, base]);
      const head = await git.commitFiles(`${owner}/${name}`, pr.files, {
        branch: pr.head,
        message: pr.title,
      });
      const number = nextId++;
      await execGit(bare(r), ['update-ref', `refs/pull/${number}/head`, head]);
      const pull: Pull = {
        number,
        node_id: `PR_user_${number}`,
        state: 'open',
        merged_at: null,
        title: pr.title,
        body: '',
        head: { ref: pr.head, sha: head, label: `${owner}:${pr.head}` },
        base: { ref: r.defaultBranch, sha: base },
        labels: [],
        comments: [],
        owner,
        repo: name,
        author: { login: pr.user, type: 'User' },
      };
      pulls.push(pull);
      await sendWebhook('pull_request', {
        action: 'opened',
        number,
        pull_request: pullJson(pull),
        repository: repoJson(r),
        installation: { id: r.installationId },
        sender: { login: pr.user, type: 'User' },
      });
      return pull;
    },
    async pushAsUser(owner, name, branch, files, message) {
      const r = repoOf(owner, name)!;
      const before = (await revParse(r, `refs/heads/${branch}`)) ?? ZERO_SHA;
      const after = await git.commitFiles(`${owner}/${name}`, files, { branch, message });
      await pushWebhook(r, `refs/heads/${branch}`, before, after, { login: 'octocat', type: 'User' });
      return after;
    },
    async mergePull(owner, name, number) {
      const r = repoOf(owner, name)!;
      const pr = pulls.find((x) => x.owner === owner && x.repo === name && x.number === number)!;
      const head = (await revParse(r, `refs/heads/${pr.head.ref}`))!;
      const base = (await revParse(r, `refs/heads/${pr.base.ref}`))!;
      // Squash: the head's tree as one commit on the base (tidemark branches are based on the base tip).
      const tree = (await execGit(bare(r), ['rev-parse', `${head}^{tree}`])).trim();
      const commit = (
        await execGit(bare(r), ['commit-tree', tree, '-p', base, '-m', `${pr.title} (#${pr.number})`])
      ).trim();
      await execGit(bare(r), ['update-ref', `refs/heads/${pr.base.ref}`, commit, base]);
      pr.state = 'closed';
      pr.merged_at = new Date().toISOString();
      await pushWebhook(r, `refs/heads/${pr.base.ref}`, base, commit, { login: 'octocat', type: 'User' });
      await sendWebhook('pull_request', {
        action: 'closed',
        number,
        pull_request: pullJson(pr),
        repository: repoJson(r),
        installation: { id: r.installationId },
        sender: { login: 'octocat', type: 'User' },
      });
    },
    async closePull(owner, name, number) {
      const r = repoOf(owner, name)!;
      const pr = pulls.find((x) => x.owner === owner && x.repo === name && x.number === number)!;
      pr.state = 'closed';
      await sendWebhook('pull_request', {
        action: 'closed',
        number,
        pull_request: { ...pullJson(pr), merged: false },
        repository: repoJson(r),
        installation: { id: r.installationId },
        sender: { login: 'octocat', type: 'User' },
      });
    },
    sendWebhook,
    beforeNextCommit(fn) {
      beforeCommit = fn;
    },
    crashAfter: (method, template, o) => stageCrash('after', method, template, o),
    crashBefore: (method, template, o) => stageCrash('before', method, template, o),
    setPermission(owner, name, user, permission) {
      permissions.set(`${owner}/${name}/${user}`, permission);
    },
    async commentAsUser(owner, name, number, user, body) {
      const r = repoOf(owner, name)!;
      const pr = pulls.find((x) => x.owner === owner && x.repo === name && x.number === number);
      const id = nextId++;
      commentIds.set(id, { owner, repo: name });
      pr?.comments.push(body);
      await sendWebhook('issue_comment', {
        action: 'created',
        issue: {
          number,
          title: pr?.title ?? '',
          state: pr?.state ?? 'open',
          pull_request: { url: `${url}/repos/${owner}/${name}/pulls/${number}` },
          user: { login: 'tidemark[bot]', type: 'Bot' },
        },
        comment: { id, body, user: { login: user, type: 'User' } },
        repository: repoJson(r),
        installation: { id: r.installationId },
        sender: { login: user, type: 'User' },
      });
      return id;
    },
    issues: (owner, name) => issues.filter((i) => i.owner === owner && i.repo === name),
    async editIssueAsUser(owner, name, number, user, body) {
      const r = repoOf(owner, name)!;
      const issue = issues.find((i) => i.owner === owner && i.repo === name && i.number === number)!;
      const from = issue.body;
      issue.body = body;
      issue.history.push(body);
      await sendWebhook('issues', {
        action: 'edited',
        issue: issueJson(issue),
        changes: { body: { from } },
        repository: repoJson(r),
        installation: { id: r.installationId },
        sender: { login: user, type: 'User' },
      });
    },
    reactions: (owner, name) =>
      reactions
        .filter((x) => x.owner === owner && x.repo === name)
        .map(({ commentId, content }) => ({ commentId, content })),
    checkRuns: (owner, name) => checkRuns.filter((c) => c.owner === owner && c.repo === name),
    revokeInstallationTokens() {
      const minted = [...tokenInstallation.keys()];
      tokenInstallation.clear();
      // The git server checks the same list: keep its placeholder, drop every minted token.
      for (const t of minted) {
        const i = tokens.indexOf(t);
        if (i >= 0) tokens.splice(i, 1);
      }
      return minted.length;
    },
    rateLimit(method, template, o) {
      const entry = { status: o.status, retryAfter: o.retryAfterSeconds, left: o.times, refused: 0 };
      limits.set(`${method} ${template}`, [...(limits.get(`${method} ${template}`) ?? []), entry]);
      return () => entry.refused;
    },
    outage(method, template, status) {
      const key = `${method.toUpperCase()} ${template}`;
      outages.set(key, status);
      return () => outages.delete(key);
    },
    apiCalls: () => requests.filter((q) => !q.path.endsWith('/access_tokens')).length,
    assertNoValidationErrors() {
      if (validationErrors.length > 0)
        throw new Error(`GitHub double validation errors:\n${validationErrors.join('\n')}`);
    },
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await git.stop();
    },
  };
}
