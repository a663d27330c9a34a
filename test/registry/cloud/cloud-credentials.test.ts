/**
 * The cache and renewal rules of CloudCredentials on a fake clock, with a plain fake of the fetcher interface
 * (the SDK paths are covered end to end in acr/gcp/ecr.test.ts); error classification and scrubbing; the
 * order of credential sources in RegistryClients.
 */
import { describe, expect, it } from 'vitest';
import { RegistryAuthError, RegistryUnavailableError } from '../../../src/core/errors.js';
import { chainCredentials } from '../../../src/registry/clients.js';
import { CloudCredentials } from '../../../src/registry/cloud/cloud-credentials.js';
import { cloudCredentialError, scrubSecrets } from '../../../src/registry/cloud/sdk-error.js';
import type { CloudRegistryToken, CloudTokenFetcher } from '../../../src/registry/cloud/types.js';
import { jwtExpiry } from '../../../src/registry/cloud/types.js';
import { capturedLogger } from '../../support/cloud/logs.js';
import { FakeClock } from '../../support/fake-clock.js';
import { gate } from '../../support/wait.js';

const HOST = 'contosoprod.azurecr.io';

/** `lifetimeMs` null: the cloud does not say when the credentials expire. */
function fakeFetcher(clock: FakeClock, lifetimeMs: number | null) {
  const calls: string[] = [];
  let n = 0;
  let hold: Promise<void> | undefined;
  let fail: unknown;
  const fetcher: CloudTokenFetcher = {
    provider: 'azure',
    async fetch(host): Promise<CloudRegistryToken> {
      calls.push(host);
      if (hold) await hold;
      if (fail) throw fail;
      n++;
      return {
        username: '00000000-0000-0000-0000-000000000000',
        password: `refresh-token-number-${n}`,
        ...(lifetimeMs !== null && { expiresAt: clock.now() + lifetimeMs }),
      };
    },
  };
  return {
    fetcher,
    calls,
    holdWith: (p: Promise<void> | undefined) => {
      hold = p;
    },
    failWith: (e: unknown) => {
      fail = e;
    },
  };
}

function make(lifetimeMs: number | null = 3 * 3600_000) {
  const clock = new FakeClock();
  const f = fakeFetcher(clock, lifetimeMs);
  const { log, lines } = capturedLogger();
  const cloud = new CloudCredentials({
    settings: { providers: ['azure'], hosts: {} },
    fetchers: { azure: f.fetcher },
    clock,
    log,
  });
  return { clock, f, cloud, lines, source: cloud.source() };
}

describe('CloudCredentials', () => {
  it('caches per host until 5 minutes before expiry', async () => {
    const { clock, f, source } = make(3 * 3600_000);
    expect(await source(HOST)).toEqual({
      username: '00000000-0000-0000-0000-000000000000',
      password: 'refresh-token-number-1',
    });
    await clock.advance(3 * 3600_000 - 5 * 60_000 - 1);
    expect(await source(HOST)).toMatchObject({ password: 'refresh-token-number-1' });
    await clock.advance(1);
    expect(await source(HOST)).toMatchObject({ password: 'refresh-token-number-2' });
    expect(await source('other.azurecr.io')).toMatchObject({ password: 'refresh-token-number-3' });
    expect(f.calls).toEqual([HOST, HOST, 'other.azurecr.io']);
  });

  it('renews short-lived credentials at half their lifetime, and unknown lifetimes after 15 minutes', async () => {
    const short = make(4 * 60_000);
    await short.source(HOST);
    await short.clock.advance(2 * 60_000 - 1);
    await short.source(HOST);
    await short.clock.advance(1);
    await short.source(HOST);
    expect(short.f.calls).toHaveLength(2);

    const unknown = make(null);
    await unknown.source(HOST);
    await unknown.clock.advance(10 * 60_000 - 1); // 15 min, renewed 5 min before
    await unknown.source(HOST);
    await unknown.clock.advance(1);
    await unknown.source(HOST);
    expect(unknown.f.calls).toHaveLength(2);
  });

  it('fetches once however many ask at the same time', async () => {
    const { f, source } = make();
    const g = gate();
    f.holdWith(g.promise);
    const all = Promise.all([source(HOST), source(HOST), source(HOST)]);
    g.open();
    const got = await all;
    expect(new Set(got.map((c) => (c && 'password' in c ? c.password : '')))).toEqual(
      new Set(['refresh-token-number-1']),
    );
    expect(f.calls).toHaveLength(1);
  });

  it('hosts no provider reaches get nothing, and the fetcher is never asked', async () => {
    const { f, cloud } = make();
    expect(await cloud.source()('ghcr.io')).toBeUndefined();
    expect(await cloud.source({ [HOST]: 'generic' })(HOST)).toBeUndefined();
    expect(f.calls).toEqual([]);
  });

  it('a refusal of cached credentials drops them once; of fresh ones it does not (no identity storm)', async () => {
    const { clock, f, source, lines } = make();
    const first = (await source(HOST))!;
    expect(source.invalidate?.(HOST, first)).toBe(false); // just fetched
    await clock.advance(30_000);
    expect(source.invalidate?.(HOST, first)).toBe(true);
    const second = (await source(HOST))!;
    expect(second).toMatchObject({ password: 'refresh-token-number-2' });
    // Another request that was refused with the first credentials is told to ask again (it gets the second).
    expect(source.invalidate?.(HOST, first)).toBe(true);
    expect(source.invalidate?.(HOST, second)).toBe(false);
    expect(source.invalidate?.(HOST, { username: 'x', password: 'someone-elses' })).toBe(false);
    expect(source.invalidate?.(HOST, { token: 'static' })).toBe(false);
    expect(f.calls).toHaveLength(2);
    expect(lines.join('')).not.toContain('refresh-token-number');
  });

  it('a dropped entry answers a second refusal of the same credentials with "ask again"', async () => {
    const { clock, source } = make();
    const first = (await source(HOST))!;
    await clock.advance(60_000);
    expect(source.invalidate?.(HOST, first)).toBe(true);
    expect(source.invalidate?.(HOST, first)).toBe(true);
  });

  it('a failed fetch is classified, scrubbed, logged without the secret, and not cached', async () => {
    const { f, source, lines } = make();
    f.failWith(
      Object.assign(new Error('token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl was refused'), {
        name: 'AuthenticationError',
        statusCode: 400,
      }),
    );
    const err = await Promise.resolve(source(HOST)).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect((err as Error).message).toBe(
      `${HOST}: could not get credentials from the azure identity (AuthenticationError 400): token [redacted] was refused`,
    );
    expect(lines.join('')).not.toContain('eyJhbGci');
    f.failWith(undefined);
    expect(await source(HOST)).toMatchObject({ password: 'refresh-token-number-1' });
  });
});

describe('cloudCredentialError', () => {
  it.each([
    [Object.assign(new Error('x'), { name: 'CredentialUnavailableError' }), RegistryAuthError],
    [
      Object.assign(new Error('x'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
      RegistryAuthError,
    ],
    [Object.assign(new Error('x'), { name: 'GaxiosError', status: 403 }), RegistryAuthError],
    [
      Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } }),
      RegistryUnavailableError,
    ],
    [
      Object.assign(new Error('x'), { name: 'InternalServerError', statusCode: 503 }),
      RegistryUnavailableError,
    ],
    [Object.assign(new Error('connect ECONNREFUSED'), { name: 'TypeError' }), RegistryUnavailableError],
  ])('%s', (err, kind) => {
    expect(cloudCredentialError('aws', 'h', err)).toBeInstanceOf(kind);
  });

  it('keeps no SDK object as the cause', () => {
    const sdk = Object.assign(new Error('denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      request: { headers: { authorization: 'AWS4-HMAC-SHA256 secret' } },
    });
    const e = cloudCredentialError('aws', 'h', sdk);
    expect(e.cause).not.toBe(sdk);
    expect(JSON.stringify(e.cause)).not.toContain('AWS4-HMAC');
  });
});

describe('scrubSecrets', () => {
  it('removes known values, JWTs, Google tokens, Basic/Bearer values and long base64; keeps one readable line', () => {
    const text = [
      'a eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln b',
      'ya29.c.b0AXv0zTOKEN-value',
      'Authorization: Basic QVdTOnNlY3JldHBhc3N3b3Jk',
      'QVdTOmV5SndZWGxzYjJGa0lqb2lZM0poZW5rZ2JHOXVaeUJpWVhObE5qUWdkR1Z4ZEE9PQ==',
      'my-known-secret-value',
    ].join(' ');
    expect(scrubSecrets(`${text}\nsecond line`, ['my-known-secret-value'])).toBe(
      'a [redacted] b [redacted] Authorization: Basic [redacted] [redacted] [redacted]',
    );
  });
});

describe('jwtExpiry', () => {
  it('reads exp, or nothing', () => {
    const jwt = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;
    expect(jwtExpiry(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry(jwt({}))).toBeUndefined();
    expect(jwtExpiry('opaque')).toBeUndefined();
    expect(jwtExpiry('a.!!!.b')).toBeUndefined();
  });
});

describe('chainCredentials', () => {
  it('the first source that answers wins; a refusal reaches every source that can renew', async () => {
    const renewed: string[] = [];
    const renewable = Object.assign(
      (host: string) => (host === 'b' ? { username: 'u', password: 'cloud' } : undefined),
      {
        invalidate: (host: string) => {
          renewed.push(host);
          return true;
        },
      },
    );
    const chain = chainCredentials(
      (host) => (host === 'a' ? { token: 'repo' } : undefined),
      renewable,
      () => ({
        username: 'docker',
        password: 'config',
      }),
    );
    expect(await chain('a')).toEqual({ token: 'repo' });
    expect(await chain('b')).toEqual({ username: 'u', password: 'cloud' });
    expect(await chain('c')).toEqual({ username: 'docker', password: 'config' });
    expect(chain.invalidate?.('b', { username: 'u', password: 'cloud' })).toBe(true);
    expect(renewed).toEqual(['b']);
    expect(chainCredentials(() => undefined).invalidate?.('b', { token: 't' })).toBe(false);
  });
});
