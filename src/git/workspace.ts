/**
 * A cached clone per repo, fetched before each run. The installation token is handed to git per command
 * through the environment (`GIT_CONFIG_*` → `http.extraHeader`): it is never written to `.git/config`, a
 * remote URL, a process argument or a log.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { type SimpleGit, simpleGit } from 'simple-git';
import type { RepoId, RepoTarget } from '../core/domain/types.js';
import { AppError } from '../core/errors.js';
import { branchMoved, parsePushPorcelain } from './push-porcelain.js';

/** What a clone needs of a repo: its name, and the HTTPS clone URL as the API returned it (no credentials). */
export type RepoCoordinates = Pick<RepoTarget, 'owner' | 'repo' | 'cloneUrl' | 'defaultBranch'>;

/** `owner/name`, for naming the cache directory and messages. */
export function fullNameOf(repo: RepoId): string {
  return `${repo.owner}/${repo.repo}`;
}

export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

const PASS_ENV = [
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LC_ALL',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
];
const AUTH_ENV_KEYS = ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0', 'GIT_TERMINAL_PROMPT'];

export function authEnv(token: string | undefined): Record<string, string> {
  const base: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  if (!token) return base;
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    ...base,
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}

/** Remove anything that looks like a credential from a git error message before it is logged or thrown. */
export function redactGitOutput(text: string, token?: string): string {
  let out = text.replace(/(Authorization:\s*(?:Basic|Bearer|token))\s+\S+/gi, '$1 [redacted]');
  out = out.replace(/(https?:\/\/)[^/@\s]+@/g, '$1[redacted]@');
  if (token) out = out.split(token).join('[redacted]');
  return out;
}

/**
 * A git command failed. Classified once, here, from what git printed: a refused credential, a missing
 * repository or branch does not get better by retrying; a dropped connection or a server error may.
 */
export class GitCommandError extends AppError {
  readonly code = 'git_failed';
  readonly retryable: boolean;
  constructor(message: string, output = message, opts?: { cause?: unknown }) {
    super(message, opts);
    this.retryable = isTransientGitFailure(output);
  }
}

/** git's own words for failures that stay failures (HTTP 401/403/404, bad credentials, no such ref). */
const PERMANENT_GIT_FAILURE =
  /Authentication failed|could not read (Username|Password)|Repository not found|The requested URL returned error: (401|403|404)|couldn't find remote ref|invalid refspec|has no branch/i;

export function isTransientGitFailure(output: string): boolean {
  return !PERMANENT_GIT_FAILURE.test(output);
}

export class RepoWorkspace {
  constructor(
    readonly dir: string,
    readonly repo: RepoCoordinates,
    private readonly token: string | undefined,
    /** Marker histories already read, by commit: a commit's history never changes (kept by `WorkspaceCache`). */
    private readonly histories?: LRUCache<string, string>,
  ) {}

  /** A small, explicit environment: simple-git refuses variables that can run programs (EDITOR, GIT_*). */
  private baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of PASS_ENV) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    return env;
  }

  private git(): SimpleGit {
    const env = this.baseEnv();
    return simpleGit({
      baseDir: this.dir,
      allowEnvironment: AUTH_ENV_KEYS,
      // GIT_CONFIG_COUNT carries only our own http.extraHeader; nothing user-controlled reaches it.
      unsafe: { allowUnsafeConfigEnvCount: true },
    }).env({ ...env, ...authEnv(this.token) });
  }

  async run(args: string[]): Promise<string> {
    try {
      return await this.git().raw(args);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new GitCommandError(
        `git ${args[0]} failed in ${fullNameOf(this.repo)}: ${redactGitOutput(msg, this.token)}`,
        msg,
      );
    }
  }

  /** Fetch every branch, then check out the default branch's tip, discarding anything left from a run. */
  async sync(): Promise<string> {
    await this.run(['fetch', '--prune', '--force', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
    const head = await this.revParse(`refs/remotes/origin/${this.repo.defaultBranch}`);
    if (!head) throw new GitCommandError(`${fullNameOf(this.repo)} has no branch ${this.repo.defaultBranch}`);
    await this.run(['checkout', '--force', '--detach', head]);
    await this.run(['clean', '-fdx', '--quiet']);
    return head;
  }

  /** Fetch a pull request's head (`refs/pull/<n>/head`, forks included); returns its commit. */
  async fetchPullHead(number: number): Promise<string> {
    const local = `refs/tidemark/pull/${number}`;
    await this.run(['fetch', '--force', 'origin', `+refs/pull/${number}/head:${local}`]);
    const sha = await this.revParse(local);
    if (!sha) throw new GitCommandError(`${fullNameOf(this.repo)}: pull request #${number} has no head`);
    return sha;
  }

  /** Paths a pull request changes: from the merge base of `base` and `head` to `head`. */
  async changedFiles(base: string, head: string): Promise<string[]> {
    const out = await this.run(['diff', '--name-only', '--no-renames', `${base}...${head}`]);
    return out.split('\n').filter((l) => l !== '');
  }

  /** A detached checkout of `sha` beside the clone (a git worktree), removed by `remove()`. */
  async checkoutAt(sha: string): Promise<{ dir: string; remove(): Promise<void> }> {
    const dir = `${this.dir}.preview-${sha.slice(0, 12)}`;
    await this.run(['worktree', 'add', '--force', '--detach', dir, sha]);
    return {
      dir,
      remove: async () => {
        await this.run(['worktree', 'remove', '--force', dir]).catch(() => undefined);
        await this.run(['worktree', 'prune']).catch(() => undefined);
      },
    };
  }

  async revParse(ref: string): Promise<string | undefined> {
    try {
      return (
        (await this.git().raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || undefined
      );
    } catch {
      return undefined;
    }
  }

  /** The fetched head of a remote branch, or undefined when it does not exist. */
  remoteHead(branch: string): Promise<string | undefined> {
    return this.revParse(`refs/remotes/origin/${branch}`);
  }

  /** Every fetched remote branch and its head, with one git process (a run looks at one per PR group). */
  async remoteHeads(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const list = await this.run([
      'for-each-ref',
      '--format=%(objectname) %(refname)',
      'refs/remotes/origin/',
    ]);
    for (const line of list.split('\n')) {
      const space = line.indexOf(' ');
      if (space < 0) continue;
      const ref = line.slice(space + 1).replace(/^refs\/remotes\/origin\//, '');
      if (ref !== 'HEAD') out.set(ref, line.slice(0, space));
    }
    return out;
  }

  /**
   * The files that differ between two commits, each with its blob id in `to` (`undefined`: deleted there) —
   * `git diff-tree`, which walks only the trees that differ. This is how a run checks what a branch holds:
   * reading a branch's files back cost about 220 ms per branch on a 10,000-file repo, listing its whole tree
   * about 100 ms with parsing; the difference from its base is a few lines.
   */
  async changedBlobs(from: string, to: string): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    const raw = await this.run(['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', from, to]);
    // `:<src mode> <dst mode> <src oid> <dst oid> <status>` NUL `<path>` NUL, per file
    const fields = raw.split('\0');
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [, dstMode, , dstOid, status] = fields[i]!.replace(/^\n?:/, '').split(' ');
      const path = fields[i + 1]!;
      if (status === 'D' || !dstOid || /^0+$/.test(dstOid)) out.set(path, undefined);
      else if (dstMode?.startsWith('100')) out.set(path, dstOid); // a file (not a link or submodule)
    }
    return out;
  }

  /** Commits reachable from `head` but not `base`, oldest first, with their full messages. */
  async commitsBetween(
    base: string,
    head: string,
  ): Promise<{ sha: string; message: string; author: string }[]> {
    const out = await this.run(['log', '--reverse', '--format=%H%x00%ae%x00%B%x1e', `${base}..${head}`]);
    return out
      .split('\x1e')
      .map((s) => s.replace(/^\n/, ''))
      .filter((s) => s.trim() !== '')
      .map((s) => {
        const [sha, author, message] = s.split('\x00');
        return { sha: sha!, author: author ?? '', message: message ?? '' };
      });
  }

  /**
   * The newest `limit` commits under `path` (from `head`) whose diff adds or removes an `$imagepolicy` marker
   * line, each with its author, date, message and zero-context patch — records split by 0x1e, fields by 0x1f
   * (parsed by `core/plan/rollback.ts`). Merge commits are left out: their changes are in the merged commits.
   */
  async markerHistory(head: string, path: string, limit = 200): Promise<string> {
    // A repeated run on an unchanged default branch (a periodic reconcile, a push of an older tag) reads it once.
    const key = /^[0-9a-f]{40,64}$/.test(head) ? `${this.dir}\0${head}\0${path}\0${limit}` : undefined;
    const known = key === undefined ? undefined : this.histories?.get(key);
    if (known !== undefined) return known;
    const history = await this.run([
      'log',
      `-n${limit}`,
      '--no-merges',
      '--no-color',
      '--no-ext-diff',
      '--format=%x1e%H%x1f%an%x1f%ae%x1f%cI%x1f%B%x1f',
      '-p',
      '-U0',
      '-G\\$imagepolicy',
      head,
      '--',
      path === '' ? '.' : path,
    ]);
    if (key) this.histories?.set(key, history);
    return history;
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    try {
      return (await this.git().raw(['merge-base', a, b])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Point a remote branch at `sha`, but only if it still is where we last saw it (`expected`, or absent when
   * undefined): git's own compare-and-swap. Returns false when someone else moved it.
   */
  async setRemoteBranch(branch: string, sha: string, expected: string | undefined): Promise<boolean> {
    const lease = `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`;
    try {
      await this.git().raw(['push', '--porcelain', lease, 'origin', `${sha}:refs/heads/${branch}`]);
      return true;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (branchMoved(parsePushPorcelain(msg))) return false;
      throw new GitCommandError(
        `git push ${branch} failed in ${fullNameOf(this.repo)}: ${redactGitOutput(msg, this.token)}`,
      );
    }
  }

  async deleteRemoteBranch(branch: string, expected?: string): Promise<boolean> {
    const args = ['push', '--porcelain'];
    if (expected) args.push(`--force-with-lease=refs/heads/${branch}:${expected}`);
    args.push('origin', `:refs/heads/${branch}`);
    try {
      await this.git().raw(args);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The `git push` publisher: commit the given files on top of `parent` and push to `branch` without force.
   * Returns the new sha, or undefined when the push was rejected because the branch moved.
   */
  async commitAndPush(opts: {
    parent: string;
    branch: string;
    files: readonly { path: string; text: string }[];
    message: string;
    author: GitIdentity;
  }): Promise<string | undefined> {
    await this.run(['checkout', '--force', '--detach', opts.parent]);
    for (const f of opts.files) await writeFile(join(this.dir, f.path), f.text);
    await this.run(['add', '--', ...opts.files.map((f) => f.path)]);
    const ident = ['-c', `user.name=${opts.author.name}`, '-c', `user.email=${opts.author.email}`];
    await this.run([...ident, 'commit', '--no-verify', '--quiet', '-m', opts.message]);
    const sha = (await this.run(['rev-parse', 'HEAD'])).trim();
    try {
      await this.git().raw(['push', '--porcelain', 'origin', `${sha}:refs/heads/${opts.branch}`]);
      return sha;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (branchMoved(parsePushPorcelain(msg))) return undefined;
      throw new GitCommandError(
        `git push ${opts.branch} failed in ${fullNameOf(this.repo)}: ${redactGitOutput(msg, this.token)}`,
      );
    }
  }

  async readWorkingFile(path: string): Promise<string> {
    return readFile(join(this.dir, path), 'utf8');
  }

  /** Every tracked file path at HEAD, `/`-separated. */
  async listFiles(): Promise<string[]> {
    const out = await this.run(['ls-files', '-z']);
    return out.split('\0').filter((p) => p !== '');
  }
}

/** Hands out workspaces from a cache directory: one clone per repo, reused across runs. */
export class WorkspaceCache {
  /** Marker histories by commit, shared by the workspaces handed out (bounded by their total length). */
  private readonly histories = new LRUCache<string, string>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (v) => v.length + 1,
  });
  constructor(private readonly root: string) {}

  private dirFor(repo: RepoCoordinates): string {
    const hash = createHash('sha256').update(repo.cloneUrl).digest('hex').slice(0, 16);
    return join(this.root, `${dirPrefix(fullNameOf(repo))}-${hash}`);
  }

  async open(repo: RepoCoordinates, token: string | undefined): Promise<RepoWorkspace> {
    const dir = this.dirFor(repo);
    const ws = new RepoWorkspace(dir, repo, token, this.histories);
    const exists = await stat(join(dir, '.git')).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await ws.run(['init', '--quiet', '-b', repo.defaultBranch]);
      await ws.run(['remote', 'add', 'origin', repo.cloneUrl]);
    } else {
      // The clone URL may change (a renamed repo): keep the remote in step, still without credentials.
      await ws.run(['remote', 'set-url', 'origin', repo.cloneUrl]);
    }
    return ws;
  }

  async forget(repo: RepoCoordinates): Promise<void> {
    await rm(this.dirFor(repo), { recursive: true, force: true });
  }

  /** Deletes every clone of `owner/name` (whatever its clone URL was): the repo left the installation. */
  async forgetByName(repo: RepoId): Promise<number> {
    const fullName = fullNameOf(repo);
    const own = new RegExp(`^${dirPrefix(fullName).replace(/[.]/g, '\\.')}-[0-9a-f]{16}$`);
    const names = await readdir(this.root).catch(() => [] as string[]);
    const mine = names.filter((n) => own.test(n));
    for (const n of mine) await rm(join(this.root, n), { recursive: true, force: true });
    return mine.length;
  }
}

function dirPrefix(fullName: string): string {
  return fullName.replace(/[^A-Za-z0-9._-]+/g, '_');
}
