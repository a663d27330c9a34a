/**
 * Reading a request body with a limit enforced while it streams: past `limit` bytes reading stops, nothing more
 * is buffered, and the caller answers 413. A declared Content-Length over the limit is refused before reading.
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; body: string } | { kind: 'too_large' } | { kind: 'aborted' };

/** Reads at most `limit` bytes; past that it stops reading and reports `too_large`. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish({ kind: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish({ kind: 'ok', body: Buffer.concat(chunks).toString('utf8') }));
    req.once('error', () => finish({ kind: 'aborted' }));
    req.once('close', () => finish({ kind: 'aborted' }));
  });
}
