/**
 * Which cloud identity (if any) reaches a registry host, and the operator's switches for it. Pure.
 *
 * Cloud identity is off unless the operator lists the providers tidemark may use (`TIDEMARK_CLOUD_IDENTITY`).
 * Then a host is read with the workload's identity when it is that cloud's registry (by name, or listed by the
 * operator in `TIDEMARK_CLOUD_IDENTITY_HOSTS`), unless the repo's Flux `ImageRepository` says
 * `provider: generic`. A repo can never point a provider at a host the operator did not give it: the identity's
 * tokens go only to that cloud's registries.
 */
export const CLOUD_PROVIDERS = ['azure', 'gcp', 'aws'] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];
/** Flux `ImageRepository.spec.provider`. */
export type DeclaredProvider = CloudProvider | 'generic';

export interface CloudIdentitySettings {
  /** Providers whose identity tidemark may use. Empty: cloud identity is off. */
  readonly providers: readonly CloudProvider[];
  /** Hosts that are a cloud's registry under another name (an ACR custom domain, a private endpoint). */
  readonly hosts: Readonly<Record<string, CloudProvider>>;
}

export const CLOUD_IDENTITY_OFF: CloudIdentitySettings = { providers: [], hosts: {} };

const ACR_HOST = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*\.azurecr\.(io|us|cn|de)$/;
const GCP_HOST = /^(([a-z0-9-]+\.)?gcr\.io|[a-z0-9-]+-docker\.pkg\.dev)$/;
const ECR_HOST =
  /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

/** The cloud whose registry `host` is by its name alone, if any. */
export function providerOfHost(host: string): CloudProvider | undefined {
  const h = host.toLowerCase();
  if (ACR_HOST.test(h)) return 'azure';
  if (GCP_HOST.test(h)) return 'gcp';
  if (ECR_HOST.test(h)) return 'aws';
  return undefined;
}

/** The AWS region of an ECR host (`<account>.dkr.ecr.<region>.amazonaws.com`). */
export function ecrRegionOf(host: string): string | undefined {
  return ECR_HOST.exec(host.toLowerCase())?.[3];
}

export type CloudSelection =
  | { readonly kind: 'cloud'; readonly provider: CloudProvider }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * The provider whose identity reads `host`: the host's cloud (by name or by the operator's list) when the
 * operator enabled it, unless the repo declared `generic`; a declared provider must be the host's own cloud.
 */
export function selectCloudProvider(
  host: string,
  settings: CloudIdentitySettings,
  declared?: DeclaredProvider,
): CloudSelection {
  const own = settings.hosts[host] ?? providerOfHost(host);
  if (declared === 'generic') return { kind: 'none', reason: 'the repo declares provider: generic' };
  if (!own)
    return {
      kind: 'none',
      reason: declared
        ? `${host} is not a ${declared} registry; list it in TIDEMARK_CLOUD_IDENTITY_HOSTS as ${host}=${declared} if it is one`
        : `${host} is not a cloud registry`,
    };
  if (declared && declared !== own)
    return { kind: 'none', reason: `${host} is a ${own} registry, not ${declared}` };
  if (!settings.providers.includes(own))
    return {
      kind: 'none',
      reason: `${own} identity is not enabled (TIDEMARK_CLOUD_IDENTITY does not list ${own})`,
    };
  return { kind: 'cloud', provider: own };
}

/**
 * `TIDEMARK_CLOUD_IDENTITY=azure,gcp,aws` (default off; `off` or empty also turns it off) and
 * `TIDEMARK_CLOUD_IDENTITY_HOSTS=registry.contoso.com=azure,…`. Every problem is listed.
 */
export function readCloudIdentityEnv(env: Readonly<Record<string, string | undefined>>): {
  readonly settings: CloudIdentitySettings;
  readonly problems: readonly string[];
} {
  const problems: string[] = [];
  const providers: CloudProvider[] = [];
  const raw = (env.TIDEMARK_CLOUD_IDENTITY ?? '').trim();
  if (raw !== '' && raw.toLowerCase() !== 'off')
    for (const item of raw.split(',').map((s) => s.trim().toLowerCase())) {
      if (item === '') continue;
      if ((CLOUD_PROVIDERS as readonly string[]).includes(item)) {
        if (!providers.includes(item as CloudProvider)) providers.push(item as CloudProvider);
      } else
        problems.push(
          `TIDEMARK_CLOUD_IDENTITY: "${item}" is not a provider; expected a list of ${CLOUD_PROVIDERS.join(', ')} (or off)`,
        );
    }
  const hosts: Record<string, CloudProvider> = {};
  for (const pair of (env.TIDEMARK_CLOUD_IDENTITY_HOSTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^=\s/]+)=(azure|gcp|aws)$/i.exec(pair);
    if (!m) {
      problems.push(
        `TIDEMARK_CLOUD_IDENTITY_HOSTS: expected host=azure|gcp|aws,… (e.g. registry.contoso.com=azure), got "${pair}"`,
      );
      continue;
    }
    const host = m[1]!.toLowerCase();
    const provider = m[2]!.toLowerCase() as CloudProvider;
    hosts[host] = provider;
    if (!providers.includes(provider))
      problems.push(
        `TIDEMARK_CLOUD_IDENTITY_HOSTS: ${host}=${provider}, but TIDEMARK_CLOUD_IDENTITY does not enable ${provider}; add it there`,
      );
  }
  return { settings: { providers, hosts }, problems };
}

/**
 * The providers a repo's Flux `ImageRepository` objects declare, by registry host (`spec.provider`). When two
 * declare different providers for one host, the host is read as `generic` (declared credentials only).
 */
export function declaredProvidersByHost(
  repositories: readonly { readonly host: string; readonly provider?: DeclaredProvider | undefined }[],
): Readonly<Record<string, DeclaredProvider>> {
  const out: Record<string, DeclaredProvider> = {};
  for (const r of repositories) {
    if (!r.provider) continue;
    const prev = out[r.host];
    out[r.host] = prev === undefined || prev === r.provider ? r.provider : 'generic';
  }
  return out;
}

/** The declarations that change what a host gets (a repo confirming its registry's cloud changes nothing). */
export function declarationsThatMatter(
  declared: Readonly<Record<string, DeclaredProvider>>,
  settings: CloudIdentitySettings,
): Readonly<Record<string, DeclaredProvider>> {
  const kindOf = (s: CloudSelection) => (s.kind === 'cloud' ? s.provider : 'none');
  return Object.fromEntries(
    Object.entries(declared).filter(
      ([host, p]) =>
        kindOf(selectCloudProvider(host, settings, p)) !== kindOf(selectCloudProvider(host, settings)),
    ),
  );
}
