/**
 * Helm charts as a source of versions, behind the same `RegistryClient` port as images (see
 * `core/domain/chart-ref.ts` for how a policy names a chart):
 * - an OCI chart is read from its registry by the OCI client; tags are chart versions with `+` stored as `_`;
 * - a chart in an HTTP Helm repository is read from the repository's `index.yaml`, fetched with `If-None-Match`
 *   (an unchanged index costs a 304), under the operator's egress policy (checked before the request and on
 *   every redirect), with a deadline and a size limit.
 * Anything else goes to the image client unchanged.
 */
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { chartSourceOf, chartVersionOfTag, tagOfChartVersion } from '../core/domain/chart-ref.js';
import {
  RegistryAuthError,
  RegistryEgressError,
  RegistryNotFoundError,
  RegistryProtocolError,
  RegistryUnavailableError,
} from '../core/errors.js';
import { type EgressPolicy, fetchFollowingRedirects, plainHttpAllowed } from './egress.js';
import type { CredentialSource } from './oci-client.js';
import type { RegistryClient } from './types.js';

export interface HelmRepositoryOptions {
  readonly egress?: Pick<EgressPolicy, 'check'>;
  /**
   * Hosts whose `http://` repositories may be read (TIDEMARK_REGISTRY_INSECURE_HOSTS, `host` or `host:port`);
   * loopback always may, as for registries. Any other `http://` repository is refused: its index could be
   * altered on the way.
   */
  readonly plainHttpHosts?: readonly string[];
  /**
   * Credentials per host (the operator's Docker config.json `auths`, as for registries): sent as Basic auth to
   * that origin only, never over a redirect to another one.
   */
  readonly credentials?: CredentialSource;
  /** Each request's deadline (TIDEMARK_REGISTRY_TIMEOUT). */
  readonly timeoutMs?: number;
  /** An index read within this long is used again without asking (unless a run wants it fresh). */
  readonly cacheMs?: number;
  /** The largest index.yaml read (default 64 MiB). */
  readonly maxIndexBytes?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
}

interface ChartEntry {
  readonly version: string;
  readonly digest: string;
}

interface CachedIndex {
  readonly etag?: string;
  readonly lastModified?: string;
  readonly at: number;
  readonly charts: ReadonlyMap<string, readonly ChartEntry[]>;
}

const MAX_INDEXES = 200;

/** Reads charts' versions from HTTP Helm repositories (`<url>/index.yaml`). */
export class HelmRepositoryClient {
  private readonly cache = new Map<string, CachedIndex>();
  private readonly inFlight = new Map<string, Promise<CachedIndex>>();
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  /** Requests made, by answer (`200`, `304`, …): what the ETag saves is visible. */
  readonly answers = new Map<number, number>();

  constructor(private readonly opts: HelmRepositoryOptions = {}) {
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  /** The chart's entries in the repository's index, newest read unless a recent one may be used. */
  async entries(
    repositoryUrl: string,
    chart: string,
    o: { fresh?: boolean; signal?: AbortSignal } = {},
  ): Promise<readonly ChartEntry[]> {
    const index = await this.index(repositoryUrl, o);
    const list = index.charts.get(chart);
    if (!list)
      throw new RegistryProtocolError(
        `${repositoryUrl}/index.yaml lists no chart "${chart}"${index.charts.size > 0 ? ` (it lists ${[...index.charts.keys()].slice(0, 5).join(', ')}${index.charts.size > 5 ? ', …' : ''})` : ''}`,
      );
    return list;
  }

  private index(url: string, o: { fresh?: boolean; signal?: AbortSignal }): Promise<CachedIndex> {
    const cached = this.cache.get(url);
    if (cached && !o.fresh && this.now() - cached.at < (this.opts.cacheMs ?? 60_000))
      return Promise.resolve(cached);
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.fetchIndex(url, cached, o.signal).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    return pending;
  }

  private async fetchIndex(
    url: string,
    cached: CachedIndex | undefined,
    signal?: AbortSignal,
  ): Promise<CachedIndex> {
    const timeoutMs = this.opts.timeoutMs ?? 20_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = {
      accept: 'application/x-yaml, text/yaml, */*',
      'user-agent': this.opts.userAgent ?? 'tidemark',
      ...(cached?.etag && { 'if-none-match': cached.etag }),
      ...(cached?.lastModified && !cached.etag && { 'if-modified-since': cached.lastModified }),
    };
    let res: Response;
    const first = new URL(`${url}/index.yaml`);
    const creds = await this.opts.credentials?.(first.host);
    const auth = !creds
      ? undefined
      : 'token' in creds
        ? `Bearer ${creds.token}`
        : `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const checkHop = async (hop: URL) => {
      await this.opts.egress?.check(hop);
      this.checkTransport(hop);
    };
    try {
      await checkHop(first);
      res = await fetchFollowingRedirects(
        this.fetchFn,
        first,
        {
          headers: auth ? { ...headers, authorization: auth } : headers,
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        },
        checkHop,
      );
    } catch (err) {
      if (err instanceof RegistryProtocolError || err instanceof RegistryEgressError) throw err;
      if (deadline.aborted && !signal?.aborted)
        throw new RegistryUnavailableError(`${url}/index.yaml: no answer within ${timeoutMs} ms`, {
          cause: err,
        });
      throw new RegistryUnavailableError(`${url}/index.yaml: ${(err as Error).message}`, { cause: err });
    }
    this.answers.set(res.status, (this.answers.get(res.status) ?? 0) + 1);
    if (res.status === 304 && cached) {
      const again = { ...cached, at: this.now() };
      this.remember(url, again);
      return again;
    }
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      const message = `${url}/index.yaml: the Helm repository answered ${res.status} ${res.statusText}`;
      if (res.status === 404) throw new RegistryNotFoundError(`${message}; is the repository's URL right?`);
      if (res.status === 401 || res.status === 403)
        throw new RegistryAuthError(
          creds
            ? `${message} with the credentials the operator's Docker config.json holds for ${first.host}; check them`
            : `${message}: it needs credentials; an operator adds them for ${first.host} to the Docker config.json (DOCKER_CONFIG), as for a registry`,
        );
      throw res.status >= 500 || res.status === 429
        ? new RegistryUnavailableError(message)
        : new RegistryProtocolError(message);
    }
    const limit = this.opts.maxIndexBytes ?? 64 * 1024 * 1024;
    if (Number(res.headers.get('content-length') ?? 0) > limit) {
      await res.body?.cancel();
      throw new RegistryProtocolError(`${url}/index.yaml is larger than ${limit} bytes; not read`);
    }
    const text = await readBounded(res, limit, `${url}/index.yaml`);
    const index: CachedIndex = {
      ...(res.headers.get('etag') && { etag: res.headers.get('etag')! }),
      ...(res.headers.get('last-modified') && { lastModified: res.headers.get('last-modified')! }),
      at: this.now(),
      charts: parseIndex(text, url),
    };
    this.remember(url, index);
    return index;
  }

  private checkTransport(url: URL): void {
    if (url.protocol !== 'http:') return;
    const host = url.host.toLowerCase();
    // As for registries; a listed name also covers its other ports here.
    const listed = this.opts.plainHttpHosts ?? [];
    if (plainHttpAllowed(host, listed) || listed.includes(url.hostname.toLowerCase())) return;
    throw new RegistryEgressError(
      `${url.origin} is a Helm repository over plain HTTP: write its https:// URL, or an operator who trusts the network adds ${host} to TIDEMARK_REGISTRY_INSECURE_HOSTS`,
    );
  }

  private remember(url: string, index: CachedIndex): void {
    this.cache.delete(url);
    if (this.cache.size >= MAX_INDEXES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(url, index);
  }
}

async function readBounded(res: Response, limit: number, what: string): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new RegistryProtocolError(`${what} is larger than ${limit} bytes; not read`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A Helm repository index: `entries: { <chart>: [{ version, digest, … }] }`. */
export function parseIndex(text: string, url: string): Map<string, ChartEntry[]> {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (err) {
    throw new RegistryProtocolError(
      `${url}/index.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
    throw new RegistryProtocolError(`${url}/index.yaml is not a Helm repository index (no "entries" map)`);
  const charts = new Map<string, ChartEntry[]>();
  for (const [chart, list] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    const out: ChartEntry[] = [];
    for (const e of list) {
      if (typeof e !== 'object' || e === null) continue;
      const { version, digest } = e as { version?: unknown; digest?: unknown };
      if (typeof version !== 'string') continue;
      out.push({
        version,
        // The index's own digest of the packaged chart; an entry without one is known by its contents.
        digest:
          typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest)
            ? `sha256:${digest}`
            : `sha256:${createHash('sha256').update(JSON.stringify(e)).digest('hex')}`,
      });
    }
    charts.set(chart, out);
  }
  return charts;
}

/**
 * A registry client that also reads charts: `oci://` images through `images` (tags ↔ versions), HTTP charts
 * through `helm`; container images through `images` unchanged.
 */
export function withCharts(images: RegistryClient, helm: HelmRepositoryClient): RegistryClient {
  return {
    async listTags(image, o) {
      const chart = chartSourceOf(image);
      if (!chart) return images.listTags(image, o);
      if (chart.kind === 'oci') return (await images.listTags(chart.image, o)).map(chartVersionOfTag);
      return (await helm.entries(chart.repositoryUrl, chart.chart, o)).map((e) => e.version);
    },
    async resolveDigest(image, tag, o) {
      const chart = chartSourceOf(image);
      if (!chart) return images.resolveDigest(image, tag, o);
      if (chart.kind === 'oci') return images.resolveDigest(chart.image, tagOfChartVersion(tag), o);
      const entry = (await helm.entries(chart.repositoryUrl, chart.chart, o ?? {})).find(
        (e) => e.version === tag,
      );
      if (!entry)
        throw new RegistryProtocolError(`${image}: version ${tag} is not in the repository's index`);
      return entry.digest;
    },
    // Image labels, platforms, signatures and referrers are about container images: a chart has none here.
    ...(images.getImageMetadata && {
      getImageMetadata: (image, tag, o) =>
        chartSourceOf(image) ? Promise.resolve({}) : images.getImageMetadata!(image, tag, o),
    }),
    ...(images.getManifest && { getManifest: images.getManifest.bind(images) }),
    ...(images.getBlob && { getBlob: images.getBlob.bind(images) }),
    ...(images.listReferrers && { listReferrers: images.listReferrers.bind(images) }),
  };
}
