import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GitServer,
  gitIn,
  type RefUpdate,
  startGitServer,
  testSimpleGit,
  ZERO_SHA,
} from './git-http.js';
import { makeTempDir, type TempDir } from './process.js';

const TOKEN = 'ghs_test_token_123';

const sg = (dir: string, config: string[] = []) => testSimpleGit(dir, { config });

describe('git smart-HTTP server with token auth', () => {
  let git: GitServer;
  const pushes: Array<{ repo: string; updates: RefUpdate[] }> = [];
  const dirs: TempDir[] = [];
  const tmp = async (): Promise<string> => {
    const d = await makeTempDir('tidemark-git-test-');
    dirs.push(d);
    return d.path;
  };
  beforeAll(async () => {
    git = await startGitServer({
      tokens: [TOKEN],
      onPush: (repo, updates) => {
        pushes.push({ repo, updates });
      },
    });
  });
  afterAll(async () => {
    await git?.stop();
    await Promise.all(dirs.map((d) => d.remove()));
  });

  it('createRepo makes a bare repo with the files committed by Test <test@example.com>', async () => {
    const url = await git.createRepo('acme/config', {
      'apps/app.yaml': 'image: a:1 # {"$imagepolicy": "ns:p"}\n',
    });
    expect(url).toBe(`${git.url}/acme/config.git`);
    expect(await git.readFile('acme/config', 'apps/app.yaml')).toBe(
      'image: a:1 # {"$imagepolicy": "ns:p"}\n',
    );
    const author = await gitIn(git.repoPath('acme/config'))('log', '-1', '--format=%an <%ae>', 'main');
    expect(author).toBe('Test <test@example.com>');
    expect(await gitIn(git.repoPath('acme/config'))('symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(pushes).toEqual([]); // setup commits are not pushes over HTTP
  });

  it('clone with token, commit, push; a re-clone sees the commit; onPush gets the ref update', async () => {
    await git.createRepo('acme/push', { 'README.md': 'hello\n' });
    const before = await git.revParse('acme/push', 'main');
    const dir = await tmp();
    await sg(dir).clone(git.cloneUrl('acme/push', TOKEN), 'work');
    const work = join(dir, 'work');
    await writeFile(join(work, 'README.md'), 'hello world\n');
    const repo = sg(work);
    await repo.add('README.md').commit('update readme');
    await repo.push('origin', 'main');
    const after = await git.revParse('acme/push', 'main');
    expect(after).not.toBe(before);
    expect(pushes.at(-1)).toEqual({
      repo: 'acme/push',
      updates: [{ ref: 'refs/heads/main', before, after }],
    });

    await sg(dir).clone(git.cloneUrl('acme/push', TOKEN), 'again');
    expect(await readFile(join(dir, 'again', 'README.md'), 'utf8')).toBe('hello world\n');
    expect((await sg(join(dir, 'again')).log()).latest?.message).toBe('update readme');
  });

  it('reports branch creation and deletion as ref updates with the zero sha', async () => {
    await git.createRepo('acme/branches', { 'a.txt': 'a\n' });
    const dir = await tmp();
    await sg(dir).clone(git.cloneUrl('acme/branches', TOKEN), '.');
    const repo = sg(dir);
    await repo.checkoutLocalBranch('tidemark/update');
    await writeFile(join(dir, 'a.txt'), 'b\n');
    await repo.add('a.txt').commit('change');
    await repo.push('origin', 'tidemark/update');
    const sha = await git.revParse('acme/branches', 'tidemark/update');
    expect(pushes.at(-1)?.updates).toEqual([
      { ref: 'refs/heads/tidemark/update', before: ZERO_SHA, after: sha },
    ]);
    await repo.push('origin', 'tidemark/update', ['--delete']);
    expect(pushes.at(-1)?.updates).toEqual([
      { ref: 'refs/heads/tidemark/update', before: sha, after: ZERO_SHA },
    ]);
    expect(await git.revParse('acme/branches', 'tidemark/update')).toBeNull();
  });

  it.each([
    ['bearer', `Authorization: Bearer ${TOKEN}`, 'bearer'],
    [
      'basic',
      `Authorization: basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`,
      'x-access-token',
    ],
  ])('accepts the token via an http.extraHeader (%s)', async (kind, header, user) => {
    await git.createRepo(`acme/extra-${kind}`, { 'f.txt': 'x\n' });
    const dir = await tmp();
    await sg(dir, [`http.extraHeader=${header}`]).clone(git.cloneUrl(`acme/extra-${kind}`), '.');
    expect(await readFile(join(dir, 'f.txt'), 'utf8')).toBe('x\n');
    const last = git.requests.at(-1);
    expect(last?.status).toBe(200);
    expect(last?.user).toBe(user);
  });

  it('a wrong token fails with an authentication error', async () => {
    await git.createRepo('acme/secret', { 'f.txt': 'x\n' });
    const dir = await tmp();
    await expect(sg(dir).clone(git.cloneUrl('acme/secret', 'wrong-token'), '.')).rejects.toThrow(
      /Authentication failed/,
    );
  });

  it('no token gets 401 with a Basic challenge', async () => {
    const res = await fetch(`${git.url}/acme/secret.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    const dir = await tmp();
    await expect(sg(dir).clone(git.cloneUrl('acme/secret'), '.')).rejects.toThrow(/could not read Username/);
  });

  it('commitFiles adds a commit server-side without calling onPush', async () => {
    await git.createRepo('acme/side', { 'a.txt': '1\n' });
    const n = pushes.length;
    const sha = await git.commitFiles(
      'acme/side',
      { 'a.txt': '2\n', 'dir/b.txt': 'b\n' },
      { message: 'side' },
    );
    expect(await git.revParse('acme/side', 'main')).toBe(sha);
    expect(await git.readFile('acme/side', 'dir/b.txt')).toBe('b\n');
    expect(await git.readFile('acme/side', 'missing.txt')).toBeNull();
    expect(pushes.length).toBe(n);
  });

  it.each([['../etc'], [''], ['a//b']])('rejects a bad repo name %j', async (name) => {
    await expect(git.createRepo(name)).rejects.toThrow(/bad repo name/);
  });
});

describe('git smart-HTTP server without auth', () => {
  let git: GitServer;
  let dir: TempDir;
  beforeAll(async () => {
    git = await startGitServer();
    dir = await makeTempDir('tidemark-git-test-');
  });
  afterAll(async () => {
    await git?.stop();
    await dir?.remove();
  });

  it('clones and pushes anonymously, on a non-main default branch', async () => {
    const url = await git.createRepo('solo', { 'x.txt': '1\n' }, 'trunk');
    await sg(dir.path).clone(url, '.');
    const repo = sg(dir.path);
    expect((await repo.status()).current).toBe('trunk');
    await writeFile(join(dir.path, 'x.txt'), '2\n');
    await repo.add('x.txt').commit('two');
    await repo.push('origin', 'trunk');
    expect(await git.readFile('solo', 'x.txt', 'trunk')).toBe('2\n');
  });

  it('stop() is idempotent and refuses new connections', async () => {
    const g = await startGitServer();
    await Promise.all([g.stop(), g.stop()]);
    await expect(fetch(`${g.url}/x.git/info/refs`)).rejects.toThrow();
  });
});
