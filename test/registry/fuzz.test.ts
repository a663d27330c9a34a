/**
 * Fuzz: mutated, truncated and random payloads for every provider. Through `parseWebhook` the only outcomes
 * are a list of well-formed events or a `MalformedWebhookError`; through the real HTTP handler (correctly
 * authenticated, so the parser is reached) never a 5xx and never an unhandled exception.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImagePushed, REGISTRY_PROVIDERS, type RegistryProvider } from '../../src/core/domain/types.js';
import { MalformedWebhookError, parseWebhook } from '../../src/core/events/index.js';
import {
  type EndpointServer,
  endpointPath,
  GAR_TOKEN,
  PATH_TOKEN_PROVIDERS,
  startEndpointServer,
} from './endpoint-server.js';
import { FIXTURE_HOST_MAP, type Fixture, loadFixtures, SECRET } from './fixtures.js';

const fixtures = loadFixtures();

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (list of keys/indices) into a JSON value. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

function mutate(root: Json, path: (string | number)[], op: 'replace' | 'delete', value: Json): Json {
  if (path.length === 0) return op === 'replace' ? value : {};
  const copy = structuredClone(root);
  // biome-ignore lint/suspicious/noExplicitAny: walks an arbitrary JSON value by path
  let parent: any = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1]!;
  if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = value;
  return copy;
}

/** A body derived from a fixture: a field replaced or deleted, the text truncated, or something random. */
function bodyArb(fx: Fixture): fc.Arbitrary<string> {
  const root = JSON.parse(fx.body) as Json;
  const all = paths(root);
  const interesting = fc.oneof(
    fc.jsonValue() as fc.Arbitrary<Json>,
    fc.constantFrom<Json>(
      '',
      'push',
      'PUSH',
      'INSERT',
      'sha256:' + 'a'.repeat(64),
      'sha256-' + 'a'.repeat(64) + '.sig',
      'a:b@c',
      '../..',
      null,
      [],
      {},
      0,
    ),
    fc.string(),
  );
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          fc.nat(all.length - 1),
          fc.constantFrom<'replace' | 'delete'>('replace', 'delete'),
          interesting,
        )
        .map(([i, op, v]) => JSON.stringify(mutate(root, all[i]!, op, v))),
    },
    { weight: 2, arbitrary: fc.nat(fx.body.length).map((n) => fx.body.slice(0, n)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    // Base64-wrapped garbage for the Pub/Sub envelope's data.
    {
      weight: 1,
      arbitrary: fc
        .jsonValue()
        .map((v) => JSON.stringify({ message: { data: Buffer.from(JSON.stringify(v)).toString('base64') } })),
    },
  );
}

const EVENT_SHAPE = {
  image: expect.stringMatching(/^[a-z0-9.:-]+\/[a-z0-9._/-]+$/),
  tag: expect.stringMatching(/^[\w][\w.-]{0,127}$/),
  digest: expect.toSatisfy(
    (d: unknown) =>
      d === null || (typeof d === 'string' && /^[a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(d)),
  ),
};

describe('parseWebhook: only events or MalformedWebhookError', () => {
  it.each(fixtures.map((f) => [f.file, f] as const))('%s', (_file, fx) => {
    fc.assert(
      fc.property(bodyArb(fx), (body) => {
        let events: ImagePushed[];
        try {
          events = parseWebhook(fx.provider, { headers: fx.headers, body }, { hostMap: FIXTURE_HOST_MAP });
        } catch (err) {
          if (err instanceof MalformedWebhookError) return;
          throw err;
        }
        for (const e of events) expect(e).toEqual({ ...EVENT_SHAPE, provider: fx.provider });
      }),
      { numRuns: 300 },
    );
  });

  it('any provider with random headers and bodies', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REGISTRY_PROVIDERS),
        fc.dictionary(
          fc.constantFrom('x-github-event', 'ce-type', 'x-nexus-webhook-id', 'x-gitea-event', 'content-type'),
          fc.string(),
        ),
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (provider, headers, body) => {
          try {
            parseWebhook(provider, { headers, body });
          } catch (err) {
            expect(err).toBeInstanceOf(MalformedWebhookError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

/** Authenticates a (possibly mutated) body the way the provider's sender would. */
function signed(
  provider: RegistryProvider,
  fxHeaders: Record<string, string>,
  body: string,
): { path: string; headers: Record<string, string> } {
  const h = { ...fxHeaders };
  const hmac = (alg: string) => createHmac(alg, SECRET).update(body).digest('hex');
  switch (provider) {
    case 'github':
      h['x-hub-signature-256'] = `sha256=${hmac('sha256')}`;
      break;
    case 'gitea':
      h['x-gitea-signature'] = hmac('sha256');
      break;
    case 'nexus':
      h['x-nexus-webhook-signature'] = hmac('sha1');
      break;
    case 'jfrog':
      h['x-jfrog-event-auth'] = hmac('sha256');
      break;
    case 'harbor':
      h.authorization = SECRET;
      break;
    case 'acr':
    case 'distribution':
      h.authorization = `Bearer ${SECRET}`;
      break;
    case 'ecr':
      h['x-api-key'] = SECRET;
      break;
    case 'gar':
      h.authorization = `Bearer ${GAR_TOKEN}`;
      break;
    default:
      break;
  }
  return {
    path: endpointPath(provider, PATH_TOKEN_PROVIDERS.has(provider) ? SECRET : undefined),
    headers: h,
  };
}

describe('HTTP handler: never a 5xx, never an unhandled exception', () => {
  let srv: EndpointServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  beforeAll(async () => {
    srv = await startEndpointServer();
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await srv.close();
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', async (_file, fx) => {
    await fc.assert(
      fc.asyncProperty(bodyArb(fx), fc.boolean(), async (body, authenticate) => {
        const { path, headers } = authenticate
          ? signed(fx.provider, fx.headers, body)
          : { path: endpointPath(fx.provider), headers: fx.headers };
        srv.clock.now += 120_000;
        const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers, body });
        await res.text();
        expect([200, 202, 400, 401]).toContain(res.status);
      }),
      { numRuns: 60 },
    );
    expect(unhandled).toEqual([]);
  });

  it('random paths, methods and bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
        fc.oneof(
          fc.webPath(),
          fc.constantFrom(...REGISTRY_PROVIDERS).map((p) => `/registry/${p}/${p}-1`),
        ),
        fc.string(),
        async (method, path, body) => {
          const res = await fetch(
            `${srv.url}/registry${path.startsWith('/registry') ? path.slice(9) : path}`,
            {
              method,
              ...(method === 'GET' ? {} : { body }),
            },
          );
          await res.text();
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    expect(unhandled).toEqual([]);
  });
});
