/**
 * Registry credentials from the workload's cloud identity (Azure, Google Cloud, AWS), no stored secret: each
 * provider's SDK turns the identity into short-lived registry credentials (`azure.ts`, `gcp.ts`, `aws.ts`).
 *
 * Credentials are cached per provider and host until shortly before they expire (on the injected clock), one
 * fetch at a time per host, and renewed once when the registry refuses them (`invalidate`, called by the OCI
 * client on a 401). They are never logged: log lines carry the host, the provider and the lifetime only, and
 * errors are scrubbed of anything shaped like a token.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../time/clock.js';
import type { CredentialSource, Credentials } from '../oci-client.js';
import { cloudCredentialError } from './sdk-error.js';
import {
  type CloudIdentitySettings,
  type CloudProvider,
  type DeclaredProvider,
  selectCloudProvider,
} from './select.js';
import type { CloudTokenFetcher } from './types.js';

export interface CloudCredentialsOptions {
  readonly settings: CloudIdentitySettings;
  /** One per enabled provider (see `cloudCredentialsFromEnv` for the SDK-backed ones). */
  readonly fetchers: Readonly<Partial<Record<CloudProvider, CloudTokenFetcher>>>;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Used when the cloud does not say when its credentials expire (default 15 minutes). */
  readonly defaultLifetimeMs?: number;
  /**
   * A refusal of credentials younger than this is not answered with a new fetch (default 30 s): a role that
   * lacks the pull permission must not cost an identity round trip per request.
   */
  readonly minAgeToRenewMs?: number;
}

interface Entry {
  readonly creds: { readonly username: string; readonly password: string };
  readonly fetchedAt: number;
  readonly refreshAt: number;
  /** The password this entry replaced: a refusal of it is answered with this entry's. */
  readonly replaced?: string;
}

/** Renew this long before expiry at most (and at half the lifetime for short-lived credentials). */
const RENEW_BEFORE_MS = 5 * 60_000;
const MAX_CACHED = 1000;

export class CloudCredentials {
  private readonly clock: Clock;
  private readonly cache = new LRUCache<string, Entry>({ max: MAX_CACHED });
  /** Fetches in progress, not a cache: each entry is removed when its fetch settles. */
  private readonly inflight = new Map<string, Promise<Entry>>();
  /** Entries dropped by `invalidate` until their successor is fetched (bounded like the cache). */
  private readonly dropped = new LRUCache<string, Entry>({ max: MAX_CACHED });

  constructor(private readonly opts: CloudCredentialsOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get settings(): CloudIdentitySettings {
    return this.opts.settings;
  }

  /** Is any provider enabled? When not, no SDK is ever loaded. */
  get enabled(): boolean {
    return this.opts.settings.providers.length > 0;
  }

  /**
   * A credential source for the hosts cloud identity reaches (see `selectCloudProvider`), given what a repo's
   * `ImageRepository` objects declare per host; other hosts get nothing from it.
   */
  source(declared: Readonly<Record<string, DeclaredProvider>> = {}): CredentialSource {
    const providerFor = (host: string): CloudProvider | undefined => {
      const s = selectCloudProvider(host, this.opts.settings, declared[host]);
      return s.kind === 'cloud' && this.opts.fetchers[s.provider] ? s.provider : undefined;
    };
    const source: CredentialSource = (host) => {
      const provider = providerFor(host);
      return provider ? this.get(provider, host) : undefined;
    };
    source.invalidate = (host, creds) => {
      const provider = providerFor(host);
      return provider ? this.invalidate(provider, host, creds) : false;
    };
    return source;
  }

  /** Credentials for `host` from `provider`'s identity: cached, or fetched once however many ask at the same time. */
  async get(provider: CloudProvider, host: string, signal?: AbortSignal): Promise<Credentials> {
    const key = `${provider}|${host}`;
    const hit = this.cache.get(key);
    if (hit && this.clock.now() < hit.refreshAt) return hit.creds;
    const pending = this.inflight.get(key);
    if (pending) return (await pending).creds;
    const p = this.fetch(provider, host, signal);
    this.inflight.set(key, p);
    try {
      const entry = await p;
      const old = this.cache.peek(key) ?? this.dropped.get(key);
      this.dropped.delete(key);
      this.cache.set(key, old ? { ...entry, replaced: old.creds.password } : entry);
      return entry.creds;
    } finally {
      this.inflight.delete(key);
    }
  }

  /**
   * The registry refused `creds` for `host`. Drop them if they are still the cached ones and old enough that a
   * new fetch could give others; true when the caller should ask again.
   */
  invalidate(provider: CloudProvider, host: string, creds: Credentials): boolean {
    const key = `${provider}|${host}`;
    const hit = this.cache.peek(key);
    if (this.inflight.has(key)) return true; // someone is fetching new ones already
    if (!('username' in creds)) return false;
    if (!hit) return this.dropped.peek(key)?.creds.password === creds.password; // dropped: the next ask fetches
    if (hit.creds.password !== creds.password) return hit.replaced === creds.password; // renewed since?
    const age = this.clock.now() - hit.fetchedAt;
    if (age < (this.opts.minAgeToRenewMs ?? 30_000)) {
      this.opts.log?.warn(
        { host, provider },
        'registry refused fresh cloud credentials; not renewing them yet',
      );
      return false;
    }
    this.cache.delete(key);
    this.dropped.set(key, hit);
    this.opts.log?.info({ host, provider }, 'registry refused cached cloud credentials; renewing them');
    return true;
  }

  private async fetch(provider: CloudProvider, host: string, signal?: AbortSignal): Promise<Entry> {
    const fetcher = this.opts.fetchers[provider];
    if (!fetcher)
      throw cloudCredentialError(provider, host, new Error(`${provider} identity is not configured`));
    const started = this.clock.now();
    let token: Awaited<ReturnType<CloudTokenFetcher['fetch']>>;
    try {
      token = await fetcher.fetch(host, signal);
    } catch (err) {
      const e = cloudCredentialError(provider, host, err);
      this.opts.log?.warn(
        { host, provider, err: { name: e.name, message: e.message } },
        'cloud credentials failed',
      );
      throw e;
    }
    const now = this.clock.now();
    const expiresAt = token.expiresAt ?? now + (this.opts.defaultLifetimeMs ?? 15 * 60_000);
    const lifetime = Math.max(0, expiresAt - now);
    const refreshAt = expiresAt - Math.min(RENEW_BEFORE_MS, lifetime / 2);
    this.opts.log?.info(
      { host, provider, expiresInS: Math.round(lifetime / 1000), fetchMs: now - started },
      'cloud registry credentials fetched',
    );
    return { creds: { username: token.username, password: token.password }, fetchedAt: now, refreshAt };
  }
}
