import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryProvider } from '../../src/core/domain/types.js';
import { imageAllowed } from '../../src/intake/registry-endpoint.js';
import { waitFor } from '../support/wait.js';
import {
  type EndpointServer,
  endpointPath,
  fixtureEndpoints,
  PATH_TOKEN_PROVIDERS,
  startEndpointServer,
} from './endpoint-server.js';
import { bodyOf, loadFixture, loadFixtures, SECRET } from './fixtures.js';

let srv: EndpointServer;

beforeAll(async () => {
  srv = await startEndpointServer([
    ...fixtureEndpoints(),
    {
      id: 'ghcr-acme',
      provider: 'github',
      secrets: [SECRET],
      allowedImages: ['ghcr.io/acme-corp/web', 'ghcr.io/other-org/'],
    },
    {
      id: 'dist-allow',
      provider: 'distribution',
      secrets: [SECRET],
      allowedImages: ['registry.example.com/platform/'],
    },
  ]);
});
afterAll(async () => {
  await srv.close();
});
beforeEach(() => {
  // A fresh window per test: duplicates from earlier tests must not leak in.
  srv.clock.now += 10 * 60_000;
  srv.enqueued.length = 0;
  srv.outcomes.length = 0;
  srv.failEnqueue = false;
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

function fixtureRequest(file: string) {
  const fx = loadFixture(file);
  const token = PATH_TOKEN_PROVIDERS.has(fx.provider) ? SECRET : undefined;
  return { fx, path: endpointPath(fx.provider, token) };
}

describe('202: every positive fixture is accepted and enqueued', () => {
  const positive = loadFixtures().filter((f) => f.expect.length > 0);
  it.each(positive.map((f) => [f.file]))('%s', async (file) => {
    const { fx, path } = fixtureRequest(file);
    const r = await post(path, fx.body, fx.headers);
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: fx.expect.length });
    expect(srv.enqueued).toHaveLength(1);
    expect(srv.enqueued[0]?.events).toEqual(fx.expect.map((e) => ({ ...e, provider: fx.provider })));
    expect(srv.enqueued[0]?.meta.endpointId).toBe(`${fx.provider}-1`);
    expect(srv.outcomes).toEqual([{ provider: fx.provider, outcome: 'accepted' }]);
  });

  it('passes the delivery id along', async () => {
    const { fx, path } = fixtureRequest('github-package.json');
    await post(path, fx.body, fx.headers);
    expect(srv.enqueued[0]?.meta.deliveryId).toBe(fx.headers['x-github-delivery']);
  });

  it('accepts the URL token as ?token=', async () => {
    const fx = loadFixture('dockerhub.json');
    const r = await post(`/registry/dockerhub/dockerhub-1?token=${SECRET}`, fx.body, fx.headers);
    expect(r.status).toBe(202);
  });
});

describe('200: ignored on purpose', () => {
  const negative = loadFixtures().filter((f) => f.expect.length === 0);
  it.each(negative.map((f) => [f.file]))('%s', async (file) => {
    const { fx, path } = fixtureRequest(file);
    const r = await post(path, fx.body, fx.headers);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ accepted: 0, ignored: true, reason: expect.any(String) });
    expect(srv.enqueued).toHaveLength(0);
  });

  it('a GitHub ping', async () => {
    const r = await post('/registry/github/github-1', '{"zen":"hi"}', {
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${(await import('node:crypto')).createHmac('sha256', SECRET).update('{"zen":"hi"}').digest('hex')}`,
    });
    expect(r.status).toBe(200);
  });
});

describe('401: authentication failed', () => {
  it.each([
    [
      'github, wrong signature',
      'github-package.json',
      (h: Record<string, string>) => ({ ...h, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }),
    ],
    [
      'harbor, wrong header',
      'harbor.json',
      (h: Record<string, string>) => ({ ...h, authorization: 'guess' }),
    ],
    ['acr, no header', 'acr.json', ({ authorization: _a, ...h }: Record<string, string>) => h],
    [
      'gar, forged token',
      'gar-pubsub.json',
      (h: Record<string, string>) => ({ ...h, authorization: 'Bearer x.y.z' }),
    ],
  ])('%s', async (_n, file, change) => {
    const { fx, path } = fixtureRequest(file);
    const r = await post(path, fx.body, change(fx.headers));
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error: 'authentication failed', reason: expect.any(String) });
    expect(srv.enqueued).toHaveLength(0);
  });

  it('docker hub with a wrong URL token', async () => {
    const fx = loadFixture('dockerhub.json');
    expect((await post(endpointPath('dockerhub', 'guess'), fx.body, fx.headers)).status).toBe(401);
    expect((await post(endpointPath('dockerhub'), fx.body, fx.headers)).status).toBe(401);
  });

  it('a body changed after signing', async () => {
    const { fx, path } = fixtureRequest('nexus.json');
    const r = await post(path, fx.body.replace('0.3.7', '9.9.9'), fx.headers);
    expect(r.status).toBe(401);
  });

  it('never logs the secret', async () => {
    const { fx, path } = fixtureRequest('harbor.json');
    await post(path, fx.body, { ...fx.headers, authorization: 'guess' });
    await post(path, fx.body, fx.headers);
    expect(JSON.stringify(srv.logLines())).not.toContain(SECRET);
  });
});

describe('400: malformed', () => {
  it('names the field that is wrong', async () => {
    const b = bodyOf('dockerhub.json') as { repository: { repo_name: unknown } };
    b.repository.repo_name = 42;
    const r = await post(endpointPath('dockerhub', SECRET), JSON.stringify(b));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'repository.repo_name: expected a string, got number' });
  });

  it('not JSON', async () => {
    const r = await post(endpointPath('quay', SECRET), 'hello');
    expect(r.status).toBe(400);
    expect(String(r.json.error)).toMatch(/^body: not valid JSON/);
  });
});

describe('404, 405, 413', () => {
  it.each([
    ['unknown endpoint', '/registry/github/nope'],
    ['provider mismatch', '/registry/harbor/github-1'],
    ['unknown provider', '/registry/zot/github-1'],
    ['no endpoint id', '/registry/github'],
    ['too many segments', '/registry/github/github-1/a/b'],
    ['bad escape', '/registry/github/%E0%A4%A'],
  ])('404 %s', async (_n, path) => {
    const r = await post(path, '{}');
    expect(r.status).toBe(404);
    expect(srv.outcomes.map((o) => o.outcome)).toEqual(['not_found']);
  });

  it('405 for GET', async () => {
    const res = await fetch(`${srv.url}/registry/github/github-1`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('413 over 1 MiB, declared by content-length', async () => {
    const r = await post(endpointPath('quay', SECRET), 'x'.repeat(1024 * 1024 + 1));
    expect(r.status).toBe(413);
  });

  it('413 over 1 MiB, streamed without content-length (reading stops)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${srv.url}${endpointPath('quay', SECRET)}`,
        { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The server answers 413 and closes while this client is still writing: the write may fail (EPIPE,
        // ECONNRESET) before the answer is parsed. Then the server's own record says what it answered.
        if (err.code === 'EPIPE' || err.code === 'ECONNRESET')
          waitFor('the server to record its answer', () =>
            srv.outcomes.some((o) => o.outcome === 'too_large') ? 413 : undefined,
          ).then(resolve, reject);
        else reject(err);
      });
      const chunk = Buffer.alloc(64 * 1024, 'y');
      let sent = 0;
      const pump = (): void => {
        // Never ends on its own: 32 MiB would be sent if the server kept reading.
        while (sent < 32 * 1024 * 1024 && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('exactly 1 MiB is read (and then judged on content)', async () => {
    const r = await post(endpointPath('quay', SECRET), ' '.repeat(1024 * 1024));
    expect(r.status).toBe(400);
  });
});

describe('metric labels come from a fixed set', () => {
  it('requests to made-up providers add one label value, "unknown"', async () => {
    for (let i = 0; i < 50; i++) await post(`/registry/made-up-${i}/x`, '{}');
    expect(new Set(srv.outcomes.map((o) => o.provider))).toEqual(new Set(['unknown']));
    expect(srv.outcomes).toHaveLength(50);
  });
});

describe('allow-list', () => {
  it('drops images outside allowedImages; all dropped → 200 naming them', async () => {
    const fx = loadFixture('github-package.json');
    const r = await post('/registry/github/ghcr-acme', fx.body, fx.headers);
    expect(r.status).toBe(200);
    expect(r.json.reason).toMatch(/ghcr\.io\/acme-corp\/storefront\/worker:1\.8\.0/);
    expect(srv.enqueued).toHaveLength(0);
    const warn = srv.logLines().find((l) => String(l.msg).includes('allowedImages'));
    expect(warn?.level).toBe('warn');
  });

  it('keeps the allowed events of a mixed delivery', async () => {
    const b = bodyOf('distribution.json') as { events: { request: { host: string } }[] };
    const other = structuredClone(b.events[1]!);
    other.request.host = 'evil.example.com';
    b.events.push(other);
    const r = await post('/registry/distribution/dist-allow', JSON.stringify(b), {
      authorization: `Bearer ${SECRET}`,
    });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 1 });
    expect(srv.enqueued[0]?.events.map((e) => e.image)).toEqual(['registry.example.com/platform/api']);
  });

  it.each([
    ['ghcr.io/acme/web', ['ghcr.io/acme/'], true],
    ['ghcr.io/acme/web', ['ghcr.io/acme/web'], true],
    ['ghcr.io/acme/web/sub', ['ghcr.io/acme/web'], true],
    ['ghcr.io/acme/webhook', ['ghcr.io/acme/web'], false],
    ['ghcr.io/other/web', ['ghcr.io/acme/'], false],
    ['ghcr.io/acme/web', ['GHCR.IO/Acme/'], true],
    ['ghcr.io/acme/web', [], false],
    ['ghcr.io/acme/web', undefined, true],
  ] as const)('imageAllowed(%s, %j) = %s', (image, prefixes, want) => {
    expect(imageAllowed(image, prefixes)).toBe(want);
  });
});

describe('dedupe', () => {
  it('drops a repeated delivery within the window and accepts it after', async () => {
    const { fx, path } = fixtureRequest('harbor.json');
    expect((await post(path, fx.body, fx.headers)).status).toBe(202);
    const again = await post(path, fx.body, fx.headers);
    expect(again.status).toBe(200);
    expect(again.json.reason).toMatch(/duplicate/);
    srv.clock.now += 61_000;
    expect((await post(path, fx.body, fx.headers)).status).toBe(202);
    expect(srv.enqueued).toHaveLength(2);
  });

  it('the same push through a different provider format is still one event', async () => {
    const a = fixtureRequest('harbor.json');
    const b = fixtureRequest('harbor-cloudevents.json');
    expect((await post(a.path, a.fx.body, a.fx.headers)).status).toBe(202);
    expect((await post(b.path, b.fx.body, b.fx.headers)).status).toBe(200);
  });
});

describe('500 only when enqueue fails', () => {
  it('answers 500 so the sender retries, and the retry is not taken for a duplicate', async () => {
    const { fx, path } = fixtureRequest('acr.json');
    srv.failEnqueue = true;
    const r = await post(path, fx.body, fx.headers);
    expect(r.status).toBe(500);
    srv.failEnqueue = false;
    expect((await post(path, fx.body, fx.headers)).status).toBe(202);
  });
});

describe('provider routing', () => {
  it('a Gitea delivery (which also sends X-GitHub-Event) is handled by the gitea endpoint', async () => {
    const { fx, path } = fixtureRequest('gitea.json');
    expect(path).toBe('/registry/gitea/gitea-1');
    expect(fx.headers['x-github-event']).toBe('package');
    const r = await post(path, fx.body, fx.headers);
    expect(r.status).toBe(202);
    expect(srv.enqueued[0]?.events[0]?.provider satisfies RegistryProvider | undefined).toBe('gitea');
  });
});
