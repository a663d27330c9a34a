/**
 * `tidemark serve` and friends as real processes: after the setup page has written `.env`, `npm start`
 * (`tidemark serve` in that folder) starts the App itself — not the setup page, not an app with no routes.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';
import { makeTempDir, spawnProcess, type TempDir, waitForLog } from '../support/process.js';

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
