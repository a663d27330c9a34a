/**
 * GitHub failing at start: the start-up reconcile (which fills the routing table) is retried until it works,
 * and /readyz says 503 until it has — a load balancer sends no registry pushes to a process that would route
 * them nowhere.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Env, hasReason, startEnv, until } from './harness.js';

describe('start-up while GitHub refuses to list installations', () => {
  let env: Env;
  let lift: () => void = () => {};
  beforeAll(async () => {
    env = await startEnv(
      async (gh, reg) => {
        const inst = gh.addInstallation('acme');
        await gh.addRepo({
          installationId: inst,
          owner: 'acme',
          name: 'late',
          files: {
            'app.yaml': `image: ${reg.host}/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
            '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1" } }\n`,
          },
        });
        // 401 is what a JWT refused for clock skew answers; octokit does not retry it, tidemark must.
        lift = gh.outage('GET', '/app/installations', 401);
      },
      () => ({}),
      { awaitFirstRuns: false },
    );
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    lift();
    await env?.stop();
  });

  it('is not ready while listing fails, retries, and becomes ready once GitHub answers', async () => {
    // Proof that a retry happened (the second attempt failed too) before asserting readiness.
    await env.waitForLog('could not list installations at start; will retry', '"attempt":2');
    const before = await fetch(`${env.app.url}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ ok: false, checks: { startupReconcile: false } });
    expect((await fetch(`${env.app.url}/healthz`)).status).toBe(200);
    expect(env.jobs).toEqual([]);

    lift();
    const job = await env.waitForJob('the first run of acme/late', hasReason('installation'));
    expect(job.outcome).toBe('succeeded');
    await until('/readyz 200', async () => (await fetch(`${env.app.url}/readyz`)).status === 200);
    expect(await (await fetch(`${env.app.url}/readyz`)).json()).toMatchObject({
      ok: true,
      checks: { startupReconcile: true },
    });
  });
});
