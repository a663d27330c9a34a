import { execFileSync } from 'node:child_process';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/core/errors.js';
import {
  GitCommandError,
  isTransientGitFailure,
  redactGitOutput,
  WorkspaceCache,
} from '../../src/git/workspace.js';
import { blobId } from '../../src/run/collect-publish.js';
import { type GitServer, startGitServer } from '../support/git-http.js';
import { makeTempDir, type TempDir } from '../support/process.js';

const TOKEN = 'ghs_test_installation_token_0123456789';

describe('git workspace over smart HTTP', () => {
  let server: GitServer;
  let cacheDir: TempDir;
  let cloneUrl: string;

  beforeAll(async () => {
    server = await startGitServer({ tokens: [TOKEN] });
    cloneUrl = await server.createRepo('acme/config', {
      'apps/web.yaml': 'image: web:1.0.0\n',
      'README.md': '# config\n',
    });
    cacheDir = await makeTempDir('tidemark-ws-');
  });
  afterAll(async () => {
    await server?.stop();
    await cacheDir?.remove();
  });

  const repo = () => ({ owner: 'acme', repo: 'config', cloneUrl, defaultBranch: 'main' });

  it('clones, checks out the default branch and never stores the token', async () => {
    const ws = await new WorkspaceCache(cacheDir.path).open(repo(), TOKEN);
    const head = await ws.sync();
    expect(head).toBe(await server.revParse('acme/config', 'main'));
    expect(await ws.readWorkingFile('apps/web.yaml')).toBe('image: web:1.0.0\n');
    expect(await ws.listFiles()).toEqual(['README.md', 'apps/web.yaml']);
    const config = await readFile(join(ws.dir, '.git', 'config'), 'utf8');
    expect(config).not.toContain(TOKEN);
    expect(config).toContain(cloneUrl);
  });

  it('lists the files two commits differ in, with their blob ids, as git hashes the content', async () => {
    const name = 'acme/changes';
    const url = await server.createRepo(name, { 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n', 'c.yaml': 'c: 1\n' });
    const from = await server.revParse(name, 'main');
    await server.commitFiles(name, { 'a.yaml': 'a: 2\n', 'd/e.yaml': 'e: 1\n' });
    const ws = await new WorkspaceCache(cacheDir.path).open(
      { owner: 'acme', repo: 'changes', cloneUrl: url, defaultBranch: 'main' },
      TOKEN,
    );
    const to = await ws.sync();
    const changed = await ws.changedBlobs(from!, to);
    expect([...changed.keys()].sort()).toEqual(['a.yaml', 'd/e.yaml']);
    // The id a branch holds for a planned text is the one computed for it here…
    expect(changed.get('a.yaml')).toBe(blobId('a: 2\n'));
    expect(changed.get('d/e.yaml')).toBe(blobId('e: 1\n'));
    expect(changed.get('a.yaml')).not.toBe(blobId('a: 3\n'));
    // …and the one git itself computes.
    const byGit = execFileSync('git', ['hash-object', '--stdin'], { input: 'a: 2\n' });
    expect(changed.get('a.yaml')).toBe(byGit.toString().trim());
    expect((await ws.changedBlobs(to, to)).size).toBe(0);
  });

  it("a commit's marker history is read once, then served by the cache", async () => {
    const cache = new WorkspaceCache(cacheDir.path);
    const name = 'acme/history';
    const url = await server.createRepo(name, { 'app.yaml': 'image: web:1.0.0\n' });
    await server.commitFiles(name, {
      'app.yaml': 'image: web:1.1.0 # {"$imagepolicy": "flux-system:web"}\n',
    });
    const hws = await cache.open(
      { owner: 'acme', repo: 'history', cloneUrl: url, defaultBranch: 'main' },
      TOKEN,
    );
    const head = await hws.sync();
    const first = await hws.markerHistory(head, '.');
    expect(first).toContain('$imagepolicy');
    // A workspace the same cache hands out later (the next run) shares it.
    const again = await cache.open(
      { owner: 'acme', repo: 'history', cloneUrl: url, defaultBranch: 'main' },
      TOKEN,
    );
    // Without a usable repository, only the cache can answer.
    await rename(join(hws.dir, '.git'), join(hws.dir, '.git-away'));
    try {
      expect(await hws.markerHistory(head, '.')).toBe(first);
      expect(await again.markerHistory(head, '.')).toBe(first);
      await expect(hws.markerHistory(head, 'apps')).rejects.toThrow();
    } finally {
      await rm(join(hws.dir, '.git'), { recursive: true, force: true });
      await rename(join(hws.dir, '.git-away'), join(hws.dir, '.git'));
    }
  });

  it('fails with a redacted message on a wrong token', async () => {
    const ws = await new WorkspaceCache(cacheDir.path).open(
      { ...repo(), repo: 'config-wrong' },
      'wrong-token-value-123',
    );
    const err = await ws.sync().catch((e: Error) => e);
    expect(err).toBeInstanceOf(GitCommandError);
    expect((err as Error).message).not.toContain('wrong-token-value-123');
    // A refused credential is permanent: the queue must not retry it.
    expect(isRetryable(err)).toBe(false);
  });

  it('classifies git failures: refused or missing is permanent, a dropped connection is transient', () => {
    expect(isTransientGitFailure("fatal: Authentication failed for 'http://127.0.0.1/acme/x.git/'")).toBe(
      false,
    );
    expect(isTransientGitFailure("fatal: repository 'http://h/x.git/' not found\nRepository not found")).toBe(
      false,
    );
    expect(isTransientGitFailure('fatal: unable to access: The requested URL returned error: 403')).toBe(
      false,
    );
    expect(isTransientGitFailure("fatal: couldn't find remote ref refs/heads/main")).toBe(false);
    expect(isTransientGitFailure('fatal: unable to access: The requested URL returned error: 502')).toBe(
      true,
    );
    expect(
      isTransientGitFailure(
        'fatal: unable to access: Failed to connect to 127.0.0.1 port 1: Connection refused',
      ),
    ).toBe(true);
    expect(isTransientGitFailure('error: RPC failed; curl 56 Recv failure: Connection reset by peer')).toBe(
      true,
    );
  });

  it('moves a branch only when it is where we expect (compare-and-swap)', async () => {
    const ws = await new WorkspaceCache(cacheDir.path).open(repo(), TOKEN);
    const base = await ws.sync();
    expect(await ws.setRemoteBranch('tidemark/x', base, undefined)).toBe(true);
    const other = await server.commitFiles('acme/config', { 'b.txt': 'b\n' }, { branch: 'tidemark/x' });
    // Creating it "from nothing" must fail now that it exists elsewhere.
    expect(await ws.setRemoteBranch('tidemark/x', base, undefined)).toBe(false);
    // Our view is stale (we think it is at base): refused.
    expect(await ws.setRemoteBranch('tidemark/x', base, base)).toBe(false);
    expect(await server.revParse('acme/config', 'tidemark/x')).toBe(other);
    await ws.sync();
    expect(await ws.remoteHead('tidemark/x')).toBe(other);
    // Every branch head at once, as one git process reads them.
    const heads = await ws.remoteHeads();
    expect(heads.get('tidemark/x')).toBe(other);
    expect(heads.get('main')).toBe(await ws.remoteHead('main'));
    expect(heads.has('HEAD')).toBe(false);
    expect(await ws.commitsBetween(base, other)).toMatchObject([{ sha: other }]);
    expect(await ws.setRemoteBranch('tidemark/x', base, other)).toBe(true);
    expect(await server.revParse('acme/config', 'tidemark/x')).toBe(base);
  });

  it('git publisher: commits on the parent and refuses to overwrite a moved branch', async () => {
    const ws = await new WorkspaceCache(cacheDir.path).open(repo(), TOKEN);
    const base = await ws.sync();
    const author = { name: 'tidemark[bot]', email: 'bot@example.com' };
    const sha = await ws.commitAndPush({
      parent: base,
      branch: 'main',
      files: [{ path: 'apps/web.yaml', text: 'image: web:1.1.0\n' }],
      message: 'bump',
      author,
    });
    expect(sha).toBeDefined();
    expect(await server.readFile('acme/config', 'apps/web.yaml', 'main')).toBe('image: web:1.1.0\n');
    // A second commit from the stale parent is a non-fast-forward: rejected, nothing overwritten.
    const again = await ws.commitAndPush({
      parent: base,
      branch: 'main',
      files: [{ path: 'apps/web.yaml', text: 'image: web:9.9.9\n' }],
      message: 'stale',
      author,
    });
    expect(again).toBeUndefined();
    expect(await server.readFile('acme/config', 'apps/web.yaml', 'main')).toBe('image: web:1.1.0\n');
  });

  it('redacts credentials from git output', () => {
    expect(redactGitOutput('fatal: Authorization: Basic eC1hY2Nlc3M= failed', 'x')).toBe(
      'fatal: Authorization: Basic [redacted] failed',
    );
    expect(redactGitOutput('https://x-access-token:abc@host/repo.git abc', 'abc')).toBe(
      'https://[redacted]@host/repo.git [redacted]',
    );
  });
});
