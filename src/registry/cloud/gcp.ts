/**
 * Google Artifact Registry and Container Registry: an OAuth access token for the workload's identity from
 * `google-auth-library`'s Application Default Credentials — the GKE / GCE metadata server (`GCE_METADATA_HOST`
 * overrides where it is), or the file `GOOGLE_APPLICATION_CREDENTIALS` names (workload identity federation's
 * external-account configuration, or a service-account key) — sent as the password of `oauth2accesstoken`.
 */
import type { GoogleAuth, GoogleAuthOptions } from 'google-auth-library';
import { RegistryAuthError } from '../../core/errors.js';
import type { CloudRegistryToken, CloudTokenFetcher } from './types.js';

export const GCP_USERNAME = 'oauth2accesstoken';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/**
 * The SDK treats every token it holds as about to expire, so each ask reaches the identity (the metadata
 * server, STS): tidemark keeps its own cache on its own clock, and a renewal after a refusal gets a new token.
 */
const ALWAYS_REFRESH_MS = 10 * 365 * 24 * 3600_000;

export interface GcpOptions {
  /** The SDK's own options (e.g. `keyFilename`), passed as they are. */
  readonly authOptions?: GoogleAuthOptions;
}

export function gcpFetcher(o: GcpOptions = {}): CloudTokenFetcher {
  // One GoogleAuth: it finds the credentials (and the project, through `gcloud` when installed) once.
  let auth: Promise<GoogleAuth> | undefined;
  return {
    provider: 'gcp',
    async fetch(host: string): Promise<CloudRegistryToken> {
      auth ??= import('google-auth-library').then(
        ({ GoogleAuth }) =>
          new GoogleAuth({
            scopes: [SCOPE],
            ...o.authOptions,
            clientOptions: {
              ...o.authOptions?.clientOptions,
              eagerRefreshThresholdMillis: ALWAYS_REFRESH_MS,
            },
          }),
      );
      const client = await (await auth).getClient();
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
