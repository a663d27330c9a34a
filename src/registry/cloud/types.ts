/** What a cloud's identity gives for one registry host: Basic credentials that expire. */
import { plainHttpAllowed } from '../egress.js';
import type { CloudProvider } from './select.js';

export interface CloudRegistryToken {
  readonly username: string;
  readonly password: string;
  /** When the password stops working, in ms since the epoch, if the cloud says. */
  readonly expiresAt?: number;
}

/** One cloud's way from the workload's identity to registry credentials, through that cloud's SDK. */
export interface CloudTokenFetcher {
  readonly provider: CloudProvider;
  /** Fresh credentials for `host`, never from a cache of the SDK's own. */
  fetch(host: string, signal?: AbortSignal): Promise<CloudRegistryToken>;
}

/** The registry's base URL: plain HTTP by the operator's rule (`plainHttpAllowed`), as the OCI client uses it. */
export function registryBaseUrl(host: string, insecureHosts: readonly string[] = []): string {
  return `${plainHttpAllowed(host, insecureHosts) ? 'http' : 'https'}://${host}`;
}

/** The `exp` of a JWT, in ms, without verifying it (the registry that issued it is the one that checks). */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
