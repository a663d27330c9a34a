/**
 * Errors are classified once, where they enter. `retryable` tells the worker whether a job should be tried
 * again (network, 5xx, 429) or reported to the user and dropped (bad configuration, invalid policy).
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A problem in the user's configuration or policies: never retried, reported where the user sees it. */
export class ConfigError extends AppError {
  readonly code = 'config_invalid';
  readonly retryable = false;
  constructor(
    message: string,
    readonly location?: { file?: string; line?: number; path?: string },
  ) {
    super(message);
  }
}

export class RegistryAuthError extends AppError {
  readonly code = 'registry_auth_failed';
  readonly retryable = false;
}
/** The operator's registry policy does not let tidemark contact this host: a configuration problem, never retried. */
export class RegistryEgressError extends AppError {
  readonly code = 'registry_egress_refused';
  readonly retryable = false;
}
export class RegistryNotFoundError extends AppError {
  readonly code = 'registry_not_found';
  readonly retryable = false;
}
export class RegistryRateLimitedError extends AppError {
  readonly code = 'registry_rate_limited';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
export class RegistryUnavailableError extends AppError {
  readonly code = 'registry_unavailable';
  readonly retryable = true;
}

export class GitHubApiError extends AppError {
  readonly code = 'github_api_error';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
  /** How long GitHub asked to wait (`retry-after`, or `x-ratelimit-reset` at the primary limit). */
  readonly retryAfterMs?: number;
}

/** How long the failure asked the caller to wait before trying again (a rate limit's own answer), if it did. */
export function retryAfterOf(err: unknown): number | undefined {
  const ms = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** A compare-and-swap on a branch head failed: someone else moved it. Retried after a fresh fetch. */
export class BranchMovedError extends AppError {
  readonly code = 'branch_moved';
  readonly retryable = true;
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof AppError) return err.retryable;
  // Unknown errors (a bug, a network reset) are retried a bounded number of times by the queue.
  return true;
}

/** The process is shutting down; the job is left for another worker or the next start. */
export class ShutdownError extends AppError {
  readonly code = 'shutting_down';
  readonly retryable = true;
}

/** A registry answered in a way the client refuses to follow (a cross-origin `Link`, an endless tag list). */
export class RegistryProtocolError extends AppError {
  readonly code = 'registry_protocol';
  readonly retryable = false;
}

/** The operator's configuration (environment, endpoints file) cannot be used: tidemark does not start. */
export class AppConfigError extends AppError {
  readonly code = 'app_config_invalid';
  readonly retryable = false;
}

/** GitHub refused the installation token (revoked, expired early): the token was dropped; the retry mints one. */
export class CredentialsRenewedError extends AppError {
  readonly code = 'github_credentials_renewed';
  readonly retryable = true;
}

/** A run passed its deadline (TIDEMARK_JOB_TIMEOUT): aborted at its next step, retried by the queue later. */
export class RunDeadlineError extends AppError {
  readonly code = 'run_deadline';
  readonly retryable = true;
}
