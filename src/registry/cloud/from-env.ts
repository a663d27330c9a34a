/**
 * Cloud identity as the operator configured it: `TIDEMARK_CLOUD_IDENTITY` (which providers),
 * `TIDEMARK_CLOUD_IDENTITY_HOSTS` (registries under other names), and each SDK's own environment.
 */

import type { ECRClientConfig } from '@aws-sdk/client-ecr';
import type { TokenCredentialOptions } from '@azure/identity';
import type { GoogleAuthOptions } from 'google-auth-library';
import type { Logger } from 'pino';
import type { Clock } from '../../time/clock.js';
import { awsFetcher } from './aws.js';
import { azureFetcher } from './azure.js';
import { CloudCredentials } from './cloud-credentials.js';
import { gcpFetcher } from './gcp.js';
import { type CloudProvider, readCloudIdentityEnv } from './select.js';
import type { CloudTokenFetcher } from './types.js';

export interface CloudFromEnvOptions {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Hosts spoken to over plain HTTP (the ACR exchange), as for the OCI client. */
  readonly insecureHosts?: readonly string[];
  /** Each SDK's own options, passed as they are (proxies, TLS trust, endpoints). */
  readonly azure?: TokenCredentialOptions;
  readonly gcp?: GoogleAuthOptions;
  readonly aws?: ECRClientConfig;
  readonly fetch?: typeof fetch;
}

/**
 * `CloudCredentials` for the providers the operator enabled, or the problems with the settings (tidemark
 * should not start with them, like any other setting).
 */
export function cloudCredentialsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  o: CloudFromEnvOptions = {},
): { readonly cloud: CloudCredentials; readonly problems: readonly string[] } {
  const { settings, problems } = readCloudIdentityEnv(env);
  const fetchers: Partial<Record<CloudProvider, CloudTokenFetcher>> = {};
  for (const p of settings.providers) {
    if (p === 'azure')
      fetchers.azure = azureFetcher({
        env,
        ...(o.azure && { credentialOptions: o.azure }),
        ...(o.insecureHosts && { insecureHosts: o.insecureHosts }),
        ...(o.fetch && { fetch: o.fetch }),
      });
    if (p === 'gcp') fetchers.gcp = gcpFetcher(o.gcp ? { authOptions: o.gcp } : {});
    if (p === 'aws') fetchers.aws = awsFetcher(o.aws ? { clientConfig: o.aws } : {});
  }
  const cloud = new CloudCredentials({
    settings,
    fetchers,
    ...(o.clock && { clock: o.clock }),
    ...(o.log && { log: o.log }),
  });
  return { cloud, problems };
}
