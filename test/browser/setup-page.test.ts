/**
 * The first hour, in a real browser: `tidemark serve` with no credentials serves the registration page;
 * headless Chromium (Debian's `chromium`, driven by playwright-core) reads the manifest GitHub would receive
 * and checks it against app.yml; GitHub's redirect back (the GitHub double exchanges the code) writes `.env`
 * and the same process starts the App, which serves /healthz, a registry endpoint and signed webhooks.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';
import { makeTempDir, type Spawned, spawnProcess, type TempDir, waitForLog } from '../support/process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const NOTIFY = 'setup-test-notify-secret-123';

interface AppYml {
  name: string;
  description: string;
  default_permissions: Record<string, string>;
  default_events: string[];
}

describe('the setup page in a real browser', () => {
  let browser: Browser;
  let gh: GitHubDouble;
  let appYml: AppYml;
  const dirs: TempDir[] = [];
  const procs: Spawned[] = [];

  beforeAll(async () => {
    if (!CHROMIUM)
      throw new Error('chromium is not installed: `npm test` installs it (apt-get install chromium)');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    gh = await startGitHubDouble();
    appYml = parseYaml(await readFile(join(ROOT, 'app.yml'), 'utf8')) as AppYml;
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    await browser?.close();
    await gh?.stop();
    for (const d of dirs) await d.remove();
  });

  /** `tidemark serve` in an empty folder (no .env), no credentials in the environment. */
  async function serve(extra: Record<string, string> = {}) {
    const dir = await makeTempDir('tidemark-setup-');
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of [
      'APP_ID',
      'PRIVATE_KEY',
      'PRIVATE_KEY_PATH',
      'WEBHOOK_SECRET',
      'PUBLIC_URL',
      'WEBHOOK_PROXY_URL',
      'NODE_ENV',
    ])
      delete env[k];
    const p = spawnProcess(process.execPath, ['--import', TSX, CLI, 'serve'], {
      cwd: dir.path,
      env: {
        ...env,
        HOST: '127.0.0.1',
        PORT: '0',
        GITHUB_API_URL: gh.appEnv().GITHUB_API_URL,
        TIDEMARK_WORKDIR: join(dir.path, 'work'),
        NOTIFY_SECRET: NOTIFY,
        TIDEMARK_REGISTRY_ENDPOINTS_JSON: JSON.stringify({
          endpoints: [
            { id: 'local', provider: 'distribution', secretsEnv: ['NOTIFY_SECRET'], allowedImages: ['*'] },
          ],
        }),
        ...extra,
      },
      name: 'tidemark-serve-setup',
    });
    procs.push(p);
    await waitForLog(p, /No GitHub App credentials yet: open http:\/\/localhost:\d+\/probot/, 60_000);
    const port = /open http:\/\/localhost:(\d+)\/probot/.exec(p.output())![1]!;
    return { p, dir, url: `http://127.0.0.1:${port}` };
  }

  async function manifestAt(url: string) {
    const page = await browser.newPage();
    try {
      const res = await page.goto(`${url}/`);
      expect(res?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe('/probot');
      const field = page.locator('form input[name="manifest"]');
      const manifest = JSON.parse((await field.getAttribute('value'))!) as Record<string, unknown>;
      const action = await page.locator('form').getAttribute('action');
      const shown = await page.locator('#webhook-url').textContent();
      return { manifest, action, shown };
    } finally {
      await page.close();
    }
  }

  it('the manifest is app.yml with this tidemark’s webhook URL and redirect; registering starts the App', async () => {
    const { p, dir, url } = await serve();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const { manifest, action, shown } = await manifestAt(url);
    expect(manifest).toMatchObject({
      name: appYml.name,
      description: appYml.description,
      default_permissions: appYml.default_permissions,
      default_events: appYml.default_events,
      public: false,
      hook_attributes: { url: `${url}/api/github/webhooks` },
      redirect_url: `${url}/probot/setup`,
    });
    expect(JSON.stringify(manifest)).not.toContain('example.com');
    expect(action).toBe('https://github.com/settings/apps/new');
    expect(shown).toBe(`${url}/api/github/webhooks`);

    // GitHub redirects back with a code: exchanged for the credentials, written to .env, the App starts.
    const back = await fetch(`${url}/probot/setup?code=${gh.manifestCode()}`, { redirect: 'manual' });
    expect(back.status, await back.clone().text()).toBe(302);
    expect(back.headers.get('location')).toBe(
      `${gh.appEnv().GITHUB_API_URL}/apps/tidemark/installations/new`,
    );
    await waitForLog(p, /tidemark serving on http:\/\/127\.0\.0\.1:\d+/, 60_000);
    const app = /tidemark serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(p.output())![1]!;
    const dotenv = await readFile(join(dir.path, '.env'), 'utf8');
    expect(dotenv).toContain(`APP_ID="${gh.appEnv().APP_ID}"`);
    expect(dotenv).toContain('WEBHOOK_SECRET=');
    expect((await stat(join(dir.path, '.env'))).mode & 0o777).toBe(0o600);

    expect((await fetch(`${app}/healthz`)).status).toBe(200);
    const registry = await fetch(`${app}/registry/distribution/local`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${NOTIFY}`,
        'content-type': 'application/vnd.docker.distribution.events.v1+json',
      },
      body: JSON.stringify({ events: [] }),
    });
    expect(registry.status).toBeLessThan(300);
    gh.setWebhookUrl(`${app}/api/github/webhooks`);
    await gh.sendWebhook('installation_repositories', {
      action: 'added',
      installation: { id: 1 },
      repository_selection: 'selected',
      repositories_added: [],
      repositories_removed: [],
      sender: { login: 'octocat', type: 'User' },
    });
    const metrics = await (await fetch(`${app}/metrics`)).text();
    expect(metrics).toMatch(/tidemark_webhooks_total\{source="github",provider="installation_repositories"/);

    // SIGTERM stops it: the process exits 0 and nothing keeps the port.
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    await expect(fetch(`${app}/healthz`)).rejects.toThrow();
  });

  it('behind an ingress, PUBLIC_URL names the webhook URL; a code GitHub did not issue is refused', async () => {
    const { url } = await serve({ PUBLIC_URL: 'https://tidemark.example.org/' });
    const { manifest } = await manifestAt(url);
    expect(manifest.hook_attributes).toEqual({ url: 'https://tidemark.example.org/api/github/webhooks' });
    expect(manifest.redirect_url).toBe('https://tidemark.example.org/probot/setup');
    const bad = await fetch(`${url}/probot/setup?code=not-issued`, { redirect: 'manual' });
    expect(bad.status).toBe(502);
    expect(await bad.text()).toMatch(/registration failed: .*start again at \/probot/);
    expect((await fetch(`${url}/probot/setup?code=%3Cscript%3E`, { redirect: 'manual' })).status).toBe(400);
  });
});
