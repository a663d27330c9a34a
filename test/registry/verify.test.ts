import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RegistryProvider } from '../../src/core/domain/types.js';
import {
  type EndpointAuth,
  type OidcClaims,
  type VerifyRequest,
  verifyWebhook,
} from '../../src/core/events/verify.js';
import { loadFixture, loadFixtures, SECRET } from './fixtures.js';

const OTHER = 'previous-secret-before-rotation';
const WRONG = 'wrong-secret';

const hmac = (alg: string, secret: string, body: string) =>
  createHmac(alg, secret).update(body).digest('hex');

interface Scheme {
  /** Fixture whose body is used. */
  readonly file: string;
  /** The request as the sender would make it with `secret`. */
  readonly sign: (secret: string, body: string) => Pick<VerifyRequest, 'headers' | 'pathToken'>;
  /** Header / token the sign function sets; removed for the "missing" case. */
  readonly strip: (
    req: Pick<VerifyRequest, 'headers' | 'pathToken'>,
  ) => Pick<VerifyRequest, 'headers' | 'pathToken'>;
  readonly auth?: Omit<EndpointAuth, 'secrets'>;
}

const dropHeader =
  (name: string) =>
  (r: Pick<VerifyRequest, 'headers' | 'pathToken'>): Pick<VerifyRequest, 'headers' | 'pathToken'> => {
    const { [name]: _gone, ...headers } = r.headers;
    return { ...r, headers };
  };
const dropToken = (r: Pick<VerifyRequest, 'headers' | 'pathToken'>) => ({ headers: r.headers });

const SCHEMES: [string, RegistryProvider, Scheme][] = [
  [
    'docker hub: URL token',
    'dockerhub',
    { file: 'dockerhub.json', sign: (s) => ({ headers: {}, pathToken: s }), strip: dropToken },
  ],
  [
    'quay: URL token',
    'quay',
    { file: 'quay.json', sign: (s) => ({ headers: {}, pathToken: s }), strip: dropToken },
  ],
  [
    'cdevents: URL token',
    'cdevents',
    { file: 'cdevents.json', sign: (s) => ({ headers: {}, pathToken: s }), strip: dropToken },
  ],
  [
    'cdevents: x-signature sha256',
    'cdevents',
    {
      file: 'cdevents.json',
      sign: (s, b) => ({ headers: { 'x-signature': `sha256=${hmac('sha256', s, b)}` } }),
      strip: dropHeader('x-signature'),
    },
  ],
  [
    'cdevents: x-signature sha512',
    'cdevents',
    {
      file: 'cdevents.json',
      sign: (s, b) => ({ headers: { 'x-signature': `sha512=${hmac('sha512', s, b)}` } }),
      strip: dropHeader('x-signature'),
    },
  ],
  [
    'cdevents: x-signature sha1',
    'cdevents',
    {
      file: 'cdevents.json',
      sign: (s, b) => ({ headers: { 'x-signature': `sha1=${hmac('sha1', s, b)}` } }),
      strip: dropHeader('x-signature'),
    },
  ],
  [
    'github: x-hub-signature-256',
    'github',
    {
      file: 'github-package.json',
      sign: (s, b) => ({ headers: { 'x-hub-signature-256': `sha256=${hmac('sha256', s, b)}` } }),
      strip: dropHeader('x-hub-signature-256'),
    },
  ],
  [
    'gitea: x-gitea-signature',
    'gitea',
    {
      file: 'gitea.json',
      sign: (s, b) => ({ headers: { 'x-gitea-signature': hmac('sha256', s, b) } }),
      strip: dropHeader('x-gitea-signature'),
    },
  ],
  [
    'forgejo: x-forgejo-signature',
    'gitea',
    {
      file: 'gitea.json',
      sign: (s, b) => ({ headers: { 'x-forgejo-signature': hmac('sha256', s, b) } }),
      strip: dropHeader('x-forgejo-signature'),
    },
  ],
  [
    'nexus: HMAC-SHA1',
    'nexus',
    {
      file: 'nexus.json',
      sign: (s, b) => ({ headers: { 'x-nexus-webhook-signature': hmac('sha1', s, b) } }),
      strip: dropHeader('x-nexus-webhook-signature'),
    },
  ],
  [
    'jfrog: HMAC-SHA256 (signing on)',
    'jfrog',
    {
      file: 'jfrog.json',
      sign: (s, b) => ({ headers: { 'x-jfrog-event-auth': hmac('sha256', s, b) } }),
      strip: dropHeader('x-jfrog-event-auth'),
    },
  ],
  [
    'jfrog: plain secret (signing off)',
    'jfrog',
    {
      file: 'jfrog.json',
      auth: { signing: false },
      sign: (s) => ({ headers: { 'x-jfrog-event-auth': s } }),
      strip: dropHeader('x-jfrog-event-auth'),
    },
  ],
  [
    'harbor: Authorization verbatim',
    'harbor',
    {
      file: 'harbor.json',
      sign: (s) => ({ headers: { authorization: s } }),
      strip: dropHeader('authorization'),
    },
  ],
  [
    'harbor: Authorization Bearer (the one shared-header rule)',
    'harbor',
    {
      file: 'harbor.json',
      sign: (s) => ({ headers: { authorization: `Bearer ${s}` } }),
      strip: dropHeader('authorization'),
    },
  ],
  [
    'acr: Authorization verbatim (the one shared-header rule)',
    'acr',
    {
      file: 'acr.json',
      sign: (s) => ({ headers: { authorization: s } }),
      strip: dropHeader('authorization'),
    },
  ],
  [
    'acr: Authorization Bearer',
    'acr',
    {
      file: 'acr.json',
      sign: (s) => ({ headers: { authorization: `Bearer ${s}` } }),
      strip: dropHeader('authorization'),
    },
  ],
  [
    'acr: custom header',
    'acr',
    {
      file: 'acr.json',
      auth: { header: 'X-Webhook-Token' },
      sign: (s) => ({ headers: { 'x-webhook-token': s } }),
      strip: dropHeader('x-webhook-token'),
    },
  ],
  [
    'distribution: Authorization Bearer',
    'distribution',
    {
      file: 'distribution.json',
      sign: (s) => ({ headers: { authorization: `Bearer ${s}` } }),
      strip: dropHeader('authorization'),
    },
  ],
  [
    'ecr: x-api-key',
    'ecr',
    {
      file: 'ecr-eventbridge.json',
      sign: (s) => ({ headers: { 'x-api-key': s } }),
      strip: dropHeader('x-api-key'),
    },
  ],
  [
    'ecr: custom api-key header',
    'ecr',
    {
      file: 'ecr-eventbridge.json',
      auth: { header: 'X-Tidemark-Key' },
      sign: (s) => ({ headers: { 'x-tidemark-key': s } }),
      strip: dropHeader('x-tidemark-key'),
    },
  ],
  [
    'ecr: Basic',
    'ecr',
    {
      file: 'ecr-eventbridge.json',
      sign: (s) => ({ headers: { authorization: `Basic ${Buffer.from(s).toString('base64')}` } }),
      strip: dropHeader('authorization'),
    },
  ],
];

describe.each(SCHEMES)('%s', (_name, provider, scheme) => {
  const body = loadFixture(scheme.file).body;
  const check = (req: Pick<VerifyRequest, 'headers' | 'pathToken'>, secrets: string[]) =>
    verifyWebhook(provider, { ...req, body }, { ...scheme.auth, secrets });

  it('accepts the right secret', async () => {
    expect(await check(scheme.sign(SECRET, body), [SECRET])).toEqual({ ok: true });
  });
  it('rejects a wrong secret', async () => {
    const r = await check(scheme.sign(WRONG, body), [SECRET]);
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });
  it('rejects a missing credential', async () => {
    const r = await check(scheme.strip(scheme.sign(SECRET, body)), [SECRET]);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
  });
  it('accepts either of two secrets during a rotation', async () => {
    expect(await check(scheme.sign(SECRET, body), [OTHER, SECRET])).toEqual({ ok: true });
    expect(await check(scheme.sign(OTHER, body), [OTHER, SECRET])).toEqual({ ok: true });
  });
  it('rejects when no secret is configured', async () => {
    expect((await check(scheme.sign(SECRET, body), [])).ok).toBe(false);
    expect((await check(scheme.sign('', body), [''])).ok).toBe(false);
  });
});

describe('HMAC schemes bind the signature to the body', () => {
  it.each(SCHEMES.filter(([n]) => /HMAC|signature/.test(n)))(
    '%s: a changed body is rejected',
    async (_n, provider, scheme) => {
      const body = loadFixture(scheme.file).body;
      const req = scheme.sign(SECRET, body);
      const r = await verifyWebhook(
        provider,
        { ...req, body: `${body} ` },
        { ...scheme.auth, secrets: [SECRET] },
      );
      expect(r.ok).toBe(false);
    },
  );
});

describe('the fixtures’ own auth headers verify with the fixture secret', () => {
  const withAuth = loadFixtures().filter((f) =>
    ['github', 'gitea', 'nexus', 'jfrog', 'harbor', 'acr', 'distribution', 'ecr'].includes(f.provider),
  );
  it.each(withAuth.map((f) => [f.file, f] as const))('%s', async (_file, fx) => {
    expect(await verifyWebhook(fx.provider, fx, { secrets: [SECRET] })).toEqual({ ok: true });
    expect((await verifyWebhook(fx.provider, fx, { secrets: [WRONG] })).ok).toBe(false);
  });
});

describe('gar: Google OIDC claims', () => {
  const fx = loadFixture('gar-pubsub.json');
  const oidc = {
    audience: 'https://tidemark.example.com/registry/gar/prod',
    email: 'pusher@acme-prod.iam.gserviceaccount.com',
  };
  const good: OidcClaims = {
    iss: 'https://accounts.google.com',
    aud: oidc.audience,
    email: oidc.email,
    email_verified: true,
  };
  /** A verifier that knows exactly one token (the fixture's placeholder) and returns the given claims for it. */
  const verifierFor = (claims: OidcClaims) => async (token: string) => {
    if (token !== 'TEST.GOOGLE-SIGNED.OIDC-JWT') throw new Error('signature verification failed');
    return claims;
  };
  const run = (claims: OidcClaims, headers = fx.headers) =>
    verifyWebhook(
      'gar',
      { headers, body: fx.body },
      { secrets: [], oidc },
      { verifyOidcToken: verifierFor(claims) },
    );

  it('accepts a token for the configured audience and service account', async () => {
    expect(await run(good)).toEqual({ ok: true });
  });
  it.each([
    ['wrong audience', { ...good, aud: 'https://elsewhere.example.com' }, /audience/],
    ['wrong email', { ...good, email: 'attacker@evil-proj.iam.gserviceaccount.com' }, /email does not match/],
    ['no email', { ...good, email: undefined }, /email does not match/],
    ['unverified email', { ...good, email_verified: false }, /not verified/],
    ['not Google', { ...good, iss: 'https://evil.example.com' }, /issuer/],
  ] as const)('rejects %s', async (_n, claims, reason) => {
    expect(await run(claims)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });
  it('rejects a token the verifier refuses', async () => {
    expect(await run(good, { authorization: 'Bearer forged.token.value' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/OIDC token rejected/),
    });
  });
  it('rejects a missing token', async () => {
    expect(await run(good, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
  });
  it('rejects when audience/email are not configured', async () => {
    const r = await verifyWebhook('gar', fx, { secrets: [SECRET] }, { verifyOidcToken: verifierFor(good) });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/auth\.oidc/) });
  });
  it('accepts an audience array containing the configured audience', async () => {
    expect(await run({ ...good, aud: ['x', oidc.audience] })).toEqual({ ok: true });
  });
});
