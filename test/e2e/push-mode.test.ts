/**
 * Push mode against the GitHub double: a commit straight to main, a concurrent human push that makes the
 * compare-and-swap fail (tidemark re-runs on the new tip, the human commit stays), and a pushed file with a
 * new marker that is picked up from the push webhook. Each test has its own repo and image.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoKeyOf } from '../../src/state/policy-index.js';
import { pushImage } from '../support/images.js';
import { type Env, hasReason, startEnv } from './harness.js';

const values = (host: string, image: string, tag: string) =>
  `image:\n  repository: ${host}/${image}\n  tag: ${tag} # {"$imagepolicy": "flux-system:api:tag"}\n`;

describe('push mode end to end', () => {
  let env: Env;
  let installationId: number;
  beforeAll(async () => {
    env = await startEnv(async (gh) => {
      installationId = gh.addInstallation('acme');
    });
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  /** A repo `acme/<name>` in push mode whose values file runs image `acme/<name>` at 2.0.0. */
  async function scenario(name: string) {
    const { gh, reg } = env;
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'values/api.yaml': values(reg.host, image, '2.0.0'),
          'README.md': 'prod config\n',
          '.github/tidemark.yml': `policies:\n  - name: api\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^2" } }\nupdate: { strategy: push }\n`,
        },
      },
      image,
      '2.0.0',
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    return {
      image,
      expected: (tag: string) => values(reg.host, image, tag),
      read: (path: string) => gh.readFile('acme', name, 'main', path),
      async push(tag: string) {
        const since = env.jobs.length;
        await pushImage(reg, image, tag, { seed: `${name}-${tag}` });
        await env.waitForJob(
          `the run for ${tag}`,
          (j) => j.repo === key && j.outcome === 'succeeded' && hasReason('registry-push')(j),
          since,
        );
        await env.idle();
      },
      async pushAsUser(files: Record<string, string>, message: string) {
        const since = env.jobs.length;
        const sha = await gh.pushAsUser('acme', name, 'main', files, message);
        await env.waitForJob(
          'the run for the push',
          (j) => j.repo === key && hasReason('github-push')(j),
          since,
        );
        await env.idle();
        return sha;
      },
    };
  }

  it('a human push lands while tidemark commits: tidemark re-runs on the new tip and keeps the human commit', async () => {
    const { gh } = env;
    const s = await scenario('race');
    let human = '';
    gh.beforeNextCommit(async () => {
      human = await gh.pushAsUser(
        'acme',
        'race',
        'main',
        { 'README.md': 'edited by a human\n' },
        'docs: edit',
      );
    });
    await s.push('2.1.0');
    expect(await s.read('values/api.yaml')).toBe(s.expected('2.1.0'));
    expect(await s.read('README.md')).toBe('edited by a human\n');
    expect(await gh.git.revParse('acme/race', 'main~1')).toBe(human);
    expect(gh.pulls('acme', 'race')).toHaveLength(0);
    // The failed compare-and-swap is visible as a STALE_DATA answer followed by a successful commit.
    expect(env.logLines.join('')).toContain(
      'branch moved during publish; the run will be retried on fresh facts',
    );
  });

  it('a pushed file with a new marker is updated from the push webhook', async () => {
    const s = await scenario('canary');
    await s.push('2.1.0');
    expect(await s.read('values/api.yaml')).toBe(s.expected('2.1.0'));
    await s.pushAsUser({ 'values/api-canary.yaml': s.expected('2.0.0') }, 'add canary');
    expect(await s.read('values/api-canary.yaml')).toBe(s.expected('2.1.0'));
  });
});
