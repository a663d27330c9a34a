import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appManifest, createAppUrl, escapeHtml, setupPage } from '../../../src/core/setup/app-manifest.js';
import { updateDotEnv } from '../../../src/intake/setup-server.js';

const yml = {
  name: 'tidemark',
  description: 'Keeps repos on the newest images — it\'s <fast> & "exact"',
  hook_attributes: { url: 'https://example.com/api/github/webhooks', active: true },
  default_events: ['push'],
  default_permissions: { contents: 'write' },
};

describe('the GitHub App manifest', () => {
  it.each([
    [{}, 'http://localhost:3000/api/github/webhooks', 'http://localhost:3000/probot/setup'],
    [
      { publicUrl: 'https://t.example.org/' },
      'https://t.example.org/api/github/webhooks',
      'https://t.example.org/probot/setup',
    ],
    [{ webhookProxyUrl: 'https://smee.io/abc' }, 'https://smee.io/abc', 'http://localhost:3000/probot/setup'],
    [
      { publicUrl: 'https://t.example.org', webhookProxyUrl: 'https://smee.io/abc' },
      'https://t.example.org/api/github/webhooks',
      'https://t.example.org/probot/setup',
    ],
  ])('%o → webhook %s', (urls, hook, redirect) => {
    const m = appManifest(yml, {
      origin: 'http://localhost:3000',
      webhookPath: '/api/github/webhooks',
      ...urls,
    });
    expect(m.hook_attributes).toEqual({ url: hook, active: true });
    expect(m.redirect_url).toBe(redirect);
    expect(m.default_permissions).toEqual(yml.default_permissions);
    expect(m.public).toBe(false);
  });

  it('the page carries the manifest intact through HTML escaping (quotes, apostrophes, <, &)', () => {
    const manifest = appManifest(yml, { origin: 'http://h:1', webhookPath: '/hooks' });
    const html = setupPage({ manifest, createAppUrl: createAppUrl({}), version: '1.0.0' });
    const value = /name="manifest" id="manifest" value='([^']*)'/.exec(html)![1]!;
    const unescaped = value
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    expect(JSON.parse(unescaped)).toEqual(manifest);
    expect(escapeHtml(`<a href='x'>&"`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
  });

  it('posts to github.com, an organization, or a GHES host', () => {
    expect(createAppUrl({})).toBe('https://github.com/settings/apps/new');
    expect(createAppUrl({ org: 'acme' })).toBe('https://github.com/organizations/acme/settings/apps/new');
    expect(createAppUrl({ gheHost: 'ghe.local', gheProtocol: 'http' })).toBe(
      'http://ghe.local/settings/apps/new',
    );
  });
});

describe('.env after registration', () => {
  it('sets the credentials (a multi-line key included) and keeps the other lines', () => {
    const key = '-----BEGIN RSA PRIVATE KEY-----\nAAA\nBBB\n-----END RSA PRIVATE KEY-----\n';
    const out = updateDotEnv('PORT=4000\nAPP_ID=1\n# mine\n', {
      APP_ID: '42',
      PRIVATE_KEY: key,
      WEBHOOK_SECRET: 'abc123',
    });
    const env = parseEnv(out);
    expect(env.PORT).toBe('4000');
    expect(env.APP_ID).toBe('42');
    expect(env.WEBHOOK_SECRET).toBe('abc123');
    expect(env.PRIVATE_KEY).toBe(key);
    expect(out.match(/^APP_ID=/gm)).toHaveLength(1);
    expect(out).toContain('# mine');
  });

  it('refuses a value it could not write so that it reads back the same', () => {
    expect(() => updateDotEnv('', { WEBHOOK_SECRET: 'a"b' })).toThrow(/WEBHOOK_SECRET: a value with a quote/);
    expect(() => updateDotEnv('', { WEBHOOK_SECRET: 'a\\b' })).toThrow(/WEBHOOK_SECRET/);
  });
});
