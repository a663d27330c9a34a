import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RegistryAuthError,
  RegistryNotFoundError,
  RegistryProtocolError,
  RegistryRateLimitedError,
  RegistryUnavailableError,
} from '../../src/core/errors.js';
import { dockerConfigCredentials } from '../../src/registry/docker-config.js';
import { MAX_TAG_PAGES, OciRegistryClient } from '../../src/registry/oci-client.js';
import { pushImage, pushIndex } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

const noSleep = async () => {};

/** A proxy in front of the registry that answers the first `failures` requests with `status`, and counts requests. */
async function faultProxy(target: string, failures: number, status: number) {
  let left = failures;
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (left > 0) {
      left--;
      res.writeHead(status, status === 429 ? { 'retry-after': '0' } : {});
      res.end('busy');
      return;
    }
    const up = httpRequest(
      `${target}${req.url}`,
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('OCI client against a real docker-registry', () => {
  let reg: Registry;
  const digests: Record<string, string> = {};

  beforeAll(async () => {
    reg = await startRegistry();
    for (const tag of ['1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', 'latest']) {
      digests[tag] = (
        await pushImage(reg, 'demo/app', tag, {
          seed: tag,
          annotations: {
            'org.opencontainers.image.source': 'https://github.com/acme/app',
            'org.opencontainers.image.revision': `rev-${tag}`,
          },
        })
      ).digest;
    }
    digests.multi = (await pushIndex(reg, 'demo/app', 'multi', ['linux/amd64', 'linux/arm64'])).digest;
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('lists every tag across pages (Link headers)', async () => {
    const client = new OciRegistryClient({ pageSize: 2 });
    expect((await client.listTags(`${reg.host}/demo/app`)).sort()).toEqual([
      '1.0.0',
      '1.1.0',
      '1.2.0',
      '2.0.0-rc.1',
      'latest',
      'multi',
    ]);
  });

  it('resolves digests for a manifest and an index', async () => {
    const client = new OciRegistryClient();
    expect(await client.resolveDigest(`${reg.host}/demo/app`, '1.1.0')).toBe(digests['1.1.0']);
    expect(await client.resolveDigest(`${reg.host}/demo/app`, 'multi')).toBe(digests.multi);
  });

  it('reads OCI annotations and an index platform list', async () => {
    const client = new OciRegistryClient();
    expect(await client.getImageMetadata(`${reg.host}/demo/app`, '1.2.0')).toMatchObject({
      source: 'https://github.com/acme/app',
      revision: 'rev-1.2.0',
    });
    expect((await client.getImageMetadata(`${reg.host}/demo/app`, 'multi')).platforms).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
  });

  it('typed not-found errors', async () => {
    const client = new OciRegistryClient();
    await expect(client.resolveDigest(`${reg.host}/demo/app`, '9.9.9')).rejects.toBeInstanceOf(
      RegistryNotFoundError,
    );
    await expect(client.listTags(`${reg.host}/demo/none`)).rejects.toBeInstanceOf(RegistryNotFoundError);
  });

  it('caches tag lists within the TTL, and bypasses the cache when fresh', async () => {
    const proxy = await faultProxy(reg.url, 0, 200);
    try {
      let now = 0;
      const client = new OciRegistryClient({ now: () => now, tagCacheTtlMs: 1000 });
      await client.listTags(`${proxy.host}/demo/app`);
      await client.listTags(`${proxy.host}/demo/app`);
      expect(proxy.seen.filter((s) => s.includes('tags/list'))).toHaveLength(1);
      await client.listTags(`${proxy.host}/demo/app`, { fresh: true });
      now = 5000;
      await client.listTags(`${proxy.host}/demo/app`);
      expect(proxy.seen.filter((s) => s.includes('tags/list'))).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('bounds the tag cache: past tagCacheMax images the oldest entry is evicted first', async () => {
    const fetched: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      fetched.push(/\/v2\/x\/(\w+)\//.exec(String(input))?.[1] ?? '?');
      return new Response('{"tags":["1"]}', { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const client = new OciRegistryClient({ fetch: fakeFetch, now: () => 0, tagCacheMax: 2 });
    const list = (repo: string) => client.listTags(`registry.example.com/x/${repo}`);
    await list('a');
    await list('b');
    await list('a'); // a hit, which does not make `a` any younger
    expect(fetched).toEqual(['a', 'b']);
    await list('c'); // a third image: `a`, the oldest, goes
    await list('b');
    await list('c');
    expect(fetched).toEqual(['a', 'b', 'c']);
    await list('a');
    expect(fetched).toEqual(['a', 'b', 'c', 'a']);
  });

  it('a listing that waits on a fresh one in flight shares it, even after an older listing finished', async () => {
    const gates: (() => void)[] = [];
    let fetches = 0;
    const fakeFetch = (async () => {
      const n = ++fetches;
      await new Promise<void>((r) => gates.push(r));
      return new Response(`{"tags":["${n}"]}`, {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const client = new OciRegistryClient({ fetch: fakeFetch, now: () => 0, tagCacheTtlMs: 0 });
    const image = 'registry.example.com/x/a';
    const older = client.listTags(image);
    const fresh = client.listTags(image, { fresh: true });
    await waitFor('both listings to be fetching', () => gates.length === 2);
    gates[0]!();
    expect(await older).toEqual(['1']);
    const third = client.listTags(image); // the fresh listing is still in flight: share it
    gates[1]!();
    expect(await fresh).toEqual(['2']);
    expect(await third).toEqual(['2']);
    expect(fetches).toBe(2);
  });

  it.each([429, 503, 502])('survives transient %i answers', async (status) => {
    const proxy = await faultProxy(reg.url, 2, status);
    try {
      const client = new OciRegistryClient({ sleep: noSleep });
      expect(await client.resolveDigest(`${proxy.host}/demo/app`, '1.0.0')).toBe(digests['1.0.0']);
      expect(proxy.seen).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('gives up with a typed error when the registry keeps failing', async () => {
    const p429 = await faultProxy(reg.url, 100, 429);
    const p503 = await faultProxy(reg.url, 100, 503);
    try {
      const client = new OciRegistryClient({ sleep: noSleep, retry: { attempts: 3 } });
      await expect(client.listTags(`${p429.host}/demo/app`)).rejects.toBeInstanceOf(RegistryRateLimitedError);
      await expect(client.listTags(`${p503.host}/demo/app`)).rejects.toBeInstanceOf(RegistryUnavailableError);
      expect(p503.seen).toHaveLength(3);
    } finally {
      await p429.close();
      await p503.close();
    }
  });
});

describe('OCI client authentication', () => {
  let basic: Registry;
  let token: Registry;
  let dir: string;
  beforeAll(async () => {
    basic = await startRegistry({ auth: 'basic' });
    token = await startRegistry({ auth: 'token' });
    await pushImage(basic, 'team/app', '1.0.0');
    await pushImage(token, 'team/app', '1.0.0');
    dir = await mkdtemp(join(tmpdir(), 'tidemark-dockercfg-'));
  });
  afterAll(async () => {
    await basic?.stop();
    await token?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('basic auth: right credentials work, wrong ones are a RegistryAuthError', async () => {
    const { user, pass } = basic.defaultCreds!;
    const ok = new OciRegistryClient({ credentials: () => ({ username: user, password: pass }) });
    expect(await ok.listTags(`${basic.host}/team/app`)).toEqual(['1.0.0']);
    const bad = new OciRegistryClient({ credentials: () => ({ username: user, password: 'wrong' }) });
    await expect(bad.listTags(`${basic.host}/team/app`)).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(new OciRegistryClient().listTags(`${basic.host}/team/app`)).rejects.toBeInstanceOf(
      RegistryAuthError,
    );
  });

  it('bearer token challenge flow, with the token cached', async () => {
    const { user, pass } = token.defaultCreds!;
    const client = new OciRegistryClient({ credentials: () => ({ username: user, password: pass }) });
    const before = token.tokenServer!.requests.length;
    expect(await client.listTags(`${token.host}/team/app`)).toEqual(['1.0.0']);
    await client.resolveDigest(`${token.host}/team/app`, '1.0.0');
    await client.listTags(`${token.host}/team/app`, { fresh: true });
    expect(token.tokenServer!.requests.length - before).toBe(1);
  });

  it('credentials from a Docker config.json', async () => {
    const { user, pass } = basic.defaultCreds!;
    const file = join(dir, 'config.json');
    await writeFile(
      file,
      JSON.stringify({
        auths: { [basic.host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } },
      }),
    );
    const client = new OciRegistryClient({ credentials: dockerConfigCredentials(file) });
    expect(await client.listTags(`${basic.host}/team/app`)).toEqual(['1.0.0']);
  });
});

describe('OCI client per-host limits', () => {
  it('spaces requests to a host by requestsPerSecond and caps those in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    let now = 0;
    const fakeFetch = (async () => {
      starts.push(now);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return new Response('{"tags":["1"]}', { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const client = new OciRegistryClient({
      fetch: fakeFetch,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      hosts: { 'registry.example.com': { requestsPerSecond: 2, concurrency: 1 } },
    });
    await Promise.all(['a', 'b', 'c', 'd'].map((r) => client.listTags(`registry.example.com/x/${r}`)));
    expect(maxInFlight).toBe(1);
    expect(starts).toEqual([0, 500, 1000, 1500]);
  });

  it('hands a freed slot to the queued caller (FIFO): a caller arriving at the release waits its turn', async () => {
    // concurrency 1: A is in flight, B is queued. A's answer is released and C calls in after `k` microtask
    // turns. Trying every k up to 20 puts C's arrival at every point of the release, including the gap between
    // the slot being freed and B resuming, where C used to take the slot as well (two in flight).
    for (let k = 0; k <= 20; k++) {
      let inFlight = 0;
      let maxInFlight = 0;
      const started: string[] = [];
      let releaseA: (() => void) | undefined;
      const fakeFetch = (async (input: string | URL | Request) => {
        const repo = /\/v2\/x\/(\w+)\//.exec(String(input))?.[1] ?? '?';
        started.push(repo);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // A answers when the test says so; the others on the next turn of the event loop, after every pending
        // microtask, so two callers holding the slot at once are both counted.
        await new Promise<void>((r) => {
          if (repo === 'a') releaseA = r;
          else setImmediate(r);
        });
        inFlight--;
        return new Response('{"tags":["1"]}', {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      }) as typeof fetch;
      const client = new OciRegistryClient({
        fetch: fakeFetch,
        hosts: { 'registry.example.com': { concurrency: 1 } },
      });
      const a = client.listTags('registry.example.com/x/a');
      const b = client.listTags('registry.example.com/x/b');
      expect(started).toEqual(['a']);
      releaseA?.();
      for (let i = 0; i < k; i++) await Promise.resolve();
      const c = client.listTags('registry.example.com/x/c');
      await Promise.all([a, b, c]);
      expect({ k, maxInFlight, started }).toEqual({ k, maxInFlight: 1, started: ['a', 'b', 'c'] });
    }
  });
});

/** A real HTTP server on 127.0.0.1 (port 0) that records each request's URL and authorization header. */
async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: { url: string; authorization: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const json = (res: ServerResponse, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('OCI client tag-list pagination', () => {
  it('follows relative and same-origin Links, but refuses a Link to another origin without contacting it', async () => {
    // The other host challenges for Basic auth and would accept anything: before the fix it received the
    // first registry's credentials and its tags were merged into the list.
    const other = await httpServer((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="other"' });
        res.end();
        return;
      }
      json(res, { name: 'team/app', tags: ['evil'] });
    });
    const registry = await httpServer((req, res) => {
      const page = new URL(req.url ?? '/', 'http://x').searchParams.get('last');
      if (!page)
        return json(
          res,
          { tags: ['1.0.0'] },
          { link: '</v2/team/app/tags/list?n=1&last=1.0.0>; rel="next"' },
        );
      if (page === '1.0.0')
        return json(
          res,
          { tags: ['1.1.0'] },
          { link: `<${registry.url}/v2/team/app/tags/list?n=1&last=1.1.0>; rel="next"` },
        );
      return json(
        res,
        { tags: ['2.0.0'] },
        { link: `<${other.url}/v2/team/app/tags/list?n=1&last=2.0.0>; rel="next"` },
      );
    });
    try {
      const client = new OciRegistryClient({
        pageSize: 1,
        credentials: () => ({ username: 'ci', password: 's3cret' }),
      });
      const err = await client.listTags(`${registry.host}/team/app`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryProtocolError);
      expect((err as RegistryProtocolError).retryable).toBe(false);
      expect((err as Error).message).toContain(registry.host);
      expect((err as Error).message).toContain(other.host);
      // The relative Link and the absolute same-origin Link were both followed.
      expect(registry.seen.map((s) => new URL(s.url, 'http://x').searchParams.get('last'))).toEqual([
        null,
        '1.0.0',
        '1.1.0',
      ]);
      expect(other.seen).toEqual([]);
    } finally {
      await registry.close();
      await other.close();
    }
  });

  it('stops after MAX_TAG_PAGES pages with a RegistryProtocolError naming the host', async () => {
    let calls = 0;
    const fakeFetch = (async (input: string | URL | Request) => {
      calls++;
      const last = calls < 1500 ? `</v2/x/app/tags/list?n=1&last=t${calls}>; rel="next"` : undefined;
      expect(String(input)).toMatch(/^https:\/\/registry\.example\.com\/v2\/x\/app\/tags\/list/);
      return new Response(JSON.stringify({ tags: [`t${calls}`] }), {
        status: 200,
        headers: { 'content-type': 'application/json', ...(last && { link: last }) },
      });
    }) as typeof fetch;
    const client = new OciRegistryClient({ fetch: fakeFetch, pageSize: 1 });
    const err = await client.listTags('registry.example.com/x/app').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryProtocolError);
    expect((err as Error).message).toContain('registry.example.com');
    expect((err as Error).message).toContain(`${MAX_TAG_PAGES} pages`);
    expect(calls).toBe(MAX_TAG_PAGES);
  });
});
