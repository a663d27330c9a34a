/**
 * One slow registry delays only its own repos: four repos name a registry that accepts connections and never
 * answers (a tarpit on loopback); a fifth, healthy repo's bump still lands, because every registry request has
 * a deadline (TIDEMARK_REGISTRY_TIMEOUT) and a host that let one run out is then failed fast for a while. The
 * tarpit repos' runs end with a registry error naming the deadline, shown in their check run.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoKeyOf } from '../../src/state/policy-index.js';
import { pushImage } from '../support/images.js';
import { type Env, hasReason, startEnv } from './harness.js';

const deployment = (image: string, tag: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${image}:${tag} # {"$imagepolicy": "flux-system:web"}\n`;
const config = (image: string) =>
  `policies:\n  - name: web\n    image: ${image}\n    policy: { semver: { range: "^1.0.0" } }\n`;

describe('a registry that never answers', () => {
  let env: Env;
  let tarpit: Server;
  const sockets: Socket[] = [];
  let installationId: number;
  beforeAll(async () => {
    tarpit = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    const slow = `127.0.0.1:${(tarpit.address() as AddressInfo).port}/acme/slow`;
    env = await startEnv(
      async (gh, reg) => {
        installationId = gh.addInstallation('acme');
        for (let i = 0; i < 4; i++)
          await gh.addRepo({
            installationId,
            owner: 'acme',
            name: `slow-${i}`,
            files: { 'app.yaml': deployment(slow, '1.0.0'), '.github/tidemark.yml': config(slow) },
          });
        await pushImage(reg, 'acme/healthy', '1.0.0', { seed: 'healthy-1.0.0' });
        await gh.addRepo({
          installationId,
          owner: 'acme',
          name: 'healthy',
          files: {
            'app.yaml': deployment(`${reg.host}/acme/healthy`, '1.0.0'),
            '.github/tidemark.yml': config(`${reg.host}/acme/healthy`),
          },
        });
      },
      () => ({ TIDEMARK_REGISTRY_TIMEOUT: '300ms' }),
    );
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => tarpit.close(() => r()));
  });

  it('the healthy repo gets its PR; the slow ones report the deadline', async () => {
    const { gh, reg } = env;
    const key = repoKeyOf({ installationId, owner: 'acme', repo: 'healthy' });
    const since = env.jobs.length;
    await pushImage(reg, 'acme/healthy', '1.1.0', { seed: 'healthy-1.1.0' });
    const job = await env.waitForJob(
      'the healthy repo’s run',
      (j) => j.repo === key && hasReason('registry-push', `${reg.host}/acme/healthy:1.1.0`)(j),
      since,
    );
    expect(job.outcome).toBe('succeeded');
    expect(gh.pulls('acme', 'healthy').map((p) => p.title.slice(-5))).toEqual(['1.1.0']);

    // Every slow repo's start-up run ended (retried or failed) with the deadline as its reason.
    const slow = env.jobs.filter((j) => j.repo.includes('/slow-'));
    expect(new Set(slow.map((j) => j.repo)).size).toBe(4);
    expect(slow.every((j) => j.outcome !== 'succeeded')).toBe(true);
    expect(env.logLines.join('')).toMatch(/no answer within 300 ms|let a request run past 300 ms/);
  });
});
