/**
 * Azure Container Registry through Microsoft Entra ID: a token for the workload's identity (`@azure/identity`:
 * Workload Identity when `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID` and `AZURE_TENANT_ID` are set, else
 * `DefaultAzureCredential` — managed identity and the rest of its chain), exchanged at the registry's
 * `/oauth2/exchange` for an ACR refresh token. The refresh token is the password of the all-zero user; the
 * registry's own token service turns it into pull tokens, as for `docker login`.
 */
import type { TokenCredential, TokenCredentialOptions } from '@azure/identity';
import { RegistryAuthError, RegistryUnavailableError } from '../../core/errors.js';
import type { CloudRegistryToken, CloudTokenFetcher } from './types.js';
import { jwtExpiry, registryBaseUrl } from './types.js';

export const ACR_USERNAME = '00000000-0000-0000-0000-000000000000';

/** Microsoft's sovereign clouds: their Resource Manager scope, by authority host. */
const ARM_SCOPES: Readonly<Record<string, string>> = {
  'login.microsoftonline.us': 'https://management.usgovcloudapi.net/.default',
  'login.chinacloudapi.cn': 'https://management.chinacloudapi.cn/.default',
};
const PUBLIC_ARM_SCOPE = 'https://management.azure.com/.default';

export interface AzureOptions {
  /** The process environment the SDK is configured from (`AZURE_*`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The SDK's own client options (proxy, TLS trust, retries), passed to the credential as they are. */
  readonly credentialOptions?: TokenCredentialOptions;
  readonly fetch?: typeof fetch;
  readonly insecureHosts?: readonly string[];
  readonly userAgent?: string;
}

/** The Entra scope whose token ACR exchanges: Resource Manager of the identity's cloud. */
export function azureScope(env: Readonly<Record<string, string | undefined>>): string {
  if (env.TIDEMARK_CLOUD_AZURE_SCOPE) return env.TIDEMARK_CLOUD_AZURE_SCOPE;
  const authority = env.AZURE_AUTHORITY_HOST;
  if (!authority) return PUBLIC_ARM_SCOPE;
  try {
    return ARM_SCOPES[new URL(authority).host] ?? PUBLIC_ARM_SCOPE;
  } catch {
    return PUBLIC_ARM_SCOPE;
  }
}

/**
 * A new credential for each fetch, so a renewal after a refusal never gets the SDK's cached token back;
 * tidemark caches the registry credentials it makes from it instead.
 */
async function newCredential(o: AzureOptions): Promise<TokenCredential> {
  const { DefaultAzureCredential, WorkloadIdentityCredential } = await import('@azure/identity');
  const env = o.env;
  const authorityHost = env.AZURE_AUTHORITY_HOST;
  const common = {
    ...o.credentialOptions,
    // An authority the operator names is used as it is (Azure Stack, a sovereign cloud, a proxy): no instance
    // discovery against the public cloud, whose answer would not know it.
    ...(authorityHost && { authorityHost, disableInstanceDiscovery: true }),
  };
  if (env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID)
    return new WorkloadIdentityCredential({
      ...common,
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
    });
  // Managed identity and the rest of the chain read the process environment themselves.
  return new DefaultAzureCredential(common);
}

export function azureFetcher(o: AzureOptions): CloudTokenFetcher {
  const fetchFn = o.fetch ?? fetch;
  return {
    provider: 'azure',
    async fetch(host: string, signal?: AbortSignal): Promise<CloudRegistryToken> {
      const credential = await newCredential(o);
      const entra = await credential.getToken(azureScope(o.env), signal ? { abortSignal: signal } : {});
      if (!entra?.token) throw new RegistryAuthError(`${host}: Microsoft Entra ID returned no token`);
      const form = new URLSearchParams({
        grant_type: 'access_token',
        service: host,
        access_token: entra.token,
      });
      if (o.env.AZURE_TENANT_ID) form.set('tenant', o.env.AZURE_TENANT_ID);
      let res: Response;
      try {
        res = await fetchFn(`${registryBaseUrl(host, o.insecureHosts)}/oauth2/exchange`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'user-agent': o.userAgent ?? 'tidemark',
          },
          body: form.toString(),
          ...(signal && { signal }),
        });
      } catch (err) {
        throw new RegistryUnavailableError(`${host}: /oauth2/exchange: ${(err as Error).name}`, {
          cause: new Error((err as Error).message),
        });
      }
      if (res.status === 401 || res.status === 403) {
        await res.arrayBuffer().catch(() => undefined);
        throw new RegistryAuthError(
          `${host}: the registry refused the Entra token at /oauth2/exchange (${res.status}); give the identity the AcrPull role on the registry`,
        );
      }
      if (!res.ok) {
        await res.arrayBuffer().catch(() => undefined);
        if (res.status >= 500 || res.status === 429)
          throw new RegistryUnavailableError(`${host}: /oauth2/exchange answered ${res.status}`);
        throw new RegistryAuthError(
          `${host}: /oauth2/exchange answered ${res.status}; is ${host} an Azure Container Registry?`,
        );
      }
      const body = (await res.json().catch(() => ({}))) as { refresh_token?: unknown };
      if (typeof body.refresh_token !== 'string' || body.refresh_token === '')
        throw new RegistryAuthError(`${host}: /oauth2/exchange returned no refresh token`);
      const expiresAt = jwtExpiry(body.refresh_token) ?? entra.expiresOnTimestamp;
      return { username: ACR_USERNAME, password: body.refresh_token, expiresAt };
    },
  };
}
