/**
 * The one HTTP server: GitHub webhooks (probot middleware), registry webhooks, health, readiness, metrics.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { readBody } from './read-body.js';

/** GitHub caps webhook payloads at 25 MB. */
export const GITHUB_MAX_BODY_BYTES = 25 * 1024 * 1024;

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface RouterOptions {
  readonly githubWebhookPath: string;
  readonly github?: (req: IncomingMessage, res: ServerResponse, next: () => void) => unknown;
  /** Largest GitHub webhook body read (GitHub caps deliveries at 25 MB). */
  readonly githubMaxBodyBytes?: number;
  readonly registry?: Handler;
  readonly metrics: Registry;
  /** Readiness: every check must pass; failures are listed in the answer. */
  readonly ready: () => Promise<{ ok: boolean; checks: Record<string, boolean | string> }>;
  readonly onError: (err: unknown, req: IncomingMessage) => void;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function createRouter(opts: RouterOptions): Handler {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (path === '/healthz') return json(res, 200, { ok: true });
      if (path === '/readyz') {
        const r = await opts.ready();
        return json(res, r.ok ? 200 : 503, r);
      }
      if (path === '/metrics' && req.method === 'GET') {
        const text = await opts.metrics.metrics();
        res.writeHead(200, { 'content-type': opts.metrics.contentType });
        res.end(text);
        return;
      }
      if (path.startsWith('/registry/') && opts.registry) return await opts.registry(req, res);
      if (path === opts.githubWebhookPath && opts.github) {
        // Unauthenticated bodies are never buffered without bound: a delivery must carry GitHub's signature
        // header, and its body is read (up to the limit, enforced while streaming) before probot verifies it.
        if (req.method !== 'POST') return json(res, 405, { error: 'POST only' });
        if (!req.headers['x-hub-signature-256'])
          return json(res, 400, { error: 'missing X-Hub-Signature-256: not a signed GitHub delivery' });
        const body = await readBody(req, opts.githubMaxBodyBytes ?? GITHUB_MAX_BODY_BYTES);
        if (body.kind === 'too_large') {
          res.setHeader('connection', 'close');
          return json(res, 413, { error: 'body too large' });
        }
        if (body.kind === 'aborted') return;
        (req as IncomingMessage & { body?: string }).body = body.body;
        await opts.github(req, res, () => json(res, 404, { error: 'not found' }));
        return;
      }
      json(res, 404, { error: `no route for ${req.method} ${path}` });
    } catch (err) {
      opts.onError(err, req);
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    }
  };
}

export async function listen(
  handler: Handler,
  host: string,
  port: number,
): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${addr.port}`,
    port: addr.port,
  };
}
