/**
 * Which registry hosts tidemark may contact is the operator's decision, not a repo's. A repo names images, and
 * an image names a host: without a rule, a repo could make tidemark send requests — with whatever credentials it
 * holds for that host — to the cloud metadata service, a Redis on the pod's loopback, or a cluster-internal
 * service. So every request (and every redirect hop, and every token realm) is checked after DNS resolution:
 *
 * - a host that is not a public name or resolves to a loopback, private, link-local, shared (CGNAT),
 *   unique-local, multicast or unspecified address is refused, unless the operator lists it in
 *   `TIDEMARK_REGISTRY_ALLOW_HOSTS` (`host`, `host:port`, `*.domain`, or `*` for any host);
 * - a token realm must be on the registry's own domain, a known auth host of a public registry, or listed.
 *
 * The check is a lookup before the connection; a name that changes its answer between the two (DNS
 * rebinding) is not caught — the network policy of `deploy/` is the second fence.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { RegistryEgressError, RegistryProtocolError } from '../core/errors.js';

export type Lookup = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

export interface AllowRule {
  /** Exact host, or `*.example.com` (any subdomain), or `*` (every host). */
  readonly host: string;
  /** Any port when absent. */
  readonly port?: string;
}

const RULE_RE = /^(\*|\*\.[a-z0-9.-]+|[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}|\*))?$/i;

/** `TIDEMARK_REGISTRY_ALLOW_HOSTS`: comma-separated rules; problems name the entry and the form expected. */
export function parseAllowHosts(raw: string | undefined): { rules: AllowRule[]; problems: string[] } {
  const rules: AllowRule[] = [];
  const problems: string[] = [];
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = RULE_RE.exec(entry);
    if (!m) {
      problems.push(
        `TIDEMARK_REGISTRY_ALLOW_HOSTS: "${entry}" is not a host rule; write host, host:port, *.domain or *, comma-separated`,
      );
      continue;
    }
    rules.push({ host: m[1]!.toLowerCase(), ...(m[2] && m[2] !== '*' && { port: m[2] }) });
  }
  return { rules, problems };
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local: cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** Why an address may not be contacted without the operator's say, or undefined for a public address. */
export function addressProblem(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped ? mapped[1]! : address;
  const family = isIP(a);
  if (family === 0) return `"${address}" is not an address`;
  if (!blocked.check(a, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
  if (/^127\./.test(a) || a === '::1') return 'a loopback address';
  if (/^169\.254\./.test(a) || /^fe[89ab]/i.test(a))
    return 'a link-local address (cloud metadata lives there)';
  return 'a private or reserved address';
}

/** Names that only mean something inside a cluster or a host. */
function internalName(host: string): boolean {
  if (isIP(host)) return false;
  return !host.includes('.') || /(^|\.)(localhost|local|internal|svc|cluster\.local|home\.arpa)$/i.test(host);
}

/** Public registries whose token service lives on another host. */
const KNOWN_AUTH_HOSTS: Readonly<Record<string, readonly string[]>> = {
  'registry-1.docker.io': ['auth.docker.io'],
  'docker.io': ['auth.docker.io'],
};

/** The last two labels: `registry.gitlab.com` and `gitlab.com` share `gitlab.com`. */
function domainOf(host: string): string {
  if (isIP(host) || host.startsWith('[')) return host;
  return host.split('.').slice(-2).join('.');
}

export class EgressPolicy {
  private readonly checked = new Map<string, { at: number; problem?: string }>();
  constructor(
    private readonly rules: readonly AllowRule[],
    private readonly lookup: Lookup = systemLookup,
    private readonly now: () => number = Date.now,
  ) {}

  /** The operator listed this host (and port). */
  allows(hostname: string, port: string): boolean {
    const h = hostname.toLowerCase();
    return this.rules.some(
      (r) =>
        (r.host === '*' || r.host === h || (r.host.startsWith('*.') && h.endsWith(r.host.slice(1)))) &&
        (r.port === undefined || r.port === port),
    );
  }

  /** Throws RegistryEgressError when `url` may not be contacted. Lookups are remembered for a minute. */
  async check(url: URL): Promise<void> {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port || (url.protocol === 'http:' ? '80' : '443');
    const hostPort = url.port ? `${url.hostname}:${url.port}` : url.hostname;
    if (this.allows(url.hostname, port) || this.allows(hostname, port)) return;
    const key = `${hostname}:${port}`;
    const known = this.checked.get(key);
    let problem: string | undefined;
    if (known && this.now() - known.at < 60_000) problem = known.problem;
    else {
      problem = internalName(hostname)
        ? 'a name that only resolves inside a cluster or host'
        : isIP(hostname)
          ? addressProblem(hostname)
          : await this.resolveProblem(hostname);
      if (this.checked.size > 1000) this.checked.clear();
      this.checked.set(key, { at: this.now(), ...(problem && { problem }) });
    }
    if (problem)
      throw new RegistryEgressError(
        `${hostPort} is not a registry tidemark may contact: it is ${problem}; an operator who trusts it adds it to TIDEMARK_REGISTRY_ALLOW_HOSTS (e.g. ${hostPort})`,
      );
  }

  private async resolveProblem(hostname: string): Promise<string | undefined> {
    let addresses: readonly { address: string }[];
    try {
      addresses = await this.lookup(hostname);
    } catch {
      return undefined; // not resolvable: the request itself fails with the resolver's message
    }
    for (const a of addresses) {
      const p = addressProblem(a.address);
      if (p) return `${p} (${hostname} resolves to ${a.address})`;
    }
    return undefined;
  }

  /** A token realm on the registry's own domain, a known auth host, or a host the operator listed. */
  realmAllowed(registryHost: string, realm: URL): boolean {
    const rh = registryHost.replace(/:\d+$/, '').toLowerCase();
    const host = realm.hostname.toLowerCase();
    if (host === rh || domainOf(host) === domainOf(rh)) return true;
    if (KNOWN_AUTH_HOSTS[rh]?.includes(host)) return true;
    return this.allows(host, realm.port || (realm.protocol === 'http:' ? '80' : '443'));
  }
}

/**
 * Plain HTTP only for loopback hosts (as Docker does) and those the operator lists in
 * TIDEMARK_REGISTRY_INSECURE_HOSTS (`host` or `host:port`). The one rule for registries, their cloud token
 * endpoints and Helm repositories.
 */
export function plainHttpAllowed(host: string, insecureHosts: readonly string[] = []): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host) || insecureHosts.includes(host);
}

/**
 * A request whose redirects are followed by hand: each new hop passes `checkHop` first (the egress policy), and
 * the Authorization header is dropped for good once a hop leaves the first URL's origin (blob downloads and
 * mirrors are on hosts that must never see the credentials). At most 5 redirects. The first URL is the
 * caller's to check.
 */
export async function fetchFollowingRedirects(
  fetchFn: typeof fetch,
  url: URL,
  init: { method?: string; headers: Record<string, string>; signal?: AbortSignal },
  checkHop: (hop: URL) => Promise<void> | void,
): Promise<Response> {
  let current = url;
  let headers = init.headers;
  for (let hop = 0; ; hop++) {
    const res = await fetchFn(current, { ...init, headers, redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || res.status === 304 || !location) return res;
    if (hop >= 5) throw new RegistryProtocolError(`${url.href}: more than 5 redirects`);
    await res.arrayBuffer().catch(() => undefined);
    current = new URL(location, current);
    await checkHop(current);
    if (current.origin !== url.origin) {
      const { authorization: _dropped, ...rest } = headers;
      headers = rest;
    }
  }
}
