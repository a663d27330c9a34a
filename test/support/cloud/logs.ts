/** A pino logger whose lines a test can read back (for "no credential in any log line"). */
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export function capturedLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** The secrets among `secrets` that occur in `texts`. */
export function leaked(texts: readonly string[], secrets: readonly string[]): string[] {
  const all = texts.join('\n');
  return secrets.filter((s) => s.length >= 6 && all.includes(s));
}
