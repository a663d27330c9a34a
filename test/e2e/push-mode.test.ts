/**
 * Push mode against the GitHub double: a commit straight to main, a concurrent human push that makes the
 * compare-and-swap fail (tidemark re-runs on the new tip, the human commit stays), and a pushed file with a
 * new marker that is picked up from the push webhook.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pushImage } from '../support/images.js';
import { type Env, sleep, startEnv, until } from './harness.js';

const values = (host: string, tag: string) =>
  `image:\n  repository: ${host}/acme/api\n  tag: ${tag} # {"$imagepolicy": "flux-system:api:tag"}\n`;

describe('push mode end to end', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(async (gh, reg) => {
      await pushImage(reg, 'acme/api', '2.0.0', { seed: 'a2.0.0' });
      const inst = gh.addInstallation('acme');
      await gh.addRepo({
        installationId: inst,
        owner: 'acme',
        name: 'prod',
        files: {
          'values/api.yaml': values(reg.host, '2.0.0'),
          'README.md': 'prod config\n',
          '.github/tidemark.yml': `policies:\n  - name: api\n    image: ${reg.host}/acme/api\n    policy: { semver: { range: "^2" } }\nupdate: { strategy: push }\n`,
        },
      });
    });
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  it('a human push lands while tidemark commits: tidemark re-runs on the new tip and keeps the human commit', async () => {
    const { gh, reg } = env;
    let human = '';
    gh.beforeNextCommit(async () => {
      human = await gh.pushAsUser(
        'acme',
        'prod',
        'main',
        { 'README.md': 'edited by a human\n' },
        'docs: edit',
      );
    });
    await pushImage(reg, 'acme/api', '2.1.0', { seed: 'a2.1.0' });
    await until('the bump on main', async () =>
      (await gh.readFile('acme', 'prod', 'main', 'values/api.yaml'))?.includes('tag: 2.1.0'),
    );
    expect(await gh.readFile('acme', 'prod', 'main', 'values/api.yaml')).toBe(values(reg.host, '2.1.0'));
    expect(await gh.readFile('acme', 'prod', 'main', 'README.md')).toBe('edited by a human\n');
    const log = await gh.git.revParse('acme/prod', `main~1`);
    expect(log).toBe(human);
    expect(gh.pulls('acme', 'prod')).toHaveLength(0);
    // The failed compare-and-swap is visible as a STALE_DATA answer followed by a successful commit.
    expect(env.logLines.join('')).toContain('branch moved during publish; fetching and retrying');
  });

  it('a pushed file with a new marker is updated from the push webhook', async () => {
    const { gh, reg } = env;
    await gh.pushAsUser(
      'acme',
      'prod',
      'main',
      { 'values/api-canary.yaml': values(reg.host, '2.0.0') },
      'add canary',
    );
    await until('the canary bump', async () =>
      (await gh.readFile('acme', 'prod', 'main', 'values/api-canary.yaml'))?.includes('tag: 2.1.0'),
    );
    await sleep(300);
    expect(await gh.readFile('acme', 'prod', 'main', 'values/api-canary.yaml')).toBe(
      values(reg.host, '2.1.0'),
    );
  });
});
