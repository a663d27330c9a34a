/**
 * An OCI Distribution API client: tag lists (every page, via `Link`), manifest digests, image metadata
 * (OCI annotations and config labels), anonymous / Basic / Bearer-token auth, retries with backoff on 429 and
 * 5xx honouring `Retry-After`, a per-host concurrency limit, and a TTL cache for tag lists. Every cache is
 * bounded: tag lists (`tagCacheMax`, oldest first), bearer tokens, and idle per-host limiters.
 */

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RegistryCredentials } from '../core/config/registry-access.js';
import { parseImageRef } from '../core/domain/image-ref.js';
import {
  RegistryAuthError,
  RegistryEgressError,
  RegistryNotFoundError,
  RegistryProtocolError,
  RegistryRateLimitedError,
  RegistryUnavailableError,
} from '../core/errors.js';
import { backoffDelay } from '../time/backoff.js';
import { type EgressPolicy, fetchFollowingRedirects, plainHttpAllowed } from './egress.js';
import type { ImageMetadata, RegistryClient } from './types.js';

export type Credentials = RegistryCredentials;
/** Credentials for a registry host, or none (anonymous). */
export interface CredentialSource {
  (host: string): Credentials | undefined | Promise<Credentials | undefined>;
  /**
   * The registry (or its token service) refused `creds` for `host`. A source that caches short-lived credentials
   * (cloud identity) drops them and answers true: asking again would give others, so the request is retried once.
   */
  invalidate?(host: string, creds: Credentials): boolean;
}

export interface OciClientOptions {
  /**
   * The operator's registry policy: checked before every request, every redirect hop and every token realm.
   * Without it (unit tests, a client built by hand) any host is contacted.
   */
  readonly egress?: Pick<EgressPolicy, 'check' | 'realmAllowed'>;
  readonly credentials?: CredentialSource;
  readonly fetch?: typeof fetch;
  readonly tagCacheTtlMs?: number;
  /** Images whose tag lists are cached at once (default 1,000); past it the oldest entry is evicted. */
  readonly tagCacheMax?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pageSize?: number;
  readonly retry?: { readonly attempts?: number; readonly baseMs?: number; readonly maxMs?: number };
  /**
   * Read an image's registry through a mirror (a pull-through cache, an air-gapped copy):
   * `{ "ghcr.io": "https://ghcr-mirror.internal" }`. Image names, markers and PRs keep the original host.
   */
  readonly mirrors?: Readonly<Record<string, string>>;
  /** Hosts spoken to over plain HTTP besides localhost / 127.0.0.1 / [::1]. */
  readonly insecureHosts?: readonly string[];
  /** Requests in flight per registry host (default 8). */
  readonly concurrency?: number;
  /** Per-host limits that override the defaults, e.g. from `.github/tidemark.yml` `registries:`. */
  readonly hosts?: Readonly<
    Record<string, { readonly concurrency?: number; readonly requestsPerSecond?: number }>
  >;
  readonly onResponse?: (host: string, status: number | 'error') => void;
  readonly userAgent?: string;
  /**
   * Every registry request has this long (ms, default 20 s) from connecting to the last byte. A host that let a
   * request run out is not asked again for `unresponsiveMs` (default 60 s): its images fail fast, so a registry
   * that accepts connections and never answers delays only its own repos, and only once.
   */
  readonly timeoutMs?: number;
  readonly unresponsiveMs?: number;
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Target {
  readonly host: string;
  readonly apiBase: string;
  readonly repository: string;
}

/** At most `limit` at once, and (when set) at most `perSecond` starts per second, spaced evenly. */
class HostLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private nextStart = 0;
  constructor(
    private readonly limit: number,
    private readonly perSecond: number | undefined,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  /** Nothing in flight or queued and no start spacing pending: dropping it loses nothing. */
  idle(): boolean {
    return this.active === 0 && this.waiting.length === 0 && this.nextStart <= this.now();
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    // A waiter is woken with the slot already counted as its own (see `finally`), so nobody arriving between
    // the release and the waiter resuming can take it: at most `limit` at once, in arrival order.
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      if (this.perSecond) {
        const at = Math.max(this.now(), this.nextStart);
        this.nextStart = at + 1000 / this.perSecond;
        const wait = at - this.now();
        if (wait > 0) await this.sleep(wait);
      }
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** `Retry-After` in seconds or as an HTTP date, in ms. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Parse `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(
  header: string | null,
): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"|(\w+)=([^,\s]+)/g))
    params[(p[1] ?? p[3])!.toLowerCase()] = (p[2] ?? p[4])!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** Bearer tokens cached at once (one per host and scope); past it the oldest is evicted. */
const MAX_CACHED_TOKENS = 1000;
/** Per-host limiters kept; past it idle ones (nothing in flight or queued, no pending spacing) are dropped. */
const MAX_HOST_LIMITERS = 1000;

/** Tag-list pages followed before giving up on a registry whose `Link`s never end (1,000 × `n` tags). */
export const MAX_TAG_PAGES = 1000;

/** The `rel="next"` target of a `Link` header, resolved against the URL of the page that carried it. */
function nextLink(header: string | null, base: string): string | undefined {
  const m = header ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(header) : null;
  return m ? new URL(m[1]!, base).toString() : undefined;
}

export class OciRegistryClient implements RegistryClient {
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /**
   * Read with `peek` (a hit does not make an entry younger) and written with `set` (a refresh is the newest), so
   * eviction past `tagCacheMax` is oldest-first. The TTL is checked on read against the injected clock.
   */
  private readonly tagCache: LRUCache<string, { at: number; tags: string[] }>;
  /** Requests in progress, not a cache: each entry is removed when its request settles. */
  private readonly inflight = new Map<string, Promise<string[]>>();
  private readonly tokens = new LRUCache<string, { token: string; expires: number }>({
    max: MAX_CACHED_TOKENS,
  });
  private readonly limits = new Map<string, HostLimiter>();
  /** Host → until when it is not asked (it let a request time out). Bounded by the hosts in use. */
  private readonly unresponsive = new LRUCache<string, number>({ max: 1000 });

  constructor(private readonly opts: OciClientOptions = {}) {
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.tagCache = new LRUCache({ max: Math.max(1, Math.floor(opts.tagCacheMax ?? 1000)) });
  }

  private target(image: string): Target {
    const ref = parseImageRef(image);
    const mirror = this.opts.mirrors?.[ref.registry];
    if (mirror)
      return { host: ref.registry, apiBase: mirror.replace(/\/+$/, ''), repository: ref.repository };
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    return {
      host: ref.registry,
      apiBase: `${plainHttpAllowed(host, this.opts.insecureHosts) ? 'http' : 'https'}://${host}`,
      repository: ref.repository,
    };
  }

  async listTags(image: string, o: { signal?: AbortSignal; fresh?: boolean } = {}): Promise<string[]> {
    const t = this.target(image);
    const key = `${t.host}/${t.repository}`;
    const hit = this.tagCache.peek(key);
    if (!o.fresh && hit && this.now() - hit.at < (this.opts.tagCacheTtlMs ?? 60_000)) return hit.tags;
    const pending = this.inflight.get(key);
    if (pending && !o.fresh) return pending;
    const p = (async () => {
      const tags: string[] = [];
      const origin = new URL(t.apiBase).origin;
      let url: string | undefined =
        `${t.apiBase}/v2/${t.repository}/tags/list?n=${this.opts.pageSize ?? 1000}`;
      for (let page = 1; url; page++) {
        // The registry's credentials go with every page, so a page may only come from the registry's origin.
        const nextOrigin = new URL(url).origin;
        if (nextOrigin !== origin)
          throw new RegistryProtocolError(
            `${t.host}/${t.repository}: the tag list's next page is on ${nextOrigin}, not ${origin}; refusing to follow a Link to another origin`,
          );
        if (page > MAX_TAG_PAGES)
          throw new RegistryProtocolError(
            `${t.host}/${t.repository}: ${origin} still linked a next tag-list page after ${MAX_TAG_PAGES} pages; giving up`,
          );
        const res = await this.request(
          t,
          url,
          { method: 'GET', accept: 'application/json', scope: 'pull' },
          o.signal,
        );
        const body = (await res.json()) as { tags?: string[] | null };
        tags.push(...(body.tags ?? []));
        url = nextLink(res.headers.get('link'), url);
      }
      this.tagCache.set(key, { at: this.now(), tags });
      return tags;
    })();
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      // Only our own entry: a `fresh` listing may have replaced it meanwhile, and others wait on that one.
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    }
  }

  async resolveDigest(image: string, tag: string, o: { signal?: AbortSignal } = {}): Promise<string> {
    const t = this.target(image);
    const url = `${t.apiBase}/v2/${t.repository}/manifests/${encodeURIComponent(tag)}`;
    const head = await this.request(
      t,
      url,
      { method: 'HEAD', accept: MANIFEST_ACCEPT, scope: 'pull' },
      o.signal,
    );
    const digest = head.headers.get('docker-content-digest');
    if (digest) return digest;
    const res = await this.request(
      t,
      url,
      { method: 'GET', accept: MANIFEST_ACCEPT, scope: 'pull' },
      o.signal,
    );
    return `sha256:${createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex')}`;
  }

  async getManifest(
    image: string,
    ref: string,
    o: { signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown>> {
    const t = this.target(image);
    const res = await this.request(
      t,
      `${t.apiBase}/v2/${t.repository}/manifests/${encodeURIComponent(ref)}`,
      { method: 'GET', accept: MANIFEST_ACCEPT, scope: 'pull' },
      o.signal,
    );
    return (await res.json()) as Record<string, unknown>;
  }

  async getImageMetadata(
    image: string,
    tag: string,
    o: { signal?: AbortSignal } = {},
  ): Promise<ImageMetadata> {
    const t = this.target(image);
    let manifest = await this.getManifest(image, tag, o);
    let annotations = (manifest.annotations ?? {}) as Record<string, string>;
    let platforms: string[] | undefined;
    const children = manifest.manifests as
      | { digest: string; platform?: { os?: string; architecture?: string; variant?: string } }[]
      | undefined;
    if (Array.isArray(children)) {
      platforms = children.flatMap((c) =>
        c.platform?.os
          ? [[c.platform.os, c.platform.architecture, c.platform.variant].filter(Boolean).join('/')]
          : [],
      );
      const child =
        children.find((c) => c.platform?.os === 'linux' && c.platform.architecture === 'amd64') ??
        children[0];
      if (child) {
        manifest = await this.getManifest(image, child.digest, o);
        annotations = { ...(manifest.annotations as Record<string, string> | undefined), ...annotations };
      }
    }
    let labels: Record<string, string> = {};
    let created: string | undefined;
    const config = manifest.config as { digest?: string } | undefined;
    if (config?.digest) {
      const res = await this.request(
        t,
        `${t.apiBase}/v2/${t.repository}/blobs/${config.digest}`,
        { method: 'GET', accept: '*/*', scope: 'pull' },
        o.signal,
      );
      const cfg = (await res.json()) as { created?: string; config?: { Labels?: Record<string, string> } };
      labels = cfg.config?.Labels ?? {};
      created = cfg.created;
    }
    const pick = (k: string) =>
      annotations[`org.opencontainers.image.${k}`] ?? labels[`org.opencontainers.image.${k}`];
    const out: ImageMetadata = {
      ...(pick('source') && { source: pick('source') }),
      ...(pick('revision') && { revision: pick('revision') }),
      ...((pick('created') ?? created) && { created: pick('created') ?? created }),
      ...(platforms && { platforms }),
    };
    return out;
  }

  private limiter(host: string): HostLimiter {
    const known = this.limits.get(host);
    if (known) return known;
    // A busy limiter is never dropped (its slots and spacing are in use), so the map can only exceed the
    // bound by hosts with requests in flight right now.
    if (this.limits.size >= MAX_HOST_LIMITERS)
      for (const [h, l] of this.limits) {
        if (this.limits.size < MAX_HOST_LIMITERS) break;
        if (l.idle()) this.limits.delete(h);
      }
    const h = this.opts.hosts?.[host];
    const s = new HostLimiter(
      h?.concurrency ?? this.opts.concurrency ?? 8,
      h?.requestsPerSecond,
      this.now,
      this.sleep,
    );
    this.limits.set(host, s);
    return s;
  }

  /**
   * The `Authorization` for a request the registry answered 401 with `challenge`. When the source's credentials are
   * refused (by the token service here, or by the registry in `request`), a source that can renew them
   * (`invalidate`) is asked once more.
   */
  private async authHeader(
    t: Target,
    challenge: ReturnType<typeof parseChallenge>,
    scope: string,
    signal: AbortSignal | undefined,
    renew: { renewed: boolean },
  ): Promise<{ header: string | undefined; creds: Credentials | undefined; tokenKey?: string }> {
    const creds = await this.opts.credentials?.(t.host);
    try {
      return await this.authHeaderWith(t, creds, challenge, scope, signal);
    } catch (err) {
      if (!(err instanceof RegistryAuthError) || !creds || renew.renewed) throw err;
      if (!this.opts.credentials?.invalidate?.(t.host, creds)) throw err;
      renew.renewed = true;
      const fresh = await this.opts.credentials(t.host);
      return this.authHeaderWith(t, fresh, challenge, scope, signal);
    }
  }

  private async authHeaderWith(
    t: Target,
    creds: Credentials | undefined,
    challenge: ReturnType<typeof parseChallenge>,
    scope: string,
    signal?: AbortSignal,
  ): Promise<{ header: string | undefined; creds: Credentials | undefined; tokenKey?: string }> {
    if (!challenge || challenge.scheme === 'basic') {
      if (!creds) return { header: undefined, creds };
      if ('token' in creds) return { header: `Bearer ${creds.token}`, creds };
      return {
        header: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
        creds,
      };
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return { header: undefined, creds };
    const scopeValue = challenge.params.scope ?? `repository:${t.repository}:${scope}`;
    const cacheKey = `${t.host}|${scopeValue}`;
    const cached = this.tokens.get(cacheKey);
    if (cached && cached.expires > this.now())
      return { header: `Bearer ${cached.token}`, creds, tokenKey: cacheKey };
    if (cached) this.tokens.delete(cacheKey);
    const url = new URL(challenge.params.realm);
    // A registry names its token service; the registry's credentials go there only when the operator's policy
    // says that host belongs to the registry.
    if (this.opts.egress) {
      if (!this.opts.egress.realmAllowed(t.host, url))
        throw new RegistryEgressError(
          `${t.host}: its token service ${url.host} is on another domain; tidemark sends no credentials there (an operator who trusts it adds ${url.host} to TIDEMARK_REGISTRY_ALLOW_HOSTS)`,
        );
      await this.opts.egress.check(url);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scopeValue);
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'tidemark' };
    if (creds && 'username' in creds)
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    if (creds && 'token' in creds) return { header: `Bearer ${creds.token}`, creds };
    const deadline = AbortSignal.timeout(this.opts.timeoutMs ?? 20_000);
    const res = await this.fetchFn(url, {
      headers,
      ...(this.opts.egress && { redirect: 'error' as const }),
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    this.opts.onResponse?.(t.host, res.status);
    if (res.status === 401 || res.status === 403)
      throw new RegistryAuthError(`${t.host}: the token service refused the credentials (${res.status})`);
    if (!res.ok) throw new RegistryUnavailableError(`${t.host}: token service answered ${res.status}`);
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError(`${t.host}: the token service returned no token`);
    this.tokens.set(cacheKey, {
      token,
      expires: this.now() + Math.max(10, (body.expires_in ?? 60) - 10) * 1000,
    });
    return { header: `Bearer ${token}`, creds, tokenKey: cacheKey };
  }

  /**
   * GET/HEAD following redirects. With an egress policy, each hop is followed by hand: checked by the policy,
   * and the Authorization header dropped as soon as a hop leaves the registry's origin (blob downloads go to
   * storage hosts that must never see registry credentials). Without one, fetch follows them.
   */
  private async fetchFollowing(
    url: string,
    init: { method: string; headers: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response> {
    const egress = this.opts.egress;
    if (!egress) return this.fetchFn(url, { ...init, redirect: 'follow' });
    return fetchFollowingRedirects(this.fetchFn, new URL(url), init, (hop) => egress.check(hop));
  }

  private async request(
    t: Target,
    url: string,
    o: { method: 'GET' | 'HEAD'; accept: string; scope: string },
    signal?: AbortSignal,
  ): Promise<Response> {
    const attempts = this.opts.retry?.attempts ?? 4;
    const base = this.opts.retry?.baseMs ?? 250;
    const max = this.opts.retry?.maxMs ?? 10_000;
    let auth: string | undefined;
    let authTried = false;
    /** What `auth` was made from, so a refusal can renew them once. */
    let used: { creds: Credentials | undefined; tokenKey?: string } | undefined;
    const renew = { renewed: false };
    const what = `${t.host}/${t.repository}`;
    const timeoutMs = this.opts.timeoutMs ?? 20_000;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      // Outside the try: a refusal by the operator's policy is a configuration problem, not a network error.
      if (this.opts.egress) await this.opts.egress.check(new URL(url));
      const quietUntil = this.unresponsive.get(t.host);
      if (quietUntil !== undefined && quietUntil > this.now())
        throw new RegistryUnavailableError(
          `${what}: ${t.host} let a request run past ${timeoutMs} ms; not asked again until ${new Date(quietUntil).toISOString()}`,
        );
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        res = await this.limiter(t.host).run(() =>
          this.fetchFollowing(url, {
            method: o.method,
            headers: {
              accept: o.accept,
              'user-agent': this.opts.userAgent ?? 'tidemark',
              ...(auth && { authorization: auth }),
            },
            signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
          }),
        );
      } catch (err) {
        if (err instanceof RegistryEgressError) throw err;
        this.opts.onResponse?.(t.host, 'error');
        if (deadline.aborted && !signal?.aborted) {
          // A registry that does not answer is not asked again at once (no retry now, none for a while).
          this.unresponsive.set(t.host, this.now() + (this.opts.unresponsiveMs ?? 60_000));
          throw new RegistryUnavailableError(`${what}: no answer within ${timeoutMs} ms`, { cause: err });
        }
        if (signal?.aborted || attempt >= attempts)
          throw new RegistryUnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
        await this.sleep(backoffDelay(attempt, { baseMs: base, maxMs: max }));
        continue;
      }
      this.opts.onResponse?.(t.host, res.status);
      if (res.ok) return res;
      const renewable =
        res.status === 401 &&
        authTried &&
        !renew.renewed &&
        used?.creds !== undefined &&
        this.opts.credentials?.invalidate?.(t.host, used.creds) === true;
      if (res.status === 401 && (!authTried || renewable)) {
        // Refused with credentials a source can renew (cloud identity): drop the bearer token made from them too,
        // and ask once more.
        if (authTried) {
          renew.renewed = true;
          if (used?.tokenKey) this.tokens.delete(used.tokenKey);
        }
        authTried = true;
        await res.arrayBuffer().catch(() => undefined);
        const made = await this.authHeader(
          t,
          parseChallenge(res.headers.get('www-authenticate')),
          o.scope,
          signal,
          renew,
        );
        auth = made.header;
        used = made;
        if (auth) {
          attempt--;
          continue;
        }
      }
      if (res.status === 401 || res.status === 403)
        throw new RegistryAuthError(`${what}: access denied (${res.status}); check the registry credentials`);
      if (res.status === 404)
        throw new RegistryNotFoundError(
          `${what}: ${o.method === 'GET' && url.includes('/tags/') ? 'repository' : 'manifest'} not found (404)`,
        );
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'), this.now());
        if (attempt >= attempts) {
          if (res.status === 429)
            throw new RegistryRateLimitedError(`${what}: rate limited (429)`, retryAfter);
          throw new RegistryUnavailableError(`${what}: registry answered ${res.status}`);
        }
        await res.arrayBuffer().catch(() => undefined);
        await this.sleep(Math.min(max, retryAfter ?? backoffDelay(attempt, { baseMs: base, maxMs: max })));
        continue;
      }
      throw new RegistryUnavailableError(`${what}: unexpected answer ${res.status}`);
    }
  }

  /** A blob's bytes, checked against its sha256 digest (the registry is not trusted to serve what it lists). */
  async getBlob(image: string, digest: string, o: { signal?: AbortSignal } = {}): Promise<Buffer> {
    const t = this.target(image);
    let res: Response;
    try {
      res = await this.request(
        t,
        `${t.apiBase}/v2/${t.repository}/blobs/${digest}`,
        { method: 'GET', accept: '*/*', scope: 'pull' },
        o.signal,
      );
    } catch (err) {
      if (err instanceof RegistryNotFoundError)
        throw new RegistryNotFoundError(`${t.host}/${t.repository}: blob ${digest} not found (404)`, {
          cause: err,
        });
      throw err;
    }
    const data = Buffer.from(await res.arrayBuffer());
    const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
    const actual = createHash('sha256').update(data).digest('hex');
    if (hex && actual !== hex)
      throw new RegistryProtocolError(
        `${t.host}/${t.repository}: blob ${digest} came back with other content (sha256:${actual})`,
      );
    return data;
  }

  /**
   * The OCI 1.1 referrers index of `digest` (one page), or undefined when the registry has no referrers API and
   * answers 404. `artifactType` is a hint registries may ignore; callers filter again.
   */
  async listReferrers(
    image: string,
    digest: string,
    o: { artifactType?: string; signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown> | undefined> {
    const t = this.target(image);
    const query = o.artifactType ? `?artifactType=${encodeURIComponent(o.artifactType)}` : '';
    try {
      const res = await this.request(
        t,
        `${t.apiBase}/v2/${t.repository}/referrers/${digest}${query}`,
        { method: 'GET', accept: 'application/vnd.oci.image.index.v1+json', scope: 'pull' },
        o.signal,
      );
      return (await res.json()) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof RegistryNotFoundError) return undefined;
      throw err;
    }
  }
}
