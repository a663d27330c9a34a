/**
 * What the cloud registry stand-ins share: an HTTP server on 127.0.0.1 (optionally TLS), a self-signed
 * certificate for 127.0.0.1, request bodies, Basic credentials, token-shaped random strings, and a proxy of
 * `/v2/*` to the real docker-registry behind a stand-in (its `WWW-Authenticate` challenge rewritten to point
 * at the stand-in's own token service, as a cloud registry's would).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface Served {
  /** http(s)://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  stop(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 at a port the OS picks; TLS when `tls` is given. A thrown error answers 500. */
export async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<Served> {
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String((err as Error).message));
    });
  };
  const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

/** A self-signed certificate for 127.0.0.1 (and localhost), written under `dir`. `cert` doubles as the CA. */
export async function selfSignedCert(dir: string): Promise<{ key: string; cert: string }> {
  const keyPath = join(dir, 'tls.key');
  const certPath = join(dir, 'tls.crt');
  await execFileP('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function basicAuth(req: IncomingMessage): { user: string; pass: string } | undefined {
  const m = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** A JWT-shaped token (not signed: the stand-ins look tokens up, they do not verify them) with these claims. */
export function jwtShaped(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ ...claims, jti: randomBytes(8).toString('hex') })}.${randomBytes(32).toString('base64url')}`;
}

/** `repository:<name>:pull` scopes of a token request. */
export function requestedScopes(url: URL): { type: string; name: string; actions: string[] }[] {
  return url.searchParams
    .getAll('scope')
    .flatMap((s) => s.split(' '))
    .filter(Boolean)
    .map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      return {
        type: s.slice(0, first),
        name: s.slice(first + 1, last),
        actions: s.slice(last + 1).split(','),
      };
    });
}

/** The repository a `/v2/<name>/(tags|manifests|blobs)/…` path names. */
export function repositoryOfPath(path: string): string | undefined {
  return /^\/v2\/(.+?)\/(tags|manifests|blobs)\//.exec(path)?.[1];
}

/**
 * Forwards the request to `backend` (`http://127.0.0.1:PORT`). `authorization` replaces the client's header
 * (else it is passed on); a 401's challenge is passed through `challenge` (to name the stand-in's token service).
 */
export function proxy(
  req: IncomingMessage,
  res: ServerResponse,
  backend: string,
  o: { authorization?: string; challenge?: (header: string) => string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: new URL(backend).host };
    if (o.authorization) headers.authorization = o.authorization;
    const up = request(`${backend}${req.url}`, { method: req.method, headers }, (r) => {
      const out = { ...r.headers };
      const www = r.headers['www-authenticate'];
      if (r.statusCode === 401 && typeof www === 'string' && o.challenge)
        out['www-authenticate'] = o.challenge(www);
      res.writeHead(r.statusCode ?? 502, out);
      r.pipe(res);
      r.on('end', resolve);
      r.on('error', reject);
    });
    up.on('error', reject);
    req.pipe(up);
  });
}
