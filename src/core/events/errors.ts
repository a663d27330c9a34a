/**
 * The one error a webhook parser throws: the body is not what that provider sends. The message names the
 * field and what was expected (`events[0].target.repository: expected a string`), so whoever configured the
 * sender can fix it. The HTTP endpoint answers 400 with this message.
 */
import { AppError } from '../errors.js';
/** A webhook body that is not what its provider sends: never retried. */
export class MalformedWebhookError extends AppError {
  readonly code = 'webhook_malformed';
  readonly retryable = false;
  constructor(
    message: string,
    /** Dotted path of the offending field, when there is one (`events[0].target.repository`). */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
  }
}
