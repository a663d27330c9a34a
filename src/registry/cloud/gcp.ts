/**
 * Google Artifact Registry and Container Registry: an OAuth access token for the workload's identity from
 * `google-auth-library`'s Application Default Credentials — the GKE / GCE metadata server (`GCE_METADATA_HOST`
 * overrides where it is), or the file `GOOGLE_APPLICATION_CREDENTIALS` names (workload identity federation's
 * external-account configuration, or a service-account key) — sent as the password of `oauth2accesstoken`.
 */
import type { GoogleAuthOptions } from 'google-auth-library';
import { RegistryAuthError } from '../../core/errors.js';
import type { CloudRegistryToken, CloudTokenFetcher } from './types.js';

export const GCP_USERNAME = 'oauth2accesstoken';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface GcpOptions {
  /** The SDK's own options (e.g. `keyFilename`), passed as they are. */
  readonly authOptions?: GoogleAuthOptions;
}

export function gcpFetcher(o: GcpOptions = {}): CloudTokenFetcher {
  return {
    provider: 'gcp',
    async fetch(host: string): Promise<CloudRegistryToken> {
      const { GoogleAuth } = await import('google-auth-library');
      // A new GoogleAuth per fetch: a renewal after a refusal must not get the SDK's cached token back.
      const auth = new GoogleAuth({ scopes: [SCOPE], ...o.authOptions });
      const client = await auth.getClient();
      const { token } = await client.getAccessToken();
      if (!token)
        throw new RegistryAuthError(`${host}: Google Application Default Credentials returned no token`);
      const expiry = client.credentials?.expiry_date;
      return {
        username: GCP_USERNAME,
        password: token,
        ...(typeof expiry === 'number' && expiry > 1 && { expiresAt: expiry }),
      };
    },
  };
}
