/**
 * The real jose-based verifier against a JWKS served over real HTTP, with real RS256 signatures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VerifyResult, verifyWebhook } from '../../src/core/events/verify.js';
import { createGoogleOidcVerifier } from '../../src/intake/google-oidc.js';
import { loadFixture } from './fixtures.js';

const AUDIENCE = 'https://tidemark.example.com/registry/gar/prod';
const EMAIL = 'pusher@acme-prod.iam.gserviceaccount.com';

let server: Server;
let jwksUrl: string;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: PrivateKey;
let strangerKey: PrivateKey;
let jwksRequests = 0;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  strangerKey = stranger.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  server = createServer((req, res) => {
    jwksRequests++;
    if (req.url !== '/oauth2/v3/certs') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v3/certs`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function token(
  claims: Record<string, unknown>,
  opts: { key?: PrivateKey; exp?: number | string; iss?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT({ email: EMAIL, email_verified: true, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'test-key-1' })
    .setIssuer(opts.iss ?? 'https://accounts.google.com')
    .setAudience((claims.aud as string | undefined) ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? signingKey);
}

async function verify(jwt: string): Promise<VerifyResult> {
  const fx = loadFixture('gar-pubsub.json');
  return verifyWebhook(
    'gar',
    { headers: { ...fx.headers, authorization: `Bearer ${jwt}` }, body: fx.body },
    { secrets: [], oidc: { audience: AUDIENCE, email: EMAIL } },
    { verifyOidcToken: createGoogleOidcVerifier({ jwksUrl }) },
  );
}

describe('Google OIDC over a real JWKS endpoint', () => {
  it('accepts a token signed by the published key, for the configured audience and service account', async () => {
    const before = jwksRequests;
    expect(await verify(await token({}))).toEqual({ ok: true });
    expect(jwksRequests).toBeGreaterThan(before);
  });

  it('accepts the bare accounts.google.com issuer', async () => {
    expect(await verify(await token({}, { iss: 'accounts.google.com' }))).toEqual({ ok: true });
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['wrong audience', () => token({ aud: 'https://other.example.com/hook' }), /audience/],
    ['wrong email', () => token({ email: 'someone@evil.iam.gserviceaccount.com' }), /email does not match/],
    ['unverified email', () => token({ email_verified: false }), /not verified/],
    ['expired', () => token({}, { exp: Math.floor(Date.now() / 1000) - 3600 }), /OIDC token rejected.*exp/],
    ['signed by another key', () => token({}, { key: strangerKey }), /OIDC token rejected/],
    ['unknown key id', () => token({}, { kid: 'nope' }), /OIDC token rejected/],
    [
      'not issued by Google',
      () => token({}, { iss: 'https://evil.example.com' }),
      /OIDC token rejected.*iss/,
    ],
    ['garbage', async () => 'not-a-jwt', /OIDC token rejected/],
  ])('rejects %s', async (_name, make, reason) => {
    expect(await verify(await make())).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });
});
