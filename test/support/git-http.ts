/**
 * Git over smart HTTP for tests: `git http-backend` run as CGI behind a node:http server on 127.0.0.1,
 * serving bare repos under a temp root, with GitHub-like token auth (Basic with the token as password or
 * username, or `Authorization: Bearer <token>`), and an onPush hook fed with the ref updates of each push.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { makeTempDir } from './process.js';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface RefUpdate {
  /** Full ref name, e.g. refs/heads/main. */
  ref: string;
  /** Previous sha, ZERO_SHA when the ref was created. */
  before: string;
  /** New sha, ZERO_SHA when the ref was deleted. */
  after: string;
}

export interface GitRequestRecord {
  method: string;
  /** Path and query as requested. */
  path: string;
  /** Authenticated token's user part (or 'bearer'), null when anonymous. */
  user: string | null;
  status: number;
}

export interface GitServerOptions {
  /** When given, every request must carry one of these tokens; otherwise 401 with WWW-Authenticate: Basic. */
  tokens?: string[];
  /**
   * Called after a receive-pack (push) that changed refs, with the repo name ("owner/repo") and the ref
   * updates. The push's HTTP response is held until the hook settles, so when a client's push resolves the
   * hook has run. Pushes to one repo are serialized so before/after snapshots are exact.
   */
  onPush?: (repo: string, refUpdates: RefUpdate[]) => void | Promise<void>;
}

export interface CommitOptions {
  branch?: string;
  message?: string;
}

export interface GitServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Directory holding the bare repos (<root>/<owner>/<repo>.git). */
  readonly root: string;
  readonly requests: readonly GitRequestRecord[];
  /**
   * Creates a bare repo `name` ("owner/repo" or "repo"; ".git" optional) whose default branch is `branch`.
   * With files, commits them (author "Test <test@example.com>") to `branch`. Returns the clone URL
   * (without credentials; see cloneUrl for one with a token).
   */
  createRepo(name: string, files?: Record<string, string>, branch?: string): Promise<string>;
  /** Clone URL, with `x-access-token:<token>@` when a token is given. */
  cloneUrl(name: string, token?: string): string;
  /** Path of the bare repo on disk. */
  repoPath(name: string): string;
  /**
   * Commits files directly into the bare repo's branch (as if someone else pushed; no onPush call).
   * Returns the new commit sha.
   */
  commitFiles(name: string, files: Record<string, string>, opts?: CommitOptions): Promise<string>;
  /** Contents of `path` at `ref` (default: the default branch), or null when absent. */
  readFile(name: string, path: string, ref?: string): Promise<string | null>;
  /** sha of a ref/branch in the bare repo, or null when absent. */
  revParse(name: string, ref: string): Promise<string | null>;
  /** Closes the server and removes the root. Idempotent. */
  stop(): Promise<void>;
}

/** Fixed identity and no user/system config, so tests behave the same on every machine. */
export const GIT_TEST_ENV: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/**
 * Environment for simple-git clients in tests: test identity, no prompts, and an isolated HOME (so the
 * user's ~/.gitconfig is not read). simple-git 4 strips or rejects every GIT_* variable not named in its
 * `allowEnvironment` option (and refuses GIT_CONFIG_GLOBAL, EDITOR, ...), so use it together with
 * GIT_CLIENT_ALLOW_ENV, or just call testSimpleGit().
 */
export function gitClientEnv(home: string): Record<string, string> {
  const { GIT_CONFIG_GLOBAL: _global, ...rest } = GIT_TEST_ENV;
  return { PATH: process.env.PATH ?? '', HOME: home, ...rest };
}

/** The GIT_* keys of gitClientEnv, for simple-git's `allowEnvironment` option. */
export const GIT_CLIENT_ALLOW_ENV: readonly string[] = Object.keys(GIT_TEST_ENV).filter(
  (k) => k !== 'GIT_CONFIG_GLOBAL',
);

/**
 * A simple-git instance for tests in baseDir (which must exist), with the test identity and no prompts.
 * `config` entries are passed as `-c key=value` (e.g. `http.extraHeader=Authorization: Bearer ...`).
 * HOME defaults to baseDir.
 */
export function testSimpleGit(baseDir: string, opts: { config?: string[]; home?: string } = {}): SimpleGit {
  return simpleGit({
    baseDir,
    config: opts.config ?? [],
    allowEnvironment: GIT_CLIENT_ALLOW_ENV,
  }).env(gitClientEnv(opts.home ?? baseDir));
}

/** Runs git in dir with the test environment; resolves with the raw (untrimmed) stdout. */
export function execGit(
  dir: string,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd: dir, env: { ...process.env, ...GIT_TEST_ENV, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(' ')} (in ${dir}) failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** Returns a function running `git <args>` in dir (test identity, no prompts); resolves with trimmed stdout. */
export function gitIn(
  dir: string,
  extraEnv: Record<string, string> = {},
): (...args: string[]) => Promise<string> {
  return async (...args: string[]) => (await execGit(dir, args, extraEnv)).trim();
}

function normalizeName(name: string): string {
  const n = name.replace(/^\/+/, '').replace(/\.git$/, '');
  if (n === '' || n.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`git server: bad repo name "${name}" (use "owner/repo" or "repo")`);
  }
  return n;
}

/** Parses the Authorization header into the presented token (Basic password or user, or Bearer). */
function presentedToken(header: string | undefined, tokens: readonly string[]): { user: string } | null {
  if (!header) return null;
  const bearer = /^bearer\s+(\S+)$/i.exec(header);
  if (bearer) return tokens.includes(bearer[1]!) ? { user: 'bearer' } : null;
  const basic = /^basic\s+(\S+)$/i.exec(header);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  const user = i < 0 ? decoded : decoded.slice(0, i);
  const pass = i < 0 ? '' : decoded.slice(i + 1);
  if (tokens.includes(pass)) return { user: user || 'token' };
  // github.com also accepts the token as the username with an empty or dummy password.
  if (tokens.includes(user)) return { user: 'token' };
  return null;
}

async function listRefs(bareDir: string): Promise<Map<string, string>> {
  const out = await gitIn(bareDir)('for-each-ref', '--format=%(objectname) %(refname)');
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, ref] = line.split(' ');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

function diffRefs(before: Map<string, string>, after: Map<string, string>): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const [ref, sha] of after) {
    const old = before.get(ref);
    if (old !== sha) updates.push({ ref, before: old ?? ZERO_SHA, after: sha });
  }
  for (const [ref, sha] of before) if (!after.has(ref)) updates.push({ ref, before: sha, after: ZERO_SHA });
  return updates.sort((a, b) => a.ref.localeCompare(b.ref));
}

/** Runs git http-backend for one request and streams its CGI response. Resolves when the child exits. */
function runBackend(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  remoteUser: string,
  beforeEnd: () => Promise<void>,
): Promise<number> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...GIT_TEST_ENV,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      // Push over http-backend needs an authenticated user (or http.receivepack=true).
      REMOTE_USER: remoteUser,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (req.headers['git-protocol']) env.HTTP_GIT_PROTOCOL = String(req.headers['git-protocol']);
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {
      // the backend may exit before reading the whole body (e.g. on errors); its response says why
    });
    let head = Buffer.alloc(0);
    let headersDone = false;
    let status = 200;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      const lf = head.indexOf('\n\n');
      if (lf >= 0 && (sep < 0 || lf < sep)) {
        sep = lf;
        sepLen = 2;
      }
      if (sep < 0) return;
      headersDone = true;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 500;
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      const rest = head.subarray(sep + sepLen);
      if (rest.length > 0) res.write(rest);
    });
    child.on('close', (code) => {
      void (async () => {
        if (!headersDone) {
          status = 500;
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.write(`git http-backend failed (exit ${code}): ${stderr}`);
        } else if (code === 0) {
          await beforeEnd();
        }
        res.end();
        resolve(status);
      })();
    });
  });
}

export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const tmp = await makeTempDir('tidemark-git-');
  const root = join(tmp.path, 'repos');
  await mkdir(root);
  const tokens = opts.tokens ?? [];
  const requests: GitRequestRecord[] = [];
  // Per-repo chain so concurrent pushes to one repo get exact before/after ref snapshots.
  const pushChains = new Map<string, Promise<unknown>>();
  const repoPath = (name: string): string => join(root, `${normalizeName(name)}.git`);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: GitRequestRecord = { method: req.method ?? '', path: req.url ?? '', user: null, status: 0 };
    requests.push(record);
    let remoteUser = 'anonymous';
    if (tokens.length > 0) {
      const who = presentedToken(req.headers.authorization, tokens);
      if (who === null) {
        record.status = 401;
        req.resume();
        res
          .writeHead(401, {
            'www-authenticate': 'Basic realm="tidemark-test-git"',
            'content-type': 'text/plain',
          })
          .end(req.headers.authorization ? 'bad credentials\n' : 'authentication required\n');
        return;
      }
      record.user = who.user;
      remoteUser = who.user;
    }
    const isPush = req.method === 'POST' && url.pathname.endsWith('/git-receive-pack');
    if (!isPush || !opts.onPush) {
      void runBackend(root, req, res, url, remoteUser, async () => {}).then((s) => {
        record.status = s;
      });
      return;
    }
    const repo = url.pathname
      .replace(/^\/+/, '')
      .replace(/\/git-receive-pack$/, '')
      .replace(/\.git$/, '');
    const bare = join(root, `${repo}.git`);
    const onPush = opts.onPush;
    const prev = pushChains.get(repo) ?? Promise.resolve();
    const run = prev.then(async () => {
      const before = await listRefs(bare).catch(() => new Map<string, string>());
      record.status = await runBackend(root, req, res, url, remoteUser, async () => {
        const updates = diffRefs(before, await listRefs(bare));
        if (updates.length === 0) return;
        try {
          await onPush(repo, updates);
        } catch (e) {
          // A failing hook must not turn a successful push into a failed one; surface it in test output.
          console.error(`git server onPush hook failed for ${repo}:`, e);
        }
      });
    });
    pushChains.set(
      repo,
      run.catch(() => {}),
    );
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  const commitFiles = async (
    name: string,
    files: Record<string, string>,
    o: CommitOptions = {},
  ): Promise<string> => {
    const bare = repoPath(name);
    const work = await makeTempDir('tidemark-git-work-');
    try {
      const git = gitIn(work.path);
      await git('clone', '--quiet', bare, '.');
      const branch = o.branch ?? (await gitIn(bare)('symbolic-ref', '--short', 'HEAD'));
      const remoteHas = (await git('ls-remote', '--heads', 'origin', branch)) !== '';
      if (remoteHas) await git('checkout', '--quiet', branch);
      else await git('checkout', '--quiet', '--orphan', branch);
      for (const [path, content] of Object.entries(files)) {
        const full = join(work.path, path);
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
      await git('add', '-A');
      await git('commit', '--quiet', '--allow-empty', '-m', o.message ?? 'test commit');
      await git('push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
      return await git('rev-parse', 'HEAD');
    } finally {
      await work.remove();
    }
  };

  const cloneUrl = (name: string, token?: string): string => {
    const path = `${normalizeName(name)}.git`;
    return token === undefined
      ? `${url}/${path}`
      : `http://x-access-token:${encodeURIComponent(token)}@127.0.0.1:${port}/${path}`;
  };

  return {
    url,
    port,
    root,
    get requests() {
      return requests;
    },
    async createRepo(name, files, branch = 'main') {
      const bare = repoPath(name);
      await mkdir(dirname(bare), { recursive: true });
      await gitIn(root)('init', '--quiet', '--bare', '-b', branch, bare);
      // No background `git gc` after a push: it would still be writing packs when the test removes the folder.
      await gitIn(bare)('config', 'receive.autogc', 'false');
      await gitIn(bare)('config', 'gc.auto', '0');
      if (files && Object.keys(files).length > 0)
        await commitFiles(name, files, { branch, message: 'initial commit' });
      return cloneUrl(name);
    },
    cloneUrl,
    repoPath,
    commitFiles,
    async readFile(name, path, ref = 'HEAD') {
      try {
        return await execGit(repoPath(name), ['show', `${ref}:${path}`]);
      } catch {
        return null;
      }
    },
    async revParse(name, ref) {
      try {
        return await gitIn(repoPath(name))('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
      } catch {
        return null;
      }
    },
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await tmp.remove();
      })();
      return stopped;
    },
  };
}
