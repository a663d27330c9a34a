/**
 * Google OIDC tokens from Pub/Sub push subscriptions: signature against Google's published keys (fetched
 * and cached by jose), issuer and expiry. Audience and service-account email are checked by `verify.ts`,
 * against the endpoint's configuration.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { OidcClaims, OidcTokenVerifier } from '../core/events/verify.js';

export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

export interface GoogleOidcOptions {
  /** Where the signing keys are published. Tests point this at a local server. */
  readonly jwksUrl?: string;
  /** Seconds of clock skew tolerated for `exp`/`nbf`/`iat`. Default 30. */
  readonly clockToleranceSec?: number;
  /** Key fetch timeout. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export function createGoogleOidcVerifier(opts: GoogleOidcOptions = {}): OidcTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl ?? GOOGLE_JWKS_URL), {
    timeoutDuration: opts.timeoutMs ?? 5000,
  });
  return async (token: string): Promise<OidcClaims> => {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: ['accounts.google.com', 'https://accounts.google.com'],
      algorithms: ['RS256'],
      clockTolerance: opts.clockToleranceSec ?? 30,
      requiredClaims: ['exp', 'iat'],
    });
    return payload as OidcClaims;
  };
}
