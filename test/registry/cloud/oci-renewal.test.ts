/**
 * The OCI client's side of renewal (`CredentialSource.invalidate`), against a real docker-registry with token
 * auth and plain credential sources: refused credentials are renewed once when the source says new ones exist,
 * never more, and never for a source that cannot renew.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryAuthError } from '../../../src/core/errors.js';
import {
  type CredentialSource,
  type Credentials,
  OciRegistryClient,
} from '../../../src/registry/oci-client.js';
import { pushImage } from '../../support/images.js';
import { type Registry, startRegistry } from '../../support/registry.js';

describe('OCI client: renewing refused credentials', () => {
  let reg: Registry;
  const image = () => `${reg.host}/demo/renew`;

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', users: [{ user: 'ci', pass: 's3cret' }] });
    await pushImage(reg, 'demo/renew', '1.0.0');
  });
  afterAll(async () => {
    await reg?.stop();
  });

  /** Hands out `answers` in turn (the last one forever); records every invalidation. */
  function source(answers: Credentials[], renewable: boolean) {
    let i = 0;
    const invalidated: string[] = [];
    const s: CredentialSource = () => answers[Math.min(i, answers.length - 1)];
    s.invalidate = (_host, creds) => {
      invalidated.push('password' in creds ? creds.password : 'token');
      if (!renewable) return false;
      i++;
      return true;
    };
    return { s, invalidated };
  }

  const tokenRequests = () => reg.tokenServer!.requests.length;

  it('renews once and succeeds when the source has new credentials', async () => {
    const { s, invalidated } = source(
      [
        { username: 'ci', password: 'expired' },
        { username: 'ci', password: 's3cret' },
      ],
      true,
    );
    const before = tokenRequests();
    expect(await new OciRegistryClient({ credentials: s }).listTags(image())).toEqual(['1.0.0']);
    expect(invalidated).toEqual(['expired']);
    expect(reg.tokenServer!.requests.slice(before).map((r) => r.status)).toEqual([401, 200]);
  });

  it('renews at most once per request', async () => {
    const { s, invalidated } = source([{ username: 'ci', password: 'wrong' }], true);
    const before = tokenRequests();
    const err = await new OciRegistryClient({ credentials: s }).listTags(image()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(invalidated).toEqual(['wrong']);
    expect(tokenRequests() - before).toBe(2);
  });

  it('does not retry for a source that cannot renew (static credentials)', async () => {
    const { s, invalidated } = source([{ username: 'ci', password: 'wrong' }], false);
    const before = tokenRequests();
    const err = await new OciRegistryClient({ credentials: s }).listTags(image()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(invalidated).toEqual(['wrong']);
    expect(tokenRequests() - before).toBe(1);
  });
});
