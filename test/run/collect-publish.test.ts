/**
 * What the publishing plan is told about each group's branch, read from real git (a clone over smart HTTP):
 * whether the branch already holds exactly the planned change (by blob id), and which commits on it tidemark
 * did not make. A wrong answer either re-commits an unchanged PR on every run or leaves a stale one alone.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMIT_TRAILER } from '../../src/core/plan/messages.js';
import type { UpdateGroup } from '../../src/core/plan/update.js';
import { WorkspaceCache } from '../../src/git/workspace.js';
import { collectPublishFacts } from '../../src/run/collect-publish.js';
import { type GitServer, startGitServer } from '../support/git-http.js';
import { makeTempDir, type TempDir } from '../support/process.js';

const TOKEN = 'ghs_test_installation_token_collect';
const OLD = 'image: web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n';
const NEW = 'image: web:1.1.0 # {"$imagepolicy": "flux-system:web"}\n';

describe('collectPublishFacts on real git', () => {
  let server: GitServer;
  let cacheDir: TempDir;
  let cloneUrl: string;
  beforeAll(async () => {
    server = await startGitServer({ tokens: [TOKEN] });
    cloneUrl = await server.createRepo('acme/config', { 'apps/web.yaml': OLD, 'README.md': '# config\n' });
    cacheDir = await makeTempDir('tidemark-collect-');
  });
  afterAll(async () => {
    await server?.stop();
    await cacheDir?.remove();
  });

  const group = (branch: string, newText = NEW): UpdateGroup => ({
    kind: 'per-policy',
    branch,
    updates: [],
    files: [{ file: 'apps/web.yaml', oldText: OLD, newText, changes: [] }],
  });

  it('a branch holding exactly the planned text holds; another text, or a foreign commit, does not', async () => {
    const ws = await new WorkspaceCache(cacheDir.path).open(
      { owner: 'acme', repo: 'config', cloneUrl, defaultBranch: 'main' },
      TOKEN,
    );
    const base = await ws.sync();
    // Branches as tidemark would leave them (its trailer on the commit), and one a person added to.
    const branch = async (name: string, text: string, message: string) => {
      await ws.run(['checkout', '--quiet', '-B', name, base]);
      await writeFile(join(ws.dir, 'apps/web.yaml'), text);
      await ws.run(['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '--quiet', '-am', message]);
      await ws.run(['push', '--quiet', 'origin', `HEAD:refs/heads/${name}`]);
    };
    const ours = `chore(deps): update web\n\n${COMMIT_TRAILER}: flux-system:web`;
    await branch('tidemark/web', NEW, ours);
    await branch('tidemark/older', OLD.replace('1.0.0', '1.0.5'), ours);
    await branch('tidemark/touched', NEW, 'a person fixed something');
    expect(await ws.sync()).toBe(base);

    const facts = await collectPublishFacts(
      ws,
      {
        groups: [
          group('tidemark/web'),
          group('tidemark/older'),
          group('tidemark/touched'),
          group('tidemark/new'),
        ],
      },
      'pull-request',
      base,
      [],
    );
    expect(facts.branches['tidemark/web']).toMatchObject({ foreign: [], holds: true });
    expect(facts.branches['tidemark/older']).toMatchObject({ foreign: [], holds: false });
    expect(facts.branches['tidemark/touched']?.foreign).toHaveLength(1);
    expect(facts.branches['tidemark/touched']?.holds).toBe(false);
    expect(facts.branches['tidemark/new']).toEqual({ foreign: [], holds: false });

    // The default branch moves on without touching the file: the branch still holds the change.
    await ws.run(['checkout', '--quiet', '-B', 'main', base]);
    await writeFile(join(ws.dir, 'README.md'), '# config, edited\n');
    await ws.run(['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '--quiet', '-am', 'docs']);
    await ws.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const base2 = await ws.sync();
    expect(base2).not.toBe(base);
    const later = await collectPublishFacts(
      ws,
      { groups: [group('tidemark/web')] },
      'pull-request',
      base2,
      [],
    );
    expect(later.branches['tidemark/web']).toMatchObject({ foreign: [], holds: true });

    // It moves on and touches the file: the branch no longer holds what the plan (from the new base) wants.
    const EDITED = OLD.replace('image: web', 'image:  web');
    await ws.run(['checkout', '--quiet', '-B', 'main', base2]);
    await writeFile(join(ws.dir, 'apps/web.yaml'), EDITED);
    await ws.run(['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '--quiet', '-am', 'reformat']);
    await ws.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const base3 = await ws.sync();
    const planned: UpdateGroup = {
      ...group('tidemark/web'),
      files: [{ file: 'apps/web.yaml', oldText: EDITED, newText: NEW, changes: [] }],
    };
    const touched = await collectPublishFacts(ws, { groups: [planned] }, 'pull-request', base3, []);
    expect(touched.branches['tidemark/web']).toMatchObject({ foreign: [], holds: false });
  });
});
