/**
 * Setup mode: before the GitHub App is registered, tidemark serves the registration page (GitHub's manifest
 * flow) instead of probot's, so the manifest carries this tidemark's webhook URL and path, and answers
 * `/healthz` like the App does. After GitHub redirects back with a code, the code is exchanged for the App's
 * credentials, which are written to `.env`; the caller then starts the App.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { appManifest, createAppUrl, escapeHtml, setupPage } from '../core/setup/app-manifest.js';
import type { Logger } from '../observability/logger.js';
import { type Handler, listen } from './http.js';

export interface SetupOptions {
  readonly host: string;
  readonly port: number;
  readonly webhookPath: string;
  /** The process environment: PUBLIC_URL, WEBHOOK_PROXY_URL, GHE_HOST, GHE_PROTOCOL, GH_ORG. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** REST API base for the code exchange (GITHUB_API_URL, GHE's `/api/v3`, or api.github.com). */
  readonly githubApiUrl?: string;
  /** The directory whose `.env` receives the credentials. */
  readonly cwd: string;
  readonly appYmlPath: string;
  readonly version: string;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called once the credentials are in `.env`. */
  readonly onRegistered: (credentials: Record<string, string>) => void;
}

export interface SetupServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The origin the browser used (behind a proxy: `X-Forwarded-Proto` / `X-Forwarded-Host`). */
function originOf(req: IncomingMessage): string {
  const proto =
    String(req.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      ?.trim() || 'http';
  const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost')
    .split(',')[0]!
    .trim();
  return `${proto}://${host}`;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** `.env` with `values` set (replacing earlier lines for the same names), other lines kept. */
export function updateDotEnv(text: string, values: Readonly<Record<string, string>>): string {
  const names = new Set(Object.keys(values));
  const kept = text
    .split('\n')
    .filter((line) => {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
      return !(m && names.has(m[1]!));
    })
    .join('\n')
    .replace(/\n+$/, '');
  // Double quotes, newlines as \n: what Node's parseEnv (and dotenv) read back exactly. Neither reads an
  // escaped quote or backslash back, so such a value is refused rather than written wrong.
  const quoted = Object.entries(values).map(([k, v]) => {
    if (/["\\]/.test(v))
      throw new Error(`${k}: a value with a quote or a backslash cannot be written to .env`);
    return `${k}="${v.replace(/\r?\n/g, '\\n')}"`;
  });
  const out = `${kept ? `${kept}\n` : ''}${quoted.join('\n')}\n`;
  const back = parseEnv(out);
  for (const [k, v] of Object.entries(values))
    if (back[k] !== v.replace(/\r\n/g, '\n')) throw new Error(`${k}: .env would not read back as written`);
  return out;
}

interface Conversion {
  readonly id: number;
  readonly html_url: string;
  readonly pem: string;
  readonly webhook_secret: string | null;
  readonly client_id: string;
  readonly client_secret: string;
}

/**
 * `POST /app-manifests/{code}/conversions`: the one call of the manifest flow, unauthenticated (the code is the
 * credential), so no octokit app client is needed.
 */
async function exchangeCode(apiUrl: string, code: string): Promise<Conversion> {
  const res = await fetch(
    `${apiUrl.replace(/\/+$/, '')}/app-manifests/${encodeURIComponent(code)}/conversions`,
    {
      method: 'POST',
      headers: {
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'tidemark-setup',
      },
    },
  );
  if (res.status !== 201) {
    const text = (await res.text()).slice(0, 200);
    throw new Error(
      `GitHub answered ${res.status} to the code exchange (${text}); a code is good once and for one hour`,
    );
  }
  return (await res.json()) as Conversion;
}

export async function startSetupServer(opts: SetupOptions): Promise<SetupServer> {
  const appYml = parseYaml(await readFile(opts.appYmlPath, 'utf8')) as Record<string, unknown>;
  const env = opts.env;
  let registered = false;
  const handler: Handler = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://setup.invalid');
    try {
      if (url.pathname === '/healthz')
        return send(res, 200, 'application/json', JSON.stringify({ ok: true, setup: true }));
      if (url.pathname === '/readyz')
        return send(
          res,
          503,
          'application/json',
          JSON.stringify({ ok: false, checks: { credentials: false } }),
        );
      if (req.method !== 'GET') return send(res, 405, 'text/plain', 'setup mode: only GET\n');
      if (url.pathname === '/')
        return send(res, 302, 'text/plain', 'Found. Redirecting to /probot\n', { location: '/probot' });
      if (url.pathname === '/probot') {
        const manifest = appManifest(appYml, {
          origin: originOf(req),
          webhookPath: opts.webhookPath,
          ...(env.PUBLIC_URL && { publicUrl: env.PUBLIC_URL }),
          ...(env.WEBHOOK_PROXY_URL && { webhookProxyUrl: env.WEBHOOK_PROXY_URL }),
        });
        const action = createAppUrl({
          ...(env.GHE_HOST && { gheHost: env.GHE_HOST }),
          ...(env.GHE_PROTOCOL && { gheProtocol: env.GHE_PROTOCOL }),
          ...(env.GH_ORG && { org: env.GH_ORG }),
        });
        return send(
          res,
          200,
          'text/html; charset=utf-8',
          setupPage({ manifest, createAppUrl: action, version: opts.version }),
        );
      }
      if (url.pathname === '/probot/setup') {
        const code = url.searchParams.get('code');
        if (!code || !/^[A-Za-z0-9_-]{1,200}$/.test(code))
          return send(
            res,
            400,
            'text/plain',
            'the "code" GitHub sends back is missing or malformed; start again at /probot\n',
          );
        if (registered)
          return send(res, 409, 'text/plain', 'already registered; restart tidemark if it did not start\n');
        const data = await exchangeCode(opts.githubApiUrl ?? 'https://api.github.com', code);
        const credentials: Record<string, string> = {
          APP_ID: String(data.id),
          PRIVATE_KEY: data.pem,
          WEBHOOK_SECRET: data.webhook_secret ?? '',
          GITHUB_CLIENT_ID: data.client_id,
          GITHUB_CLIENT_SECRET: data.client_secret,
        };
        const path = join(opts.cwd, '.env');
        const before = await readFile(path, 'utf8').catch(() => '');
        const after = updateDotEnv(before, credentials);
        await writeFile(path, after, { mode: 0o600 });
        registered = true;
        opts.log.info({ appId: data.id, file: path }, 'GitHub App registered; credentials written to .env');
        send(
          res,
          302,
          'text/html; charset=utf-8',
          `<p>Registered. <a href="${escapeHtml(data.html_url)}/installations/new">Install it on your repositories</a>.</p>\n`,
          {
            location: `${data.html_url}/installations/new`,
          },
        );
        opts.onRegistered(credentials);
        return;
      }
      send(
        res,
        404,
        'text/plain',
        `setup mode: no route for ${url.pathname}; open /probot to register the GitHub App\n`,
      );
    } catch (err) {
      opts.log.error({ err }, 'setup request failed');
      if (!res.headersSent)
        send(
          res,
          502,
          'text/plain',
          `registration failed: ${(err as Error).message}; start again at /probot\n`,
        );
      else res.end();
    }
  };
  const { server, url, port } = await listen(handler, opts.host, opts.port);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
