/**
 * Structured JSON logs (pino). Secrets never reach a log line: known secret-bearing fields are redacted by
 * path, and every string value is scrubbed of registered secret values and credential patterns.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'secrets',
  'privateKey',
  'private_key',
  'authorization',
  'Authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.privateKey',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'env.PRIVATE_KEY',
  'env.WEBHOOK_SECRET',
];

const CREDENTIAL_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|ghs_[A-Za-z0-9]{20,})\b/g,
  /((?:Basic|Bearer|token)\s+)[A-Za-z0-9+/=._-]{12,}/gi,
  /(https?:\/\/)[^/@\s:]+:[^/@\s]+@/g,
];

/** Secret values known at run time (webhook secrets, endpoint tokens). Scrubbed from every log line. */
export class SecretRegistry {
  private readonly values = new Set<string>();
  add(...secrets: (string | undefined)[]): void {
    for (const s of secrets) if (s && s.length >= 6) this.values.add(s);
  }
  scrub(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('[redacted]');
    for (const re of CREDENTIAL_PATTERNS) {
      out = out.replace(re, (m, p1: string | undefined) =>
        p1 && m.startsWith(p1) ? `${p1}[redacted]` : '[redacted]',
      );
    }
    return out;
  }
}

export interface LoggerOptions {
  readonly level?: string;
  readonly secrets?: SecretRegistry;
  /** Where lines go; default stdout. Tests pass a stream to read every line back. */
  readonly destination?: NodeJS.WritableStream;
  readonly pretty?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets ?? new SecretRegistry();
  const dest = opts.destination ?? process.stdout;
  const stream = {
    write(line: string) {
      dest.write(secrets.scrub(line));
    },
  };
  return pino(
    {
      level: opts.level ?? 'info',
      base: { app: 'tidemark' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
