/**
 * The two reads trust checks add to the OCI client: `getBlob` (checked against its digest) and
 * `listReferrers` (undefined where the registry has no referrers API).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryNotFoundError, RegistryProtocolError } from '../../../src/core/errors.js';
import { OciRegistryClient } from '../../../src/registry/oci-client.js';
import { type Registry, startRegistry } from '../../support/registry.js';
import {
  BUNDLE_TYPE,
  digestOf,
  distributionStore,
  pushBundleReferrer,
  pushTestImage,
  type ReferrersRegistry,
  startReferrersRegistry,
} from './oci-store.js';

const client = new OciRegistryClient({ retry: { attempts: 1 } });
let registry: Registry;
let stub: ReferrersRegistry;

beforeAll(async () => {
  [registry, stub] = await Promise.all([startRegistry(), startReferrersRegistry()]);
});
afterAll(async () => {
  await Promise.all([registry?.stop(), stub?.close()]);
});

describe('OciRegistryClient.getBlob', () => {
  it('reads a blob from a real docker-registry, and reports a missing one as not found', async () => {
    const store = distributionStore(registry.url);
    const digest = await store.putBlob('acme/blobs', Buffer.from('hello blob'));
    const image = `${store.host}/acme/blobs`;
    expect((await client.getBlob(image, digest)).toString()).toBe('hello blob');
    const missing = digestOf('never pushed');
    await expect(client.getBlob(image, missing)).rejects.toThrow(
      new RegistryNotFoundError(`${store.host}/acme/blobs: blob ${missing} not found (404)`),
    );
  });

  it('refuses a blob whose content does not match its digest', async () => {
    const claimed = digestOf('the real bundle');
    stub.putRawBlob('acme/lies', claimed, Buffer.from('something else'));
    await expect(client.getBlob(`${stub.host}/acme/lies`, claimed)).rejects.toBeInstanceOf(
      RegistryProtocolError,
    );
  });
});

describe('OciRegistryClient.listReferrers', () => {
  it('is undefined on a registry without the referrers API (docker-registry answers 404)', async () => {
    const store = distributionStore(registry.url);
    const image = await pushTestImage(store, 'acme/no-api', 'v1', 'no-api');
    expect(await client.listReferrers(`${store.host}/acme/no-api`, image.digest)).toBeUndefined();
  });

  it('returns the referrers index, asking for an artifact type', async () => {
    const image = await pushTestImage(stub, 'acme/api', 'v1', 'api');
    const referrer = await pushBundleReferrer(stub, 'acme/api', image, { not: 'verified here' }, 'x');
    const index = await client.listReferrers(`${stub.host}/acme/api`, image.digest, {
      artifactType: BUNDLE_TYPE,
    });
    expect(index?.manifests).toEqual([
      expect.objectContaining({ digest: referrer.digest, artifactType: BUNDLE_TYPE }),
    ]);
  });
});
