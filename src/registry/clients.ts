/**
 * The registry client a run uses, from the operator's settings (Docker config.json, mirrors) and the repo's
 * access (`core/config/registry-access.ts`). The App and `tidemark plan` build it the same way. Repos with no
 * `registries:` block share one client (one tag cache, one limiter per host); a repo with one gets a client of
 * its own, kept while it is among the most recently used.
 *
 * Credentials for a host, first that answers: the repo's `registries:` block, the workload's cloud identity
 * (`cloud/`, when the operator enabled it and the host is that cloud's registry), the operator's Docker config.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isNoRepoAccess, type RegistryAccess } from '../core/config/registry-access.js';
import type { CloudCredentials } from './cloud/cloud-credentials.js';
import { type DeclaredProvider, declarationsThatMatter } from './cloud/select.js';
import { dockerConfigCredentials, secretConfigPath } from './docker-config.js';
import { type AllowRule, EgressPolicy } from './egress.js';
import { HelmRepositoryClient, withCharts } from './helm-charts.js';
import { type CredentialSource, type OciClientOptions, OciRegistryClient } from './oci-client.js';
import type { RegistryClient } from './types.js';

export interface OperatorRegistry {
  /** Directory of the Docker `config.json` (default `$DOCKER_CONFIG` or `~/.docker`). */
  readonly dockerConfig?: string;
  readonly registryMirrors?: Readonly<Record<string, string>>;
  /** The workload's cloud identity (`cloudCredentialsFromEnv`); off when absent. */
  readonly cloud?: CloudCredentials;
  /**
   * Hosts the operator lets tidemark contact even though they are internal (TIDEMARK_REGISTRY_ALLOW_HOSTS).
   * Every other loopback, private, link-local or cluster-internal host is refused before any request.
   */
  readonly allowHosts?: readonly AllowRule[];
  /** Each request's deadline (TIDEMARK_REGISTRY_TIMEOUT); an unresponsive host is then left alone a minute. */
  readonly registryTimeoutMs?: number;
  /** Where declared pull secrets are mounted (TIDEMARK_REGISTRY_SECRETS_DIR/<name>/.dockerconfigjson). */
  readonly registrySecretsDir?: string;
  /** Hosts that may be read over plain HTTP (TIDEMARK_REGISTRY_INSECURE_HOSTS): `http://` Helm repositories too. */
  readonly insecureHosts?: readonly string[];
}

/** Several sources in order, the first that answers wins; a refusal is passed to every one that can renew. */
export function chainCredentials(...sources: (CredentialSource | undefined)[]): CredentialSource {
  const chain: CredentialSource = async (host) => {
    for (const s of sources) {
      const c = await s?.(host);
      if (c) return c;
    }
    return undefined;
  };
  chain.invalidate = (host, creds) =>
    sources.map((s) => s?.invalidate?.(host, creds) === true).includes(true);
  return chain;
}

const MAX_REPO_CLIENTS = 100;

export class RegistryClients {
  private readonly shared: RegistryClient;
  private readonly own = new LRUCache<string, RegistryClient>({ max: MAX_REPO_CLIENTS });
  private readonly options: OciClientOptions;
  private readonly docker: CredentialSource;
  private readonly cloud: CloudCredentials | undefined;
  private readonly secretsDir: string | undefined;
  /** HTTP Helm repositories' indexes, shared by every repo (public charts; one ETag cache). */
  private readonly helm: HelmRepositoryClient;

  constructor(
    operator: OperatorRegistry,
    extra: Omit<OciClientOptions, 'credentials' | 'mirrors'> = {},
    /** Wraps every client handed out (e.g. to record first-seen times). */
    private readonly decorate: (c: RegistryClient) => RegistryClient = (c) => c,
    /** Replaces the OCI client for repos with no `registries:` block (tests, offline tag files). */
    shared?: RegistryClient,
  ) {
    this.docker = dockerConfigCredentials(
      operator.dockerConfig ? `${operator.dockerConfig}/config.json` : undefined,
    );
    this.cloud = operator.cloud?.enabled ? operator.cloud : undefined;
    this.secretsDir = operator.registrySecretsDir;
    // Mirrors are the operator's own choice: allowed with the hosts the operator listed.
    const mirrorRules = Object.values(operator.registryMirrors ?? {}).flatMap((m) => {
      const u = new URL(m);
      return [{ host: u.hostname.toLowerCase(), ...(u.port && { port: u.port }) }];
    });
    this.options = {
      egress: new EgressPolicy([...(operator.allowHosts ?? []), ...mirrorRules]),
      ...(operator.registryTimeoutMs !== undefined && { timeoutMs: operator.registryTimeoutMs }),
      ...extra,
      credentials: chainCredentials(this.cloud?.source(), this.docker),
      ...(operator.registryMirrors && { mirrors: operator.registryMirrors }),
    };
    this.helm = new HelmRepositoryClient({
      ...(this.options.egress && { egress: this.options.egress }),
      ...(operator.registryTimeoutMs !== undefined && { timeoutMs: operator.registryTimeoutMs }),
      ...(operator.insecureHosts && { plainHttpHosts: operator.insecureHosts }),
      credentials: this.docker,
    });
    this.shared = decorate(withCharts(shared ?? new OciRegistryClient(this.options), this.helm));
  }

  /**
   * The client for a repo's access. `providers` is what its Flux `ImageRepository` objects declare per registry
   * host (`spec.provider`, see `declaredProvidersByHost`): `generic` keeps a host off cloud identity.
   */
  for(
    access: RegistryAccess,
    providers: Readonly<Record<string, DeclaredProvider>> = {},
    /** Registry host → a pull secret the repo's Flux ImageRepositories select (already checked as declared). */
    secretRefs: Readonly<Record<string, string>> = {},
  ): RegistryClient {
    const declared = this.cloud ? declarationsThatMatter(providers, this.cloud.settings) : {};
    const secrets = this.secretsDir ? secretRefs : {};
    if (isNoRepoAccess(access) && Object.keys(declared).length === 0 && Object.keys(secrets).length === 0)
      return this.shared;
    const key = createHash('sha256')
      .update(JSON.stringify([access, declared, secrets]))
      .digest('hex');
    let client = this.own.get(key);
    if (!client) {
      const own = access.credentials;
      const dir = this.secretsDir;
      const secretSources = new Map(
        Object.entries(secrets).map(([host, name]) => [
          host,
          dockerConfigCredentials(secretConfigPath(dir!, name)),
        ]),
      );
      client = this.decorate(
        withCharts(
          new OciRegistryClient({
            ...this.options,
            credentials: chainCredentials(
              (host) => own[host],
              (host) => secretSources.get(host)?.(host),
              this.cloud?.source(declared),
              this.docker,
            ),
            insecureHosts: [...(this.options.insecureHosts ?? []), ...access.insecureHosts],
            hosts: { ...this.options.hosts, ...access.hosts },
          }),
          this.helm,
        ),
      );
      this.own.set(key, client);
    }
    return client;
  }
}
