/**
 * `tidemark serve` and friends as real processes: after the setup page has written `.env`, `npm start`
 * (`tidemark serve` in that folder) starts the App itself — not the setup page, not an app with no routes.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';
import { freePort } from '../support/ports.js';
import {
  makeTempDir,
  portAccepts,
  type Spawned,
  spawnProcess,
  type TempDir,
  waitForLog,
} from '../support/process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli.ts');
/** tsx by absolute URL: the process runs in another folder, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

describe('tidemark serve with a .env written by the setup page', () => {
  let gh: GitHubDouble;
  let dir: TempDir;
  beforeAll(async () => {
    gh = await startGitHubDouble();
    dir = await makeTempDir('tidemark-dotenv-');
  });
  afterAll(async () => {
    await gh?.stop();
    await dir?.remove();
  });

  it('starts the App from .env: /healthz answers and a signed GitHub webhook is accepted', async () => {
    // The format probot's setup writes: the key quoted, on several lines.
    await writeFile(
      join(dir.path, '.env'),
      [
        ...Object.entries(gh.appEnv()).map(([k, v]) => `${k}="${v}"`),
        'PORT=0',
        'HOST=127.0.0.1',
        `TIDEMARK_WORKDIR=${join(dir.path, 'work')}`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env };
    for (const k of ['APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET', 'PORT', 'HOST'])
      delete env[k];
    const p = spawnProcess(process.execPath, ['--import', TSX, CLI, 'serve'], {
      cwd: dir.path,
      env,
      name: 'tidemark-serve',
    });
    try {
      await waitForLog(p, /tidemark serving on http:\/\/127\.0\.0\.1:\d+/, 60_000);
      const url = /tidemark serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(p.output())![1]!;
      expect(p.output()).not.toContain('No GitHub App credentials yet');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      gh.setWebhookUrl(`${url}/api/github/webhooks`);
      // A signed delivery is verified and handled (probot answers 200); an unsigned one is refused.
      await gh.sendWebhook('installation_repositories', {
        action: 'added',
        installation: { id: 1 },
        repository_selection: 'selected',
        repositories_added: [],
        repositories_removed: [],
        sender: { login: 'octocat', type: 'User' },
      });
      const unsigned = await fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'x' },
        body: '{}',
      });
      expect(unsigned.status).toBeGreaterThanOrEqual(400);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        /tidemark_webhooks_total\{source="github",provider="installation_repositories"/,
      );
    } finally {
      await p.stop();
    }
  });
});

describe('tidemark serve without credentials (setup mode), started as the README says', () => {
  const dirs: TempDir[] = [];
  const procs: Spawned[] = [];
  afterAll(async () => {
    for (const p of procs) await p.stop();
    for (const d of dirs) await d.remove();
  });

  /** `tidemark serve` in an empty folder (no .env), no credentials, no HOST: only PORT, a free one. */
  async function setupMode() {
    const dir = await makeTempDir('tidemark-setup-mode-');
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'HOST', 'NODE_ENV', 'PUBLIC_URL'])
      delete env[k];
    const port = await freePort();
    const p = spawnProcess(process.execPath, ['--import', TSX, CLI, 'serve'], {
      cwd: dir.path,
      env: { ...env, PORT: String(port), TIDEMARK_WORKDIR: join(dir.path, 'work') },
      name: 'tidemark-serve-setup',
    });
    procs.push(p);
    await waitForLog(p, `No GitHub App credentials yet: open http://localhost:${port}/probot`, 60_000);
    return { p, port };
  }

  /** Resolves once something else could listen on every interface at `port`. */
  function canListen(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
    });
  }

  it('listens on 0.0.0.0 (the README default), answers /healthz 200 and /readyz 503', async () => {
    const { port } = await setupMode();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    // Reachable on addresses other than 127.0.0.1: this host's other IPv4 addresses and, on Linux, the rest of
    // 127.0.0.0/8 (a server bound to 127.0.0.1 refuses 127.0.0.2).
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    if (process.platform === 'linux') others.push('127.0.0.2');
    expect(others.length).toBeGreaterThan(0);
    for (const host of others) {
      expect(await portAccepts(port, host), `${host}:${port} accepts`).toBe(true);
      expect((await fetch(`http://${host}:${port}/healthz`)).status).toBe(200);
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops it: exit 0, and the port is free', async (signal) => {
    const { p, port } = await setupMode();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    p.child.kill(signal);
    expect(await p.exited).toBe(0);
    expect(await portAccepts(port)).toBe(false);
    expect(await canListen(port)).toBe(true);
  });
});

describe('tidemark serve refuses a bad start-up configuration', () => {
  it('a missing endpoints file: one line naming the variable and the file, exit 1, no stack trace', async () => {
    const gh = await startGitHubDouble();
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          ...gh.appEnv(),
          HOST: '127.0.0.1',
          PORT: '0',
          TIDEMARK_REGISTRY_ENDPOINTS: '/nonexistent/endpoints.yaml',
        },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        'tidemark: TIDEMARK_REGISTRY_ENDPOINTS: cannot read /nonexistent/endpoints.yaml (ENOENT)',
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await gh.stop();
    }
  });

  it('bad variables: every problem listed, exit 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TIDEMARK_RECONCILE_INTERVAL: '600', LOG_LEVEL: 'verbose' } as Record<
        string,
        string
      >,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('TIDEMARK_RECONCILE_INTERVAL: expected a duration with a unit');
    expect(r.stderr).toContain('LOG_LEVEL: expected one of');
  });
});

describe('CLI basics', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, encoding: 'utf8' });

  it('--version prints the package version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^tidemark \d+\.\d+\.\d+\n$/);
  });

  it('worker --help is its own', () => {
    const r = cli('worker', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tidemark worker/);
  });
});
