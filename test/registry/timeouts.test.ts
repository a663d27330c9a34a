/**
 * A registry that accepts connections and never answers (a tarpit, on loopback): each request has a deadline,
 * the host is then left alone for a while (its images fail fast), and no retry piles up on it. The tarpit
 * counts connections, so "not asked again" is proven by its count, not by time.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryUnavailableError } from '../../src/core/errors.js';
import { OciRegistryClient } from '../../src/registry/oci-client.js';

describe('registry deadlines', () => {
  let tarpit: Server;
  let port: number;
  const sockets: Socket[] = [];
  let connections = 0;
  beforeAll(async () => {
    tarpit = createServer((s) => {
      connections++;
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    port = (tarpit.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => tarpit.close(() => r()));
  });

  it('a request past its deadline fails once, unretried; the host is then not asked until its quiet period ends', async () => {
    let now = Date.parse('2026-12-04T12:00:00Z');
    const client = new OciRegistryClient({ timeoutMs: 200, unresponsiveMs: 60_000, now: () => now });
    const image = `127.0.0.1:${port}/acme/app`;
    const first = await client.listTags(image).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RegistryUnavailableError);
    expect((first as Error).message).toBe(`127.0.0.1:${port}/acme/app: no answer within 200 ms`);
    expect(connections).toBe(1);

    const second = await client.listTags(`127.0.0.1:${port}/acme/other`).catch((e: unknown) => e);
    expect((second as Error).message).toBe(
      `127.0.0.1:${port}/acme/other: 127.0.0.1:${port} let a request run past 200 ms; not asked again until 2026-12-04T12:01:00.000Z`,
    );
    expect(connections).toBe(1);

    // After the quiet period it is asked again.
    now += 60_001;
    const third = await client.listTags(image).catch((e: unknown) => e);
    expect((third as Error).message).toBe(`127.0.0.1:${port}/acme/app: no answer within 200 ms`);
    expect(connections).toBeGreaterThan(1);
  });
});
