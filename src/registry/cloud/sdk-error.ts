/**
 * A cloud SDK's error, classified once where it enters and stripped of anything that could be a credential
 * before it becomes tidemark's error (whose message and cause reach logs and the check run).
 */
import { AppError, RegistryAuthError, RegistryUnavailableError } from '../../core/errors.js';
import type { CloudProvider } from './select.js';

const TOKEN_PATTERNS: RegExp[] = [
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, // JWTs (Entra, ACR refresh tokens, federated tokens)
  /ya29\.[A-Za-z0-9._-]+/g, // Google OAuth access tokens
  /((?:Basic|Bearer)\s+)[A-Za-z0-9+/=._-]{8,}/gi,
  /\b[A-Za-z0-9+/]{40,}={0,2}/g, // long base64 (ECR authorization tokens, keys)
];

const MAX_MESSAGE = 300;

/** `text` without the given secret values and without anything shaped like a token, cut to a readable length. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('[redacted]');
  for (const re of TOKEN_PATTERNS)
    out = out.replace(re, (m, p1: unknown) =>
      typeof p1 === 'string' && m.startsWith(p1) ? `${p1}[redacted]` : '[redacted]',
    );
  const firstLine = out.split('\n')[0]!.trim();
  return firstLine.length > MAX_MESSAGE ? `${firstLine.slice(0, MAX_MESSAGE)}…` : firstLine;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as {
    statusCode?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    $metadata?: { httpStatusCode?: unknown };
  };
  for (const v of [e.statusCode, e.status, e.response?.status, e.$metadata?.httpStatusCode])
    if (typeof v === 'number') return v;
  return undefined;
}

/** SDK error names that mean "this workload has no such identity", not "try again later". */
const NO_IDENTITY = new Set([
  'CredentialUnavailableError', // @azure/identity: nothing configured
  'AuthenticationRequiredError',
  'CredentialsProviderError', // AWS SDK: no credentials in the chain
  'AccessDeniedException', // ECR: the role may not call GetAuthorizationToken
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
]);

/**
 * tidemark's error for a failure to get `provider` credentials for `host`: refusals and missing identities are
 * `RegistryAuthError` (fixed by configuration, not retried), everything else `RegistryUnavailableError`.
 */
export function cloudCredentialError(
  provider: CloudProvider,
  host: string,
  err: unknown,
  secrets: readonly string[] = [],
): AppError {
  // tidemark's own errors (from the exchange with the registry) are already classified and name no secret.
  if (err instanceof AppError) return err;
  const name = err instanceof Error ? err.name : typeof err;
  const status = statusOf(err);
  const detail = scrubSecrets(err instanceof Error ? err.message : String(err), secrets);
  const message = `${host}: could not get credentials from the ${provider} identity (${name}${status ? ` ${status}` : ''}): ${detail}`;
  // The cause keeps the class and status for debugging, never the SDK's own object (it may hold request data).
  const cause = Object.assign(new Error(detail), { name, ...(status && { status }) });
  const refused =
    NO_IDENTITY.has(name) || (status !== undefined && status >= 400 && status < 500 && status !== 429);
  return refused
    ? new RegistryAuthError(message, { cause })
    : new RegistryUnavailableError(message, { cause });
}
