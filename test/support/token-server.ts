/**
 * A Docker registry token server (the "Bearer realm=..." protocol) for a local CNCF Distribution.
 *
 * The registry trusts tokens signed by the key in `certPath` (config `auth.token.rootcertbundle`). It looks
 * the signing key up by the JWT header's `kid`, which must be the libtrust key ID of the certificate's
 * public key: SHA-256 of the DER SubjectPublicKeyInfo, first 30 bytes, base32 without padding, in 12
 * colon-separated groups of four.
 */

import { execFile } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSign,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface Creds {
  user: string;
  pass: string;
}

export interface TokenRequestRecord {
  /** Authenticated user, or null for anonymous. */
  user: string | null;
  service: string | null;
  scopes: string[];
  /** What the issued token grants (empty when refused). */
  granted: Array<{ type: string; name: string; actions: string[] }>;
  status: number;
}

export interface TokenServer {
  /** Base URL, http://127.0.0.1:PORT */
  readonly url: string;
  /** The realm registries should advertise: `${url}/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM certificate the registry must trust (rootcertbundle). */
  readonly certPath: string;
  /** Every /token request, oldest first. */
  readonly requests: readonly TokenRequestRecord[];
  /** Mints a token directly (no HTTP), e.g. to test expired or wrongly-scoped tokens. */
  mint(
    user: string,
    access: Array<{ type: string; name: string; actions: string[] }>,
    ttlSeconds?: number,
  ): string;
  stop(): Promise<void>;
}

export interface TokenServerOptions {
  /** Directory for the generated key and certificate. */
  dir: string;
  users: Creds[];
  service?: string;
  issuer?: string;
  /** Anonymous callers get pull-only tokens (otherwise they get 401). */
  anonymousPull?: boolean;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32NoPad(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust key ID of a public key (what Distribution expects in the JWT `kid`). */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const s = base32NoPad(createHash('sha256').update(der).digest().subarray(0, 30));
  return s.match(/.{1,4}/g)!.join(':');
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function parseBasicAuth(header: string | undefined): Creds | null {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

/** "repository:demo/app:pull,push" → {type, name, actions}. Names may contain ':' only in the type part. */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return null;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== ''),
  };
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const service = opts.service ?? 'local-registry';
  const issuer = opts.issuer ?? 'local-token-issuer';
  const keyPath = join(opts.dir, 'token.key');
  const certPath = join(opts.dir, 'token.crt');
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
    '30',
    '-subj',
    `/CN=${issuer}`,
  ]);
  const privateKey = createPrivateKey(await readFile(keyPath));
  const kid = libtrustKeyId(createPublicKey(privateKey));
  const requests: TokenRequestRecord[] = [];

  const mint: TokenServer['mint'] = (user, access, ttlSeconds = 300) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid };
    const claims = {
      iss: issuer,
      sub: user,
      aud: service,
      exp: now + ttlSeconds,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
    return `${signingInput}.${b64url(sig)}`;
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = u.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter((x) => x !== ''));
    const creds = parseBasicAuth(req.headers.authorization);
    const record: TokenRequestRecord = {
      user: creds?.user ?? null,
      service: u.searchParams.get('service'),
      scopes,
      granted: [],
      status: 200,
    };
    requests.push(record);
    const known = creds !== null && opts.users.some((x) => x.user === creds.user && x.pass === creds.pass);
    if ((creds !== null && !known) || (creds === null && !opts.anonymousPull)) {
      record.status = 401;
      res
        .writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Basic realm="${service}"`,
        })
        .end(JSON.stringify({ details: 'invalid credentials' }));
      return;
    }
    const granted = scopes
      .map(parseScope)
      .filter((s): s is NonNullable<typeof s> => s !== null)
      .map((s) => (known ? s : { ...s, actions: s.actions.filter((a) => a === 'pull') }))
      .filter((s) => s.actions.length > 0);
    record.granted = granted;
    const token = mint(creds?.user ?? '', granted);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: 300,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certPath,
    get requests() {
      return requests;
    },
    mint,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
