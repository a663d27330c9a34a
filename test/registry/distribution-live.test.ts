/**
 * A real `docker-registry` (CNCF Distribution 2.8) sends its notifications to the running endpoint:
 * pushing a tag yields exactly one accepted event; pulling and deleting yield none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEndpointConfig } from '../../src/intake/registry-endpoint.js';
import { deleteTag, pullManifest, pushImage, pushIndex } from '../support/images.js';
import { sleep } from '../support/process.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { type EndpointServer, startEndpointServer } from './endpoint-server.js';
import { SECRET } from './fixtures.js';

const endpoints: RegistryEndpointConfig[] = [];
let srv: EndpointServer;
let reg: Registry;

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}\n${reg.logs()}`);
    await sleep(50);
  }
}

/**
 * Proves that every notification caused so far has been delivered: the registry sends an endpoint's events in
 * order, so once the notification for a fresh "fence" push (an image outside the allow-list) arrives, all
 * earlier ones have too. No waiting for quiet on the clock.
 */
let fences = 0;
async function settle(): Promise<void> {
  const n = ++fences;
  const before = count('not_allowed');
  await pushImage(reg, 'fence/app', `f${n}`, { seed: `fence-${n}` });
  await until(`the fence notification f${n}`, () => count('not_allowed') > before);
}

const count = (outcome: string) => srv.outcomes.filter((o) => o.outcome === outcome).length;

beforeAll(async () => {
  srv = await startEndpointServer(endpoints);
  reg = await startRegistry({
    notifyUrl: `${srv.url}/registry/distribution/live`,
    notifyHeaders: { Authorization: [`Bearer ${SECRET}`] },
    notifyPulls: true,
    deleteEnabled: true,
  });
  endpoints.push({
    id: 'live',
    provider: 'distribution',
    secrets: [SECRET],
    allowedImages: [`${reg.host}/demo/`],
  });
});

afterAll(async () => {
  await reg?.stop();
  await srv?.close();
});

describe('docker-registry notifications through the endpoint', () => {
  it('a tag push → exactly one accepted event with the pushed digest', async () => {
    const pushed = await pushImage(reg, 'demo/app', '1.0.0', { seed: 'live-1' });
    await until('the accepted push', () => srv.enqueued.length >= 1);
    await settle();
    expect(srv.enqueued.flatMap((e) => e.events)).toEqual([
      { image: `${reg.host}/demo/app`, tag: '1.0.0', digest: pushed.digest, provider: 'distribution' },
    ]);
    expect(count('accepted')).toBe(1);
    expect(count('duplicate')).toBe(0);
    expect(count('unauthorized') + count('malformed')).toBe(0);
  });

  it('a multi-arch index push → one event for the tag, none for the children', async () => {
    const before = srv.enqueued.length;
    const acceptedBefore = count('accepted');
    const pushed = await pushIndex(reg, 'demo/multi', '2.0.0', ['linux/amd64', 'linux/arm64'], {
      seed: 'live-2',
    });
    await until('the accepted index push', () => srv.enqueued.length > before);
    await settle();
    expect(srv.enqueued.slice(before).flatMap((e) => e.events)).toEqual([
      { image: `${reg.host}/demo/multi`, tag: '2.0.0', digest: pushed.digest, provider: 'distribution' },
    ]);
    expect(count('accepted') - acceptedBefore).toBe(1);
  });

  it('a pull → delivered, acknowledged, nothing enqueued', async () => {
    const before = srv.enqueued.length;
    const ignoredBefore = count('ignored');
    await pullManifest(reg, 'demo/app', '1.0.0');
    await until('the pull notification', () => count('ignored') > ignoredBefore);
    await settle();
    expect(srv.enqueued.length).toBe(before);
  });

  it('a tag delete → delivered, acknowledged, nothing enqueued', async () => {
    const before = srv.enqueued.length;
    const ignoredBefore = count('ignored');
    await deleteTag(reg, 'demo/app', '1.0.0');
    await until('the delete notification', () => count('ignored') > ignoredBefore);
    await settle();
    expect(srv.enqueued.length).toBe(before);
    expect(count('unauthorized') + count('malformed')).toBe(0);
  });
});
