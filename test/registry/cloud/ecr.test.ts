/**
 * Amazon ECR with the workload's role, end to end through the SDK: the real `@aws-sdk/client-ecr` with its
 * default credential chain, which takes the role's temporary credentials from the container credentials
 * endpoint (EKS Pod Identity) and signs `GetAuthorizationToken` to AWS_ENDPOINT_URL_ECR (stand-ins; the SDK
 * reads only the process environment, so this file sets it, in its own test process); the password goes to an
 * ECR-style registry in front of a real docker-registry.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REPO_ACCESS } from '../../../src/core/config/registry-access.js';
import { RegistryAuthError } from '../../../src/core/errors.js';
import { RegistryClients } from '../../../src/registry/clients.js';
import type { CloudCredentials } from '../../../src/registry/cloud/cloud-credentials.js';
import { cloudCredentialsFromEnv } from '../../../src/registry/cloud/from-env.js';
import { OciRegistryClient } from '../../../src/registry/oci-client.js';
import {
  type AwsStandIn,
  type EcrRegistryStandIn,
  startAwsApi,
  startEcrRegistry,
} from '../../support/cloud/ecr.js';
import { capturedLogger, leaked } from '../../support/cloud/logs.js';
import { FakeClock } from '../../support/fake-clock.js';
import { pushImage } from '../../support/images.js';
import { makeTempDir, type TempDir } from '../../support/process.js';
import { type Registry, startRegistry } from '../../support/registry.js';

const SDK_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_ECR',
];

describe('ECR through the workload role (@aws-sdk/client-ecr)', () => {
  let dir: TempDir;
  let reg: Registry;
  let aws: AwsStandIn;
  let ecr: EcrRegistryStandIn;
  let clock: FakeClock;
  let cloud: CloudCredentials;
  const saved: Record<string, string | undefined> = {};
  const { log, lines } = capturedLogger();
  const errors: string[] = [];
  const image = () => `${ecr.host}/shop/cart`;
  const getAuthorizationTokens = () => aws.authorizationRequests.filter((r) => r.status === 200).length;

  beforeAll(async () => {
    dir = await makeTempDir('tidemark-ecr-');
    reg = await startRegistry({ auth: 'token' });
    await pushImage(reg, 'shop/cart', '2.0.0', { seed: 'a' });
    await pushImage(reg, 'shop/cart', '2.1.0', { seed: 'b' });
    clock = new FakeClock(Date.now());
    aws = await startAwsApi({ now: () => clock.now(), registryUrl: () => ecr.url });
    ecr = await startEcrRegistry({ registry: reg, aws });
    for (const k of SDK_ENV) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    Object.assign(process.env, {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: aws.credentialsUri,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: aws.podToken,
      AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL_ECR: aws.url,
      // Nothing from this machine's own AWS setup, and never the instance metadata service.
      AWS_CONFIG_FILE: join(dir.path, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir.path, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const made = cloudCredentialsFromEnv(
      { TIDEMARK_CLOUD_IDENTITY: 'aws', TIDEMARK_CLOUD_IDENTITY_HOSTS: `${ecr.host}=aws` },
      { clock, log },
    );
    expect(made.problems).toEqual([]);
    cloud = made.cloud;
  });

  afterAll(async () => {
    for (const k of SDK_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await ecr?.stop();
    await aws?.stop();
    await reg?.stop();
    await dir?.remove();
  });

  it('lists tags with a signed GetAuthorizationToken from the role, and no stored password', async () => {
    const clients = new RegistryClients(
      { cloud, dockerConfig: dir.path, allowHosts: [{ host: '127.0.0.1' }] },
      { now: () => clock.now() },
    );
    expect((await clients.for(NO_REPO_ACCESS).listTags(image())).sort()).toEqual(['2.0.0', '2.1.0']);
    expect(aws.credentialRequests).toBe(1);
    expect(aws.authorizationRequests).toEqual([
      {
        status: 200,
        target: 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
        signatureOk: true,
        region: 'eu-central-1',
      },
    ]);
    expect(ecr.requests.at(-1)).toEqual({ path: '/v2/shop/cart/tags/list', authorized: true });
  });

  it('reuses the 12-hour token until shortly before it expires, then asks ECR again', async () => {
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    await clock.advance(11 * 3600_000);
    await client.listTags(image(), { fresh: true });
    expect(getAuthorizationTokens()).toBe(1);
    await clock.advance(56 * 60_000); // 11 h 56 min
    await client.listTags(image(), { fresh: true });
    expect(getAuthorizationTokens()).toBe(2);
    expect(aws.credentialRequests).toBe(1); // the SDK keeps the role's credentials itself
  });

  it('a password the registry refuses is renewed once, and the listing succeeds', async () => {
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    aws.revoke();
    await clock.advance(60_000);
    const before = ecr.requests.length;
    expect((await client.listTags(image(), { fresh: true })).sort()).toEqual(['2.0.0', '2.1.0']);
    // Anonymous → challenge; the cached (revoked) password → 401; renewed → 200.
    expect(ecr.requests.slice(before).map((r) => r.authorized)).toEqual([false, false, true]);
    expect(getAuthorizationTokens()).toBe(3);
  });

  it('a role without ecr:GetAuthorizationToken is a RegistryAuthError that names no secret', async () => {
    aws.deny = true;
    aws.revoke();
    await clock.advance(13 * 3600_000);
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    const err = await client.listTags(image()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    aws.deny = false;
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(err?.message).toMatch(
      new RegExp(
        `^${ecr.host}: could not get credentials from the aws identity \\(AccessDeniedException 400\\)`,
      ),
    );
    errors.push(String(err?.message), String((err?.cause as Error | undefined)?.message));
  });

  it('no credential appears in any log line or error message', () => {
    expect(aws.passwords.length).toBeGreaterThan(2);
    expect(leaked([...lines, ...errors], aws.secrets)).toEqual([]);
  });
});
