/**
 * Google Artifact Registry with the workload's identity, end to end through the SDK: the real
 * `google-auth-library` Application Default Credentials find the metadata server at GCE_METADATA_HOST (the SDK
 * reads only the process environment, so this file sets it, in its own test process) and the access token
 * goes to an Artifact Registry stand-in in front of a real docker-registry as `oauth2accesstoken`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REPO_ACCESS } from '../../../src/core/config/registry-access.js';
import { RegistryAuthError } from '../../../src/core/errors.js';
import { RegistryClients } from '../../../src/registry/clients.js';
import type { CloudCredentials } from '../../../src/registry/cloud/cloud-credentials.js';
import { cloudCredentialsFromEnv } from '../../../src/registry/cloud/from-env.js';
import { OciRegistryClient } from '../../../src/registry/oci-client.js';
import {
  type GarStandIn,
  type MetadataStandIn,
  startGar,
  startMetadataServer,
} from '../../support/cloud/gcp.js';
import { capturedLogger, leaked } from '../../support/cloud/logs.js';
import { FakeClock } from '../../support/fake-clock.js';
import { pushImage } from '../../support/images.js';
import { makeTempDir, type TempDir } from '../../support/process.js';
import { type Registry, startRegistry } from '../../support/registry.js';

const SDK_ENV = ['GCE_METADATA_HOST', 'GCE_METADATA_IP', 'GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG'];

describe('Artifact Registry through the metadata server (google-auth-library)', () => {
  let dir: TempDir;
  let reg: Registry;
  let metadata: MetadataStandIn;
  let gar: GarStandIn;
  let clock: FakeClock;
  let cloud: CloudCredentials;
  const saved: Record<string, string | undefined> = {};
  const { log, lines } = capturedLogger();
  const errors: string[] = [];
  const image = () => `${gar.host}/acme-prod/apps/web`;

  beforeAll(async () => {
    dir = await makeTempDir('tidemark-gcp-');
    reg = await startRegistry({ auth: 'token' });
    await pushImage(reg, 'acme-prod/apps/web', 'v1.4.0', { seed: 'a' });
    await pushImage(reg, 'acme-prod/apps/web', 'v1.5.0', { seed: 'b' });
    clock = new FakeClock(Date.now());
    metadata = await startMetadataServer({ now: () => clock.now() });
    gar = await startGar({ registry: reg, metadata });
    for (const k of SDK_ENV) saved[k] = process.env[k];
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.GCE_METADATA_IP;
    process.env.CLOUDSDK_CONFIG = dir.path; // no gcloud user credentials on this machine are read
    process.env.GCE_METADATA_HOST = metadata.host;
    const made = cloudCredentialsFromEnv(
      { TIDEMARK_CLOUD_IDENTITY: 'gcp', TIDEMARK_CLOUD_IDENTITY_HOSTS: `${gar.host}=gcp` },
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
    await gar?.stop();
    await metadata?.stop();
    await reg?.stop();
    await dir?.remove();
  });

  it('lists tags with the metadata server token as oauth2accesstoken, and no stored password', async () => {
    const clients = new RegistryClients(
      { cloud, dockerConfig: dir.path, allowHosts: [{ host: '127.0.0.1' }] },
      { now: () => clock.now() },
    );
    expect((await clients.for(NO_REPO_ACCESS).listTags(image())).sort()).toEqual(['v1.4.0', 'v1.5.0']);
    expect(metadata.issued).toHaveLength(1);
    expect(metadata.paths).toContain('/computeMetadata/v1/instance/service-accounts/default/token');
    expect(gar.tokenRequests.at(-1)).toEqual({ status: 200, user: 'oauth2accesstoken' });
  });

  it('reuses the token until shortly before it expires, then asks the metadata server again', async () => {
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    await clock.advance(30 * 60_000);
    await client.listTags(image(), { fresh: true });
    expect(metadata.issued).toHaveLength(1);
    await clock.advance(26 * 60_000); // 56 min: within 5 min of the hour the token lives
    await client.listTags(image(), { fresh: true });
    expect(metadata.issued).toHaveLength(2);
  });

  it('a refused cached token is renewed once, and the listing succeeds', async () => {
    metadata.revoke();
    await clock.advance(60_000);
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    expect((await client.listTags(image())).sort()).toEqual(['v1.4.0', 'v1.5.0']);
    expect(gar.tokenRequests.slice(-2).map((r) => r.status)).toEqual([401, 200]);
    expect(metadata.issued).toHaveLength(3);
  });

  it('a node without a service account is a RegistryAuthError that names no secret', async () => {
    metadata.refuse = true;
    metadata.revoke();
    await clock.advance(2 * 3600_000);
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    const err = await client.listTags(image()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    metadata.refuse = false;
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(err?.message).toMatch(new RegExp(`^${gar.host}: could not get credentials from the gcp identity`));
    errors.push(String(err?.message), String((err?.cause as Error | undefined)?.message));
  });

  it('no credential appears in any log line or error message', () => {
    expect(metadata.issued.length).toBeGreaterThan(2);
    expect(leaked([...lines, ...errors], metadata.issued)).toEqual([]);
  });
});
