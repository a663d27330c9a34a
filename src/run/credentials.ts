/** Which failures mean "GitHub refused the installation token" (revoked, or expired before its time). */
import { GitHubApiError } from '../core/errors.js';
import { GitCommandError } from '../git/workspace.js';

/** A 401 from the API, or git refusing the token over HTTP. */
export function isCredentialFailure(err: unknown): boolean {
  if (err instanceof GitHubApiError) return err.status === 401;
  if (err instanceof GitCommandError)
    return /Authentication failed|returned error: 40[13]|could not read Username|Invalid username or password/i.test(
      err.message,
    );
  return false;
}
