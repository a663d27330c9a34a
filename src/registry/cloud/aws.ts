/**
 * Amazon ECR: `GetAuthorizationToken` through `@aws-sdk/client-ecr` with the SDK's default credential chain
 * (EKS Pod Identity, IRSA's web identity token, environment, instance profile). The answer is base64
 * `AWS:<password>`, valid for 12 hours, for every repository the role may read in that region. The region is
 * the host's (`<account>.dkr.ecr.<region>.amazonaws.com`), else the SDK's (`AWS_REGION`); the endpoint is the
 * SDK's (`AWS_ENDPOINT_URL_ECR` overrides it).
 */
import type { ECRClient, ECRClientConfig } from '@aws-sdk/client-ecr';
import { RegistryAuthError } from '../../core/errors.js';
import { ecrRegionOf } from './select.js';
import type { CloudRegistryToken, CloudTokenFetcher } from './types.js';

export interface AwsOptions {
  /** The SDK's own client options (`endpoint`, `region`, `credentials`, retries), passed as they are. */
  readonly clientConfig?: ECRClientConfig;
}

export function awsFetcher(o: AwsOptions = {}): CloudTokenFetcher {
  // One SDK client per region: it keeps the role's credentials and renews them itself.
  const clients = new Map<string, Promise<ECRClient>>();
  const clientFor = (region: string | undefined): Promise<ECRClient> => {
    const key = region ?? '';
    let c = clients.get(key);
    if (!c) {
      c = import('@aws-sdk/client-ecr').then(
        ({ ECRClient }) => new ECRClient({ ...o.clientConfig, ...(region && { region }) }),
      );
      clients.set(key, c);
    }
    return c;
  };
  return {
    provider: 'aws',
    async fetch(host: string, signal?: AbortSignal): Promise<CloudRegistryToken> {
      const { GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
      const client = await clientFor(ecrRegionOf(host));
      const out = await client.send(
        new GetAuthorizationTokenCommand({}),
        signal ? { abortSignal: signal } : {},
      );
      const data = out.authorizationData?.[0];
      const decoded = data?.authorizationToken
        ? Buffer.from(data.authorizationToken, 'base64').toString('utf8')
        : '';
      const i = decoded.indexOf(':');
      if (i <= 0) throw new RegistryAuthError(`${host}: ECR GetAuthorizationToken returned no usable token`);
      return {
        username: decoded.slice(0, i),
        password: decoded.slice(i + 1),
        ...(data?.expiresAt && { expiresAt: data.expiresAt.getTime() }),
      };
    },
  };
}
