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
import { freePort } from '../support/ports.js';
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

  /**
   * `tidemark serve` as a newcomer starts it: an empty folder (no .env), no credentials, no HOST (the default,
   * 0.0.0.0), PORT a free port.
   */
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
      'HOST',
    ])
      delete env[k];
    const port = await freePort();
    const p = spawnProcess(process.execPath, ['--import', TSX, CLI, 'serve'], {
      cwd: dir.path,
      env: {
        ...env,
        PORT: String(port),
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
    await waitForLog(p, `No GitHub App credentials yet: open http://localhost:${port}/probot`, 60_000);
    return { p, dir, port, url: `http://127.0.0.1:${port}` };
  }

  /** Opens `page` (default: the setup page) in Chromium and reads the form GitHub would receive. */
  async function manifestAt(url: string, page = '/probot') {
    const tab = await browser.newPage();
    try {
      const res = await tab.goto(`${url}${page}`, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      expect(new URL(tab.url()).pathname).toBe('/probot');
      tab.setDefaultTimeout(15_000);
      const form = tab.locator('form:has(input[name="manifest"])');
      const field = form.locator('input[name="manifest"]');
      await field.waitFor({ state: 'attached' });
      expect(await field.getAttribute('type')).toBe('hidden');
      const manifest = JSON.parse((await field.getAttribute('value'))!) as Record<string, unknown>;
      const action = await form.getAttribute('action');
      const method = await form.getAttribute('method');
      const shown = await tab.locator('#webhook-url').textContent();
      return { manifest, action, method, shown };
    } finally {
      await tab.close();
    }
  }

  /** The fields app.yml decides: exactly as written (no permission or event added, none dropped). */
  function expectAppYml(manifest: Record<string, unknown>) {
    expect(manifest.name).toBe(appYml.name);
    expect(manifest.description).toBe(appYml.description);
    expect(manifest.default_permissions).toEqual(appYml.default_permissions);
    expect(manifest.default_events).toEqual(appYml.default_events);
    expect(manifest.public).toBe(false);
    expect(JSON.stringify(manifest)).not.toContain('example.com');
  }

  it('the manifest is app.yml with this tidemark’s webhook URL and redirect; registering starts the App', async () => {
    const { p, dir, port, url } = await serve();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // `/` sends the browser to the setup page.
    expect((await manifestAt(url, '/')).manifest).toBeDefined();
    const { manifest, action, method, shown } = await manifestAt(url);
    expectAppYml(manifest);
    // No PUBLIC_URL / WEBHOOK_PROXY_URL: the origin the page was opened at.
    expect(manifest.hook_attributes).toEqual({ url: `${url}/api/github/webhooks` });
    expect(manifest.redirect_url).toBe(`${url}/probot/setup`);
    expect(action).toBe('https://github.com/settings/apps/new');
    expect(method?.toLowerCase()).toBe('post');
    expect(shown).toBe(`${url}/api/github/webhooks`);

    // GitHub redirects back with a code: exchanged for the credentials, written to .env, the App starts.
    const back = await fetch(`${url}/probot/setup?code=${gh.manifestCode()}`, { redirect: 'manual' });
    expect(back.status, await back.clone().text()).toBe(302);
    expect(back.headers.get('location')).toBe(
      `${gh.appEnv().GITHUB_API_URL}/apps/tidemark/installations/new`,
    );
    // The App comes up where the setup page was, so the webhook URL just registered reaches it.
    await waitForLog(p, `tidemark serving on http://127.0.0.1:${port}`, 60_000);
    const app = url;
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
    gh.setWebhookUrl((manifest.hook_attributes as { url: string }).url);
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

  it('the webhook URL follows the address the page is opened at (localhost here)', async () => {
    const { port } = await serve();
    const { manifest, shown } = await manifestAt(`http://localhost:${port}`);
    expectAppYml(manifest);
    expect(manifest.hook_attributes).toEqual({ url: `http://localhost:${port}/api/github/webhooks` });
    expect(manifest.redirect_url).toBe(`http://localhost:${port}/probot/setup`);
    expect(shown).toBe(`http://localhost:${port}/api/github/webhooks`);
  });

  it('on a laptop, WEBHOOK_PROXY_URL (a smee.io channel) is the webhook URL, as is', async () => {
    const smee = 'https://smee.io/tidemark-test-channel';
    const { url } = await serve({ WEBHOOK_PROXY_URL: smee });
    const { manifest, shown } = await manifestAt(url);
    expectAppYml(manifest);
    expect(manifest.hook_attributes).toEqual({ url: smee });
    // GitHub sends the browser back to the page it came from.
    expect(manifest.redirect_url).toBe(`${url}/probot/setup`);
    expect(shown).toBe(smee);
  });

  it('behind an ingress, PUBLIC_URL names the webhook URL; a code GitHub did not issue is refused', async () => {
    const { url } = await serve({
      PUBLIC_URL: 'https://tidemark.example.org/',
      WEBHOOK_PROXY_URL: 'https://smee.io/ignored-when-public-url-is-set',
    });
    const { manifest, shown } = await manifestAt(url);
    expectAppYml(manifest);
    expect(manifest.hook_attributes).toEqual({ url: 'https://tidemark.example.org/api/github/webhooks' });
    expect(manifest.redirect_url).toBe('https://tidemark.example.org/probot/setup');
    expect(shown).toBe('https://tidemark.example.org/api/github/webhooks');
    const bad = await fetch(`${url}/probot/setup?code=not-issued`, { redirect: 'manual' });
    expect(bad.status).toBe(502);
    expect(await bad.text()).toMatch(/registration failed: .*start again at \/probot/);
    expect((await fetch(`${url}/probot/setup?code=%3Cscript%3E`, { redirect: 'manual' })).status).toBe(400);
  });
});
