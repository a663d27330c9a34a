/**
 * Helm charts behind the registry port: an HTTP Helm repository read from its index.yaml (ETag, cache, egress
 * policy, errors that say what to fix), an OCI chart's tags read as versions (`_` ↔ `+`), and how a policy's
 * `image` names a chart.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RegistryAuthError,
  RegistryEgressError,
  RegistryNotFoundError,
  RegistryProtocolError,
} from '../../src/core/errors.js';
import { EgressPolicy } from '../../src/registry/egress.js';
import { HelmRepositoryClient, parseIndex, withCharts } from '../../src/registry/helm-charts.js';
import type { RegistryClient } from '../../src/registry/types.js';
import { type ChartRepo, startChartRepo } from '../support/chart-repo.js';

const loopbackAllowed = () => new EgressPolicy([{ host: '127.0.0.1' }]);

describe('HTTP Helm repository', () => {
  let repo: ChartRepo;
  beforeAll(async () => {
    repo = await startChartRepo({ 'cert-manager': ['v1.13.0', 'v1.14.2'], redis: ['18.1.0'] });
  });
  afterAll(async () => {
    await repo?.stop();
  });

  it('reads versions from index.yaml; an unchanged index costs a 304; a recent one no request', async () => {
    let now = 1_000_000;
    const client = withCharts(
      noImages(),
      new HelmRepositoryClient({ egress: loopbackAllowed(), now: () => now, cacheMs: 60_000 }),
    );
    const image = `${repo.url}/cert-manager`;
    const before = repo.requests.length;
    expect(await client.listTags(image)).toEqual(['v1.13.0', 'v1.14.2']);
    expect(await client.listTags(`${repo.url}/redis`)).toEqual(['18.1.0']); // same index, cached
    expect(repo.requests.length - before).toBe(1);

    now += 10_000;
    expect(await client.listTags(image, { fresh: true })).toEqual(['v1.13.0', 'v1.14.2']);
    expect(repo.answers.get(304)).toBe(1);

    repo.add('cert-manager', 'v1.15.0');
    now += 61_000;
    expect(await client.listTags(image)).toEqual(['v1.13.0', 'v1.14.2', 'v1.15.0']);
    expect(repo.requests.length - before).toBe(3);
    expect(await client.resolveDigest(image, 'v1.15.0')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('a chart the index does not list: the error names the charts it does list', async () => {
    const client = withCharts(noImages(), new HelmRepositoryClient({ egress: loopbackAllowed() }));
    const err = await client.listTags(`${repo.url}/cert-manger`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryProtocolError);
    expect((err as Error).message).toContain('lists no chart "cert-manger" (it lists cert-manager, redis');
  });

  it('a wrong repository URL: 404, not retried, says to check the URL', async () => {
    const client = withCharts(noImages(), new HelmRepositoryClient({ egress: loopbackAllowed() }));
    const wrong = repo.url.replace('/charts', '/chart');
    const err = await client.listTags(`${wrong}/redis`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryNotFoundError);
    expect((err as Error).message).toContain(`${wrong}/index.yaml: the Helm repository answered 404`);
  });

  it('the operator policy: a loopback repository not listed is refused before any request', async () => {
    const client = withCharts(noImages(), new HelmRepositoryClient({ egress: new EgressPolicy([]) }));
    const before = repo.requests.length;
    const err = await client.listTags(`${repo.url}/redis`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryEgressError);
    expect((err as Error).message).toContain('TIDEMARK_REGISTRY_ALLOW_HOSTS');
    expect(repo.requests.length).toBe(before);
  });

  it('a redirect to a host the policy refuses is not followed', async () => {
    const redirector = createServer((_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/index.yaml' }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const port = (redirector.address() as AddressInfo).port;
    try {
      const client = withCharts(noImages(), new HelmRepositoryClient({ egress: loopbackAllowed() }));
      const err = await client.listTags(`http://127.0.0.1:${port}/charts/redis`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryEgressError);
      expect((err as Error).message).toContain('169.254.169.254');
    } finally {
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });

  it('plain HTTP only to loopback or a host the operator lists as insecure', async () => {
    const asked: string[] = [];
    const fetchFn = (async (url: URL) => {
      asked.push(String(url));
      return new Response('entries:\n  redis:\n    - version: 18.1.0\n');
    }) as unknown as typeof fetch;
    const egress = new EgressPolicy([{ host: 'charts.internal.example' }]);
    const refused = withCharts(noImages(), new HelmRepositoryClient({ egress, fetch: fetchFn }));
    const err = await refused.listTags('http://charts.internal.example/redis').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryEgressError);
    expect((err as Error).message).toContain(
      'write its https:// URL, or an operator who trusts the network adds charts.internal.example to TIDEMARK_REGISTRY_INSECURE_HOSTS',
    );
    expect(asked).toEqual([]);
    const listed = withCharts(
      noImages(),
      new HelmRepositoryClient({ egress, fetch: fetchFn, plainHttpHosts: ['charts.internal.example'] }),
    );
    expect(await listed.listTags('http://charts.internal.example/redis')).toEqual(['18.1.0']);
    expect(asked).toEqual(['http://charts.internal.example/index.yaml']);
  });

  it("a private repository: the operator's credentials for its host are sent to that origin only", async () => {
    const priv = await startChartRepo({ redis: ['18.1.0'] }, { basic: { user: 'ci', pass: 'chart-s3cret' } });
    const seen: (string | undefined)[] = [];
    const elsewhere = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const redirector = createServer((_req, res) => {
      const port = (elsewhere.address() as AddressInfo).port;
      res.writeHead(302, { location: `http://127.0.0.1:${port}/charts/index.yaml` }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const host = new URL(priv.url).host;
      const redirectHost = `127.0.0.1:${(redirector.address() as AddressInfo).port}`;
      const creds = (h: string) =>
        h === host || h === redirectHost ? { username: 'ci', password: 'chart-s3cret' } : undefined;
      const anonymous = withCharts(noImages(), new HelmRepositoryClient({ egress: loopbackAllowed() }));
      const refused = await anonymous.listTags(`${priv.url}/redis`).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RegistryAuthError);
      expect((refused as Error).message).toContain(
        `an operator adds them for ${host} to the Docker config.json (DOCKER_CONFIG)`,
      );

      const client = withCharts(
        noImages(),
        new HelmRepositoryClient({ egress: loopbackAllowed(), credentials: creds }),
      );
      expect(await client.listTags(`${priv.url}/redis`)).toEqual(['18.1.0']);
      // A redirect to another origin never carries them.
      await client.listTags(`http://${redirectHost}/charts/redis`).catch(() => undefined);
      expect(seen).toEqual([undefined]);
    } finally {
      await priv.stop();
      await new Promise<void>((r) => redirector.close(() => r()));
      await new Promise<void>((r) => elsewhere.close(() => r()));
    }
  });

  it('an index larger than the limit is not read', async () => {
    const client = withCharts(
      noImages(),
      new HelmRepositoryClient({ egress: loopbackAllowed(), maxIndexBytes: 100 }),
    );
    const err = await client.listTags(`${repo.url}/redis`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryProtocolError);
    expect((err as Error).message).toContain('is larger than 100 bytes');
  });

  it('parseIndex: entries without a digest are known by their contents; a file that is no index is refused', () => {
    const charts = parseIndex(
      'entries:\n  a:\n    - version: 1.0.0\n      digest: nothex\n    - version: 1.1.0\n    - name: no-version\n',
      'https://x',
    );
    expect(charts.get('a')!.map((e) => e.version)).toEqual(['1.0.0', '1.1.0']);
    expect(charts.get('a')![0]!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(() => parseIndex('just: text\n', 'https://x')).toThrow('is not a Helm repository index');
    expect(() => parseIndex('entries: [\n', 'https://x')).toThrow('is not valid YAML');
  });
});

describe('OCI charts', () => {
  it('tags are read as versions (`_` → `+`), and a version is looked up by its tag', async () => {
    const asked: string[] = [];
    const images: RegistryClient = {
      listTags: async (image) => {
        asked.push(`list ${image}`);
        return ['6.5.0', '6.7.1_build.7'];
      },
      resolveDigest: async (image, tag) => {
        asked.push(`digest ${image}:${tag}`);
        return `sha256:${'a'.repeat(64)}`;
      },
    };
    const client = withCharts(images, new HelmRepositoryClient());
    expect(await client.listTags('oci://127.0.0.1:5000/charts/podinfo')).toEqual(['6.5.0', '6.7.1+build.7']);
    await client.resolveDigest('oci://127.0.0.1:5000/charts/podinfo', '6.7.1+build.7');
    // A container image goes to the image client unchanged.
    await client.listTags('127.0.0.1:5000/acme/web');
    expect(asked).toEqual([
      'list 127.0.0.1:5000/charts/podinfo',
      'digest 127.0.0.1:5000/charts/podinfo:6.7.1_build.7',
      'list 127.0.0.1:5000/acme/web',
    ]);
  });
});

/** The image side of the port, for tests that only read charts: any use of it fails the test. */
function noImages(): RegistryClient {
  return {
    listTags: async (image) => {
      throw new Error(`unexpected image read: ${image}`);
    },
    resolveDigest: async (image) => {
      throw new Error(`unexpected image read: ${image}`);
    },
  };
}
