/**
 * The GitHub webhook path never buffers an unauthenticated body without bound: no signature header → 400
 * unread; past the limit (declared or streamed) → 413 and the App's handler never runs.
 */
import { request } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, listen } from '../../src/intake/http.js';

describe('GitHub webhook body limits', () => {
  const seen: string[] = [];
  let url = '';
  let close: () => Promise<void>;
  beforeAll(async () => {
    const router = createRouter({
      githubWebhookPath: '/api/github/webhooks',
      githubMaxBodyBytes: 1000,
      github: (req, res) => {
        seen.push((req as { body?: string }).body ?? '<stream>');
        res.writeHead(200).end('ok');
      },
      metrics: new Registry(),
      ready: async () => ({ ok: true, checks: {} }),
      onError: () => {},
    });
    const s = await listen(router, '127.0.0.1', 0);
    url = s.url;
    close = () => new Promise((r) => s.server.close(() => r()));
  });
  afterAll(async () => {
    await close?.();
  });

  const post = (headers: Record<string, string>, chunks: string[]) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${url}/api/github/webhooks`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e),
      );
      for (const c of chunks) req.write(c);
      req.end();
    });

  it('a body within the limit reaches the handler, read once', async () => {
    expect(
      await post({ 'x-hub-signature-256': 'sha256=x', 'content-type': 'application/json' }, ['{"a":1}']),
    ).toBe(200);
    expect(seen.at(-1)).toBe('{"a":1}');
  });

  it('no signature header: 400, the handler never runs', async () => {
    const before = seen.length;
    expect(await post({ 'content-type': 'application/json' }, ['{}'])).toBe(400);
    expect(seen.length).toBe(before);
  });

  it('a declared length over the limit: 413 before reading', async () => {
    const before = seen.length;
    expect(
      await post({ 'x-hub-signature-256': 'sha256=x', 'content-length': '5000' }, ['x'.repeat(5000)]),
    ).toBe(413);
    expect(seen.length).toBe(before);
  });

  it('a streamed (chunked) body over the limit: 413, reading stops', async () => {
    const before = seen.length;
    expect(
      await post(
        { 'x-hub-signature-256': 'sha256=x', 'transfer-encoding': 'chunked' },
        Array(10).fill('y'.repeat(500)),
      ),
    ).toBe(413);
    expect(seen.length).toBe(before);
  });
});
