/**
 * A throwaway CNCF Distribution registry (`docker-registry serve`, 2.8.x) for tests: filesystem storage in
 * a temp dir, 127.0.0.1 on a free port, optional notifications, htpasswd basic auth or token auth.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
import { makeTempDir, type Spawned, spawnProcess, waitUntil } from './process.js';
import { type Creds, startTokenServer, type TokenServer } from './token-server.js';

export type { Creds } from './token-server.js';

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface RegistryOptions {
  /** Where the registry POSTs notification envelopes. No notifications when unset. */
  notifyUrl?: string;
  /** Static headers on every notification (Distribution has no HMAC; a bearer header is the usual secret). */
  notifyHeaders?: Record<string, string[]>;
  /** Also notify pull events (ignored by default, like a production config would). */
  notifyPulls?: boolean;
  /** Default 'none'. */
  auth?: RegistryAuth;
  /** Users for basic or token auth. Default [{ user: 'ci', pass: 's3cret' }] when auth is on. */
  users?: Creds[];
  /** Token auth only: anonymous callers get pull-only tokens. */
  anonymousPull?: boolean;
  /** storage.delete.enabled — needed for DELETE /v2/<n>/manifests/<digest>. */
  deleteEnabled?: boolean;
}

export interface Registry {
  /** "127.0.0.1:PORT" — the registry host as it appears in image references. */
  readonly host: string;
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  readonly port: number;
  /** PID of the current docker-registry process (changes after restart()). */
  readonly pid: number;
  readonly auth: RegistryAuth;
  /** Users accepted by basic/token auth (empty with auth 'none'). */
  readonly users: readonly Creds[];
  /** First user, used by the push helpers when no creds are given; undefined with auth 'none'. */
  readonly defaultCreds: Creds | undefined;
  /** Set with auth 'token'. */
  readonly tokenServer: TokenServer | undefined;
  /** Filesystem storage root. */
  readonly storageDir: string;
  readonly notifyUrl: string | undefined;
  /** Path of the generated config.yml. */
  readonly configPath: string;
  /** Registry log so far (stdout+stderr tail), for debugging failed assertions. */
  logs(): string;
  /** Points notifications at a new URL; restarts the registry on the same port (storage is kept). */
  setNotifyUrl(url: string | undefined, headers?: Record<string, string[]>): Promise<void>;
  /** Restarts on the same port and storage. Undelivered notifications are lost, as in production. */
  restart(): Promise<void>;
  /** Stops the registry (and token server) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

interface ConfigInput {
  port: number;
  storageDir: string;
  deleteEnabled: boolean;
  notifyUrl: string | undefined;
  notifyHeaders: Record<string, string[]> | undefined;
  notifyPulls: boolean;
  auth: Record<string, unknown> | undefined;
}

function registryConfig(c: ConfigInput): string {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: c.storageDir },
      delete: { enabled: c.deleteEnabled },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${c.port}`, secret: 'tidemark-test-secret' },
  };
  if (c.auth) config.auth = c.auth;
  if (c.notifyUrl) {
    config.notifications = {
      events: { includereferences: true },
      endpoints: [
        {
          name: 'test',
          url: c.notifyUrl,
          ...(c.notifyHeaders ? { headers: c.notifyHeaders } : {}),
          timeout: '2s',
          threshold: 1,
          backoff: '200ms',
          ignore: {
            mediatypes: ['application/octet-stream'],
            actions: c.notifyPulls ? [] : ['pull'],
          },
        },
      ],
    };
  }
  return stringify(config);
}

async function v2Ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

async function spawnRegistry(configPath: string, port: number): Promise<Spawned> {
  const proc = spawnProcess('docker-registry', ['serve', configPath], { name: `docker-registry:${port}` });
  try {
    await waitUntil(proc, () => v2Ready(`http://127.0.0.1:${port}`), `GET /v2/ on port ${port}`, 15_000);
  } catch (e) {
    await proc.stop(500);
    throw e;
  }
  return proc;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const tmp = await makeTempDir('tidemark-registry-');
  const auth: RegistryAuth = opts.auth ?? 'none';
  const users = auth === 'none' ? [] : (opts.users ?? [{ user: 'ci', pass: 's3cret' }]);
  const storageDir = join(tmp.path, 'storage');
  const configPath = join(tmp.path, 'config.yml');
  let tokenServer: TokenServer | undefined;
  let proc: Spawned | undefined;
  try {
    let authConfig: Record<string, unknown> | undefined;
    if (auth === 'basic') {
      const htpasswdPath = join(tmp.path, 'htpasswd');
      // Cost 4 keeps each request's bcrypt check cheap; Distribution accepts $2a$/$2b$/$2y$.
      const lines = users.map((u) => `${u.user}:${bcrypt.hashSync(u.pass, 4)}`);
      await writeFile(htpasswdPath, `${lines.join('\n')}\n`);
      authConfig = { htpasswd: { realm: 'local-registry', path: htpasswdPath } };
    } else if (auth === 'token') {
      tokenServer = await startTokenServer({
        dir: tmp.path,
        users,
        ...(opts.anonymousPull !== undefined ? { anonymousPull: opts.anonymousPull } : {}),
      });
      authConfig = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.certPath,
        },
      };
    }
    let notifyUrl = opts.notifyUrl;
    let notifyHeaders = opts.notifyHeaders;
    let port = 0;
    const writeConfig = (): Promise<void> =>
      writeFile(
        configPath,
        registryConfig({
          port,
          storageDir,
          deleteEnabled: opts.deleteEnabled ?? false,
          notifyUrl,
          notifyHeaders,
          notifyPulls: opts.notifyPulls ?? false,
          auth: authConfig,
        }),
      );
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3 && proc === undefined; attempt++) {
      port = await freePort();
      await writeConfig();
      try {
        proc = await spawnRegistry(configPath, port);
      } catch (e) {
        lastErr = e;
      }
    }
    if (proc === undefined) throw lastErr;

    let current: Spawned = proc;
    let stopped: Promise<void> | undefined;
    const url = `http://127.0.0.1:${port}`;
    const restart = async (): Promise<void> => {
      if (stopped) throw new Error('startRegistry: restart() after stop()');
      await current.stop();
      await writeConfig();
      current = await spawnRegistry(configPath, port);
    };
    return {
      host: `127.0.0.1:${port}`,
      url,
      port,
      get pid() {
        return current.pid;
      },
      auth,
      users,
      defaultCreds: users[0],
      tokenServer,
      storageDir,
      get notifyUrl() {
        return notifyUrl;
      },
      configPath,
      logs: () => current.output(),
      async setNotifyUrl(newUrl, headers) {
        notifyUrl = newUrl;
        if (headers !== undefined) notifyHeaders = headers;
        await restart();
      },
      restart,
      stop() {
        stopped ??= (async () => {
          await current.stop();
          await tokenServer?.stop();
          await tmp.remove();
        })();
        return stopped;
      },
    };
  } catch (e) {
    await tokenServer?.stop();
    await tmp.remove();
    throw e;
  }
}
