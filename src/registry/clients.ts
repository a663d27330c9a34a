/**
 * The registry client a run uses, from the operator's settings (Docker config.json, mirrors) and the repo's
 * access (`core/config/registry-access.ts`). The App and `tidemark plan` build it the same way. Repos with no
 * `registries:` block share one client (one tag cache, one limiter per host); a repo with one gets a client of
 * its own, kept while it is among the most recently used.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isNoRepoAccess, type RegistryAccess } from '../core/config/registry-access.js';
import { dockerConfigCredentials, firstCredentials } from './docker-config.js';
import { type OciClientOptions, OciRegistryClient } from './oci-client.js';
import type { RegistryClient } from './types.js';

export interface OperatorRegistry {
  /** Directory of the Docker `config.json` (default `$DOCKER_CONFIG` or `~/.docker`). */
  readonly dockerConfig?: string;
  readonly registryMirrors?: Readonly<Record<string, string>>;
}

const MAX_REPO_CLIENTS = 100;

export class RegistryClients {
  private readonly shared: RegistryClient;
  private readonly own = new LRUCache<string, RegistryClient>({ max: MAX_REPO_CLIENTS });
  private readonly options: OciClientOptions;

  constructor(
    operator: OperatorRegistry,
    extra: Omit<OciClientOptions, 'credentials' | 'mirrors'> = {},
    /** Wraps every client handed out (e.g. to record first-seen times). */
    private readonly decorate: (c: RegistryClient) => RegistryClient = (c) => c,
    /** Replaces the OCI client for repos with no `registries:` block (tests, offline tag files). */
    shared?: RegistryClient,
  ) {
    this.options = {
      ...extra,
      credentials: dockerConfigCredentials(
        operator.dockerConfig ? `${operator.dockerConfig}/config.json` : undefined,
      ),
      ...(operator.registryMirrors && { mirrors: operator.registryMirrors }),
    };
    this.shared = decorate(shared ?? new OciRegistryClient(this.options));
  }

  for(access: RegistryAccess): RegistryClient {
    if (isNoRepoAccess(access)) return this.shared;
    const key = createHash('sha256').update(JSON.stringify(access)).digest('hex');
    let client = this.own.get(key);
    if (!client) {
      const own = access.credentials;
      client = this.decorate(
        new OciRegistryClient({
          ...this.options,
          credentials: firstCredentials((host) => own[host], this.options.credentials),
          insecureHosts: [...(this.options.insecureHosts ?? []), ...access.insecureHosts],
          hosts: { ...this.options.hosts, ...access.hosts },
        }),
      );
      this.own.set(key, client);
    }
    return client;
  }
}
