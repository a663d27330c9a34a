/**
 * Azure Container Registry with the workload's Microsoft Entra identity, end to end through the SDK: the real
 * `@azure/identity` WorkloadIdentityCredential (authority from AZURE_AUTHORITY_HOST, federated token from
 * AZURE_FEDERATED_TOKEN_FILE) against an Entra stand-in, the ACR exchange and token service against an ACR
 * stand-in, and tags from a real docker-registry behind it. No password is stored anywhere.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REPO_ACCESS } from '../../../src/core/config/registry-access.js';
import { RegistryAuthError } from '../../../src/core/errors.js';
import { RegistryClients } from '../../../src/registry/clients.js';
import type { CloudCredentials } from '../../../src/registry/cloud/cloud-credentials.js';
import { cloudCredentialsFromEnv } from '../../../src/registry/cloud/from-env.js';
import { OciRegistryClient } from '../../../src/registry/oci-client.js';
import { type AcrStandIn, startAcr } from '../../support/cloud/acr.js';
import { type EntraStandIn, startEntra } from '../../support/cloud/entra.js';
import { jwtShaped } from '../../support/cloud/front.js';
import { capturedLogger, leaked } from '../../support/cloud/logs.js';
import { FakeClock } from '../../support/fake-clock.js';
import { pushImage } from '../../support/images.js';
import { makeTempDir, type TempDir } from '../../support/process.js';
import { type Registry, startRegistry } from '../../support/registry.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '5c1e6f0e-0000-4a4a-9c9c-tidemark00001';

describe('ACR through Microsoft Entra workload identity (@azure/identity)', () => {
  let dir: TempDir;
  let reg: Registry;
  let entra: EntraStandIn;
  let acr: AcrStandIn;
  let clock: FakeClock;
  let cloud: CloudCredentials;
  let assertion: string;
  const { log, lines } = capturedLogger();
  const errors: string[] = [];

  const clients = () =>
    new RegistryClients(
      { cloud, dockerConfig: dir.path, allowHosts: [{ host: '127.0.0.1' }] },
      { now: () => clock.now() },
    );
  const image = () => `${acr.host}/demo/app`;

  beforeAll(async () => {
    dir = await makeTempDir('tidemark-acr-');
    reg = await startRegistry({ auth: 'token' });
    await pushImage(reg, 'demo/app', '1.0.0', { seed: 'a' });
    await pushImage(reg, 'demo/app', '1.1.0', { seed: 'b' });
    clock = new FakeClock(Date.now());
    assertion = jwtShaped({
      iss: 'https://oidc.example/cluster',
      sub: 'system:serviceaccount:tidemark:tidemark',
    });
    const tokenFile = join(dir.path, 'azure-identity-token');
    await writeFile(tokenFile, assertion);
    entra = await startEntra({
      dir: dir.path,
      tenantId: TENANT,
      clientId: CLIENT,
      assertion,
      now: () => clock.now(),
    });
    acr = await startAcr({ registry: reg, entra, now: () => clock.now() });
    const env = {
      TIDEMARK_CLOUD_IDENTITY: 'azure',
      // The stand-in is not *.azurecr.io: the operator declares it, as for an ACR custom domain.
      TIDEMARK_CLOUD_IDENTITY_HOSTS: `${acr.host}=azure`,
      AZURE_AUTHORITY_HOST: entra.url,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    };
    const made = cloudCredentialsFromEnv(env, { clock, log, azure: { tlsOptions: { ca: entra.ca } } });
    expect(made.problems).toEqual([]);
    cloud = made.cloud;
  });

  afterAll(async () => {
    await acr?.stop();
    await entra?.stop();
    await reg?.stop();
    await dir?.remove();
  });

  it('lists tags with an Entra token exchanged for an ACR refresh token, and no stored password', async () => {
    const tags = await clients().for(NO_REPO_ACCESS).listTags(image());
    expect(tags.sort()).toEqual(['1.0.0', '1.1.0']);
    expect(entra.tokenRequests).toEqual([
      {
        clientId: CLIENT,
        grantType: 'client_credentials',
        scope: 'https://management.azure.com/.default',
        assertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        assertionOk: true,
        status: 200,
      },
    ]);
    // The SDK found the tenant's endpoints through the OpenID discovery document at the authority named.
    expect(entra.paths).toContain(`GET /${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(acr.exchanges).toEqual([{ status: 200, service: acr.host, tenant: TENANT }]);
    expect(acr.tokenRequests.at(-1)).toEqual({ status: 200, user: '00000000-0000-0000-0000-000000000000' });
  });

  it('reuses the credentials until shortly before the refresh token expires, then fetches new ones', async () => {
    const client = clients().for(NO_REPO_ACCESS);
    await clock.advance(60 * 60_000);
    expect((await client.listTags(image(), { fresh: true })).length).toBe(2);
    expect(acr.exchanges).toHaveLength(1);
    // The refresh token lives 3 h; at 2 h 56 min it is renewed.
    await clock.advance(116 * 60_000);
    expect((await client.listTags(image(), { fresh: true })).length).toBe(2);
    expect(acr.exchanges).toHaveLength(2);
    expect(entra.tokenRequests).toHaveLength(2);
  });

  it('a refused cached refresh token is renewed once, and the listing succeeds', async () => {
    acr.revokeRefreshTokens();
    await clock.advance(60_000);
    const before = { exchanges: acr.exchanges.length, entra: entra.tokenRequests.length };
    // A new client has no registry token cached: the ACR token service sees the revoked refresh token first.
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    expect((await client.listTags(image())).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(acr.tokenRequests.slice(-2).map((r) => r.status)).toEqual([401, 200]);
    expect(acr.exchanges.length - before.exchanges).toBe(1);
    expect(entra.tokenRequests.length - before.entra).toBe(1);
  });

  it('a repo that declares provider: generic keeps the host off cloud identity', async () => {
    const before = acr.exchanges.length;
    const client = clients().for(NO_REPO_ACCESS, { [acr.host]: 'generic' });
    const err = await client.listTags(image(), { fresh: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(acr.exchanges.length).toBe(before);
  });

  it('an identity Entra refuses is a RegistryAuthError that names the cause and no secret', async () => {
    entra.refuse = true;
    acr.revokeRefreshTokens();
    await clock.advance(4 * 3600_000); // everything cached has expired
    const client = new OciRegistryClient({ credentials: cloud.source(), now: () => clock.now() });
    const err = await client.listTags(image()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    entra.refuse = false;
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(err?.message).toMatch(
      new RegExp(`^${acr.host}: could not get credentials from the azure identity`),
    );
    errors.push(String(err?.message), String((err?.cause as Error | undefined)?.message));
  });

  it('no credential appears in any log line or error message', () => {
    const secrets = [assertion, ...entra.issued, ...acr.refreshTokens];
    expect(secrets.length).toBeGreaterThan(4);
    expect(lines.some((l) => l.includes('cloud registry credentials fetched'))).toBe(true);
    expect(leaked([...lines, ...errors], secrets)).toEqual([]);
  });
});
