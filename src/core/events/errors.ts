/**
 * The one error a webhook parser throws: the body is not what that provider sends. The message names the
 * field and what was expected (`events[0].target.repository: expected a string`), so whoever configured the
 * sender can fix it. The HTTP endpoint answers 400 with this message.
 */
export class MalformedWebhookError extends Error {
  override readonly name = 'MalformedWebhookError';
  constructor(
    message: string,
    /** Dotted path of the offending field, when there is one (`events[0].target.repository`). */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
  }
}
