/**
 * Web and worker as separate tidemark instances sharing Redis (REDIS_URL): the web side takes the registry
 * webhook and enqueues; the worker opens the PR; the policy index built by the worker routes the web's events.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pushImage } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { type Env, hasReason, startEnv, until } from './harness.js';

describe.each([
  ['one Redis', () => startRedis()],
  ['a Redis Cluster (three masters)', () => startRedisCluster()],
] as const)('serve + worker on %s', (_name, start) => {
  let redis: { url: string; stop(): Promise<void> };
  let env: Env;
  beforeAll(async () => {
    redis = await start();
    env = await startEnv(
      async (gh, reg) => {
        await pushImage(reg, 'acme/web', '1.0.0', { seed: 'r1.0.0' });
        const inst = gh.addInstallation('acme');
        await gh.addRepo({
          installationId: inst,
          owner: 'acme',
          name: 'split',
          files: {
            'app.yaml': `image: ${reg.host}/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
            '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1" } }\n`,
          },
        });
      },
      () => ({}),
      { split: { redisUrl: redis.url } },
    );
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
    await redis?.stop();
  });

  it('a registry push reaches the web process and the worker process opens the PR', async () => {
    await pushImage(env.reg, 'acme/web', '1.1.0', { seed: 'r1.1.0' });
    // The PR appears while the worker's run is still finishing (metrics come after publishing): wait for the run.
    const job = await env.waitForJob(
      'the worker run for 1.1.0',
      hasReason('registry-push', `${env.reg.host}/acme/web:1.1.0`),
    );
    expect(job.outcome).toBe('succeeded');
    const pr = await until('a PR', () => env.gh.pulls('acme', 'split')[0]);
    expect(pr.title.endsWith('1.1.0')).toBe(true);
    const workerMetrics = await (await fetch(`${env.worker!.url}/metrics`)).text();
    expect(workerMetrics).toMatch(/tidemark_bumps_total\{policy="flux-system:web",mode="pull-request"\} 1/);
    const webMetrics = await (await fetch(`${env.app.url}/metrics`)).text();
    expect(webMetrics).not.toMatch(/tidemark_bumps_total\{/);
    expect(webMetrics).toMatch(
      /tidemark_webhooks_total\{source="registry",provider="distribution",outcome="accepted"\} 1/,
    );
    // The worker takes no webhooks.
    expect((await fetch(`${env.worker!.url}/api/github/webhooks`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${env.worker!.url}/readyz`)).status).toBe(200);
  });
});
