/**
 * The operator's registry policy: a repo cannot make tidemark contact loopback, link-local, private or
 * cluster-internal hosts (nor send credentials to a token service on another domain, nor follow a redirect
 * there). Canary servers on loopback prove that a refused host received nothing — checked after the refusal,
 * which is itself the proof the request was processed.
 */

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { RegistryEgressError } from '../../src/core/errors.js';
import { addressProblem, EgressPolicy, parseAllowHosts } from '../../src/registry/egress.js';
import { OciRegistryClient } from '../../src/registry/oci-client.js';
import { captureIO } from '../cli/capture-io.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Canary {
  readonly port: number;
  readonly hits: string[];
  close(): Promise<void>;
}

/** A server that records every request and answers as `answer` says. */
async function canary(
  answer: (req: { url: string; headers: Record<string, string | string[] | undefined> }) => Answer = () => ({
    status: 200,
    body: '{"tags":["1.0.0"]}',
  }),
): Promise<Canary> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} auth=${req.headers.authorization ?? ''}`);
    const a = answer({ url: req.url ?? '', headers: req.headers });
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
    res.end(a.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const lookupTo =
  (...addresses: string[]) =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('addresses and names', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['169.254.169.254', 'a link-local address (cloud metadata lives there)'],
    ['10.1.2.3', 'a private or reserved address'],
    ['172.20.0.1', 'a private or reserved address'],
    ['192.168.1.1', 'a private or reserved address'],
    ['100.64.0.1', 'a private or reserved address'],
    ['fd00::1', 'a private or reserved address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['0.0.0.0', 'a private or reserved address'],
  ])('%s is %s', (address, problem) => expect(addressProblem(address)).toBe(problem));

  it.each(['140.82.112.33', '2606:50c0:8000::154', '8.8.8.8'])('%s is public', (a) =>
    expect(addressProblem(a)).toBeUndefined(),
  );

  it('refuses internal names without a lookup, and names that resolve inward', async () => {
    const p = new EgressPolicy([], lookupTo('10.0.0.7'));
    for (const host of ['redis:6379', 'registry.registry.svc:5000', 'kube.cluster.local', 'localhost:5000'])
      await expect(p.check(new URL(`https://${host}/v2/`))).rejects.toThrow(/only resolves inside a cluster/);
    await expect(p.check(new URL('https://rebind.example.com/v2/'))).rejects.toThrow(
      'rebind.example.com is not a registry tidemark may contact: it is a private or reserved address (rebind.example.com resolves to 10.0.0.7); an operator who trusts it adds it to TIDEMARK_REGISTRY_ALLOW_HOSTS (e.g. rebind.example.com)',
    );
    await expect(
      new EgressPolicy([], lookupTo('140.82.112.33')).check(new URL('https://ghcr.io/v2/')),
    ).resolves.toBeUndefined();
  });

  it('the operator allows hosts, ports and domains', async () => {
    const { rules, problems } = parseAllowHosts('registry.svc:5000, *.corp.example, 127.0.0.1');
    expect(problems).toEqual([]);
    const p = new EgressPolicy(rules, lookupTo('10.0.0.7'));
    await expect(p.check(new URL('http://registry.svc:5000/v2/'))).resolves.toBeUndefined();
    await expect(p.check(new URL('http://registry.svc:6379/'))).rejects.toBeInstanceOf(RegistryEgressError);
    await expect(p.check(new URL('https://harbor.corp.example/v2/'))).resolves.toBeUndefined();
    await expect(p.check(new URL('http://127.0.0.1:9999/v2/'))).resolves.toBeUndefined();
    expect(parseAllowHosts('http://x, a b').problems).toHaveLength(2);
  });

  it('token realms stay on the registry domain, a known auth host, or an allowed host', () => {
    const p = new EgressPolicy(parseAllowHosts('auth.corp.example').rules);
    expect(p.realmAllowed('ghcr.io', new URL('https://ghcr.io/token'))).toBe(true);
    expect(p.realmAllowed('registry.gitlab.com', new URL('https://gitlab.com/jwt/auth'))).toBe(true);
    expect(p.realmAllowed('registry-1.docker.io', new URL('https://auth.docker.io/token'))).toBe(true);
    expect(p.realmAllowed('harbor.example.org', new URL('https://auth.corp.example/t'))).toBe(true);
    expect(p.realmAllowed('evil.example.org', new URL('http://169.254.169.254/latest/meta-data'))).toBe(
      false,
    );
    expect(p.realmAllowed('evil.example.org', new URL('https://collector.attacker.net/t'))).toBe(false);
  });
});

describe('the OCI client under the policy (real HTTP, loopback canaries)', () => {
  let target: Canary;
  let registry: Canary;
  let realm: Canary;
  beforeAll(async () => {
    target = await canary();
    realm = await canary(() => ({ status: 200, body: '{"token":"t"}' }));
    registry = await canary(({ url, headers }): Answer => {
      if (url.startsWith('/v2/redirect/'))
        return { status: 307, headers: { location: `http://127.0.0.1:${target.port}/v2/x/tags/list` } };
      if (url.startsWith('/v2/realm/') && !headers.authorization)
        return {
          status: 401,
          headers: { 'www-authenticate': `Bearer realm="http://localhost:${realm.port}/token",service="x"` },
        };
      return { status: 200, body: '{"tags":["1.0.0"]}' };
    });
  });
  afterAll(async () => {
    await Promise.all([target?.close(), registry?.close(), realm?.close()]);
  });

  const client = (allow: string) =>
    new OciRegistryClient({ egress: new EgressPolicy(parseAllowHosts(allow).rules), retry: { attempts: 1 } });

  it('a loopback registry the operator did not list is never contacted', async () => {
    await expect(client('').listTags(`127.0.0.1:${target.port}/acme/app`)).rejects.toThrow(
      `127.0.0.1:${target.port} is not a registry tidemark may contact: it is a loopback address`,
    );
    expect(target.hits).toEqual([]);
    await expect(client('').listTags('169.254.169.254/latest/app')).rejects.toBeInstanceOf(
      RegistryEgressError,
    );
  });

  it('listed by host and port, it is', async () => {
    expect(
      await client(`127.0.0.1:${registry.port}`).listTags(`127.0.0.1:${registry.port}/acme/app`),
    ).toEqual(['1.0.0']);
  });

  it('a redirect to a host the policy refuses is not followed', async () => {
    const before = target.hits.length;
    await expect(
      client(`127.0.0.1:${registry.port}`).listTags(`127.0.0.1:${registry.port}/redirect/app`),
    ).rejects.toThrow(`127.0.0.1:${target.port} is not a registry tidemark may contact`);
    expect(target.hits.length).toBe(before);
  });

  it('a token realm on another host gets no credentials and no request', async () => {
    const c = new OciRegistryClient({
      egress: new EgressPolicy(parseAllowHosts(`127.0.0.1:${registry.port}`).rules),
      credentials: () => ({ username: 'u', password: 'secret-password' }),
      retry: { attempts: 1 },
    });
    await expect(c.listTags(`127.0.0.1:${registry.port}/realm/app`)).rejects.toThrow(
      `its token service localhost:${realm.port} is on another domain; tidemark sends no credentials there`,
    );
    expect(realm.hits).toEqual([]);
  });
});

describe('tidemark plan under the policy', () => {
  it('a repo naming a loopback or metadata host: the registry error names the variable; the canary got nothing', async () => {
    const c = await canary();
    try {
      const dir = await mkdtemp(join(tmpdir(), 'tidemark-egress-'));
      await mkdir(join(dir, '.github'));
      await writeFile(
        join(dir, '.github/tidemark.yml'),
        `policies:\n  - name: app\n    image: 127.0.0.1:${c.port}/acme/app\n    policy: { semver: { range: ">=1.0.0" } }\n  - name: meta\n    image: 169.254.169.254/latest/app\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      );
      await writeFile(
        join(dir, 'deploy.yaml'),
        `image: 127.0.0.1:${c.port}/acme/app:0.9.0 # {"$imagepolicy": "flux-system:app"}\nother: 169.254.169.254/latest/app:0.9.0 # {"$imagepolicy": "flux-system:meta"}\n`,
      );
      const io = captureIO({ env: { TIDEMARK_REGISTRY_ALLOW_HOSTS: '' } });
      expect(await main(['plan', '--dir', dir], io)).toBe(3);
      expect(io.err).toContain(
        `127.0.0.1:${c.port} is not a registry tidemark may contact: it is a loopback address`,
      );
      expect(io.err).toContain(
        '169.254.169.254 is not a registry tidemark may contact: it is a link-local address',
      );
      expect(io.err).toContain('TIDEMARK_REGISTRY_ALLOW_HOSTS');
      expect(c.hits).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
