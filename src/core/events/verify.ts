/**
 * Authenticating registry webhooks, over the raw body. Pure apart from `node:crypto` (no I/O): the one check
 * that needs the network, Google's OIDC signature, is injected (`verifyOidcToken`, see `google-oidc.ts`).
 *
 * Every secret comparison is constant-time: HMACs are compared as digests, static values are compared as
 * SHA-256 digests of both sides (equal length whatever the input). Several secrets may be valid at once
 * (rotation); all of them are tried, with no early exit.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RegistryProvider } from '../domain/types.js';

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface VerifyRequest {
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, byte for byte as received. */
  readonly body: string;
  /** The secret token from the URL (`/registry/<provider>/<id>/<token>` or `?token=`). */
  readonly pathToken?: string | undefined;
}

export interface EndpointAuth {
  /** Valid secrets; two during a rotation. Empty strings never match. */
  readonly secrets: readonly string[];
  /**
   * Header carrying the static secret. ACR, Distribution: default `authorization` (value `Bearer <secret>`
   * or the verbatim secret); any other name carries the secret verbatim. ECR: default `x-api-key`; an
   * `Authorization: Basic` header (secret = `user:password`) is accepted too.
   */
  readonly header?: string;
  /** JFrog: `X-JFrog-Event-Auth` is an HMAC-SHA256 of the body (default true) or the plain secret (false). */
  readonly signing?: boolean;
  /** GAR (Pub/Sub push): the token's `aud` and the push subscription's service-account `email`. */
  readonly oidc?: { readonly audience: string; readonly email: string };
}

/** The claims of a signature-checked Google OIDC token. */
export interface OidcClaims {
  readonly iss?: string;
  readonly aud?: string | readonly string[];
  readonly email?: unknown;
  readonly email_verified?: unknown;
  readonly [claim: string]: unknown;
}

/** Checks a JWT's signature, issuer and expiry, and returns its claims; rejects otherwise. */
export type OidcTokenVerifier = (token: string) => Promise<OidcClaims>;

export interface VerifyDeps {
  readonly verifyOidcToken?: OidcTokenVerifier;
}

export const GOOGLE_ISSUERS: ReadonlySet<string> = new Set([
  'accounts.google.com',
  'https://accounts.google.com',
]);

const OK: VerifyResult = { ok: true };
const fail = (reason: string): VerifyResult => ({ ok: false, reason });

function usableSecrets(auth: EndpointAuth): string[] {
  return auth.secrets.filter((s) => typeof s === 'string' && s !== '');
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality of two strings of any length. */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** True when `value` equals any candidate; every candidate is compared. */
function matchesAny(value: string, candidates: readonly string[]): boolean {
  let match = false;
  for (const c of candidates) match = safeEqual(value, c) || match;
  return match;
}

type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';
const HEX_LENGTH: Record<HmacAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

/** True when `hex` is the HMAC of the body under any secret. */
function hmacMatches(
  algorithm: HmacAlgorithm,
  hex: string,
  body: string,
  secrets: readonly string[],
): boolean {
  const given = hex.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(given) || given.length !== HEX_LENGTH[algorithm]) return false;
  const givenBytes = Buffer.from(given, 'hex');
  let match = false;
  for (const secret of secrets) {
    const expected = createHmac(algorithm, secret).update(body, 'utf8').digest();
    match = timingSafeEqual(expected, givenBytes) || match;
  }
  return match;
}

function checkHmac(
  headerName: string,
  value: string | undefined,
  algorithm: HmacAlgorithm,
  body: string,
  secrets: readonly string[],
  prefix = '',
): VerifyResult {
  if (value === undefined || value === '') return fail(`missing ${headerName} header`);
  if (prefix !== '' && !value.startsWith(prefix)) return fail(`${headerName} must start with "${prefix}"`);
  return hmacMatches(algorithm, value.slice(prefix.length), body, secrets)
    ? OK
    : fail(`${headerName} does not match the body signed with any configured secret`);
}

function checkStatic(
  headerName: string,
  value: string | undefined,
  expected: readonly string[],
): VerifyResult {
  if (value === undefined || value === '') return fail(`missing ${headerName} header`);
  return matchesAny(value, expected) ? OK : fail(`${headerName} does not match any configured secret`);
}

function checkPathToken(token: string | undefined, secrets: readonly string[]): VerifyResult {
  if (token === undefined || token === '')
    return fail('missing URL token (/registry/<provider>/<id>/<token>)');
  return matchesAny(token, secrets) ? OK : fail('URL token does not match any configured secret');
}

/** Flux's generic-hmac convention: `X-Signature: sha1|sha256|sha512=<hex>`. */
function checkGenericSignature(value: string, body: string, secrets: readonly string[]): VerifyResult {
  const m = /^(sha1|sha256|sha512)=(.*)$/.exec(value.trim());
  if (!m) return fail('x-signature must be "sha1=<hex>", "sha256=<hex>" or "sha512=<hex>"');
  return hmacMatches(m[1] as HmacAlgorithm, m[2] ?? '', body, secrets)
    ? OK
    : fail('x-signature does not match the body signed with any configured secret');
}

function bearerToken(value: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return m?.[1];
}

function audienceMatches(aud: OidcClaims['aud'], expected: string): boolean {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return list.some((a) => typeof a === 'string' && safeEqual(a, expected));
}

async function checkOidc(req: VerifyRequest, auth: EndpointAuth, deps: VerifyDeps): Promise<VerifyResult> {
  const oidc = auth.oidc;
  if (oidc === undefined || oidc.audience === '' || oidc.email === '') {
    return fail('endpoint has no auth.oidc.audience and auth.oidc.email configured');
  }
  if (deps.verifyOidcToken === undefined) return fail('no OIDC token verifier available');
  const token = bearerToken(req.headers.authorization);
  if (token === undefined) return fail('missing Authorization: Bearer <Google OIDC token>');
  let claims: OidcClaims;
  try {
    claims = await deps.verifyOidcToken(token);
  } catch (err) {
    return fail(`OIDC token rejected: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof claims.iss !== 'string' || !GOOGLE_ISSUERS.has(claims.iss)) {
    return fail(`OIDC token issuer ${JSON.stringify(claims.iss)} is not Google`);
  }
  if (!audienceMatches(claims.aud, oidc.audience))
    return fail('OIDC token audience does not match auth.oidc.audience');
  // Any Google account can mint a token for any audience; only the email pins it to the subscription's
  // service account (the gap in Flux's gcr receiver, GHSA-h9cx-xjg6-5v2w).
  if (typeof claims.email !== 'string' || !safeEqual(claims.email.toLowerCase(), oidc.email.toLowerCase())) {
    return fail('OIDC token email does not match auth.oidc.email');
  }
  if (claims.email_verified !== true && claims.email_verified !== 'true') {
    return fail('OIDC token email is not verified');
  }
  return OK;
}

/**
 * Is this request from the registry the endpoint is configured for? Resolves to `{ ok: false, reason }`
 * (never rejects) when it is not; the reason names what was missing or wrong, never a secret.
 */
/**
 * The one rule for a secret a registry sends as a header value (Harbor, ACR, Distribution): in
 * `Authorization`, the secret alone or as `Bearer <secret>`; in any other header, the secret alone.
 */
export function sharedHeaderValues(header: string, secrets: readonly string[]): string[] {
  return header.toLowerCase() === 'authorization' ? secrets.flatMap((s) => [`Bearer ${s}`, s]) : [...secrets];
}

export async function verifyWebhook(
  provider: RegistryProvider,
  req: VerifyRequest,
  auth: EndpointAuth,
  deps: VerifyDeps = {},
): Promise<VerifyResult> {
  const h = req.headers;
  if (provider === 'gar') return checkOidc(req, auth, deps);
  const secrets = usableSecrets(auth);
  if (secrets.length === 0) return fail('endpoint has no secrets configured');
  switch (provider) {
    case 'dockerhub':
    case 'quay':
      return checkPathToken(req.pathToken, secrets);
    case 'cdevents': {
      const sig = h['x-signature'];
      return sig !== undefined
        ? checkGenericSignature(sig, req.body, secrets)
        : checkPathToken(req.pathToken, secrets);
    }
    case 'github':
      return checkHmac(
        'x-hub-signature-256',
        h['x-hub-signature-256'],
        'sha256',
        req.body,
        secrets,
        'sha256=',
      );
    case 'gitea': {
      const name = h['x-forgejo-signature'] !== undefined ? 'x-forgejo-signature' : 'x-gitea-signature';
      return checkHmac(name, h[name], 'sha256', req.body, secrets);
    }
    case 'nexus':
      return checkHmac(
        'x-nexus-webhook-signature',
        h['x-nexus-webhook-signature'],
        'sha1',
        req.body,
        secrets,
      );
    case 'jfrog':
      return auth.signing === false
        ? checkStatic('x-jfrog-event-auth', h['x-jfrog-event-auth'], secrets)
        : checkHmac('x-jfrog-event-auth', h['x-jfrog-event-auth'], 'sha256', req.body, secrets);
    case 'harbor':
      // Harbor copies the policy's "Auth Header" verbatim into Authorization; it is not an HMAC.
      return checkStatic('authorization', h.authorization, sharedHeaderValues('authorization', secrets));
    case 'acr':
    case 'distribution': {
      const name = (auth.header ?? 'authorization').toLowerCase();
      return checkStatic(name, h[name], sharedHeaderValues(name, secrets));
    }
    case 'ecr': {
      const name = (auth.header ?? 'x-api-key').toLowerCase();
      if (h[name] === undefined && name !== 'authorization' && h.authorization !== undefined) {
        const basic = secrets.map((s) => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`);
        return checkStatic('authorization', h.authorization, basic);
      }
      return checkStatic(name, h[name], secrets);
    }
    default:
      return fail(`unknown registry provider "${String(provider)}"`);
  }
}
