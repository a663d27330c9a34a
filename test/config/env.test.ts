import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDuration, readEnv, readRegistryEnv } from '../../src/config/env.js';

const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  type: 'pkcs1',
  format: 'pem',
}) as string;
const read = (env: Record<string, string>) => readEnv(env, { workDir: '/tmp/w' });

describe('process environment', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
  ])('duration %s → %i ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it('TIDEMARK_GITHUB_THROTTLE: on by default, "false" turns it off, anything else is refused', () => {
    const on = read({});
    expect(on.ok && on.env.githubThrottle).toBe(true);
    const off = read({ TIDEMARK_GITHUB_THROTTLE: 'false' });
    expect(off.ok && off.env.githubThrottle).toBe(false);
    const bad = read({ TIDEMARK_GITHUB_THROTTLE: 'off' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems).toEqual(['TIDEMARK_GITHUB_THROTTLE: expected true or false, got "off"']);
  });

  it('TIDEMARK_REGISTRY_INSECURE_HOSTS: hosts with an optional port; anything else is named', () => {
    expect(read({ TIDEMARK_REGISTRY_INSECURE_HOSTS: 'registry.lan:5000, 10.0.0.7' }).ok).toBe(true);
    const bad = read({ TIDEMARK_REGISTRY_INSECURE_HOSTS: 'registry.lan, http://x.lan' });
    expect(!bad.ok && bad.problems).toEqual([
      'TIDEMARK_REGISTRY_INSECURE_HOSTS: expected host or host:port, comma-separated (e.g. registry.lan:5000), got "http://x.lan"',
    ]);
  });

  it('a duration without a unit is refused, with what to write instead', () => {
    const r = read({ TIDEMARK_RECONCILE_INTERVAL: '600' });
    expect(r).toEqual({
      ok: false,
      problems: [
        'TIDEMARK_RECONCILE_INTERVAL: expected a duration with a unit like 500ms, 5s, 10m or 1h, got "600" (write 600s for seconds or 600ms for milliseconds)',
      ],
    });
  });

  it('an unknown log level and a private key that is not a key are refused, all problems at once', () => {
    const r = read({ LOG_LEVEL: 'verbose', APP_ID: '1', PRIVATE_KEY: 'notakey', WEBHOOK_SECRET: 's' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toBe(
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    );
    expect(r.problems[1]).toMatch(/^PRIVATE_KEY: not a PEM private key; .*PRIVATE_KEY_PATH/);
    expect(r.problems.join('\n')).not.toContain('notakey');
  });

  it('a real key, with newlines or with \\n escapes, is accepted', () => {
    for (const key of [pem, pem.replace(/\n/g, '\\n')]) {
      const r = read({ APP_ID: '1', PRIVATE_KEY: key, WEBHOOK_SECRET: 's', LOG_LEVEL: 'debug' });
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.env.privateKey).toBe(pem);
    }
  });
});

describe('the environment, read through its schema', () => {
  it('with nothing set: the defaults the schema gives', () => {
    const r = read({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.env).toMatchObject({
      role: 'all',
      host: '0.0.0.0',
      port: 3000,
      webhookPath: '/api/github/webhooks',
      workDir: '/tmp/w',
      settleMs: 5_000,
      reconcileIntervalMs: 600_000,
      concurrency: 4,
      publisher: 'api',
      registryTimeoutMs: 20_000,
      jobTimeoutMs: 600_000,
      logLevel: 'info',
      shutdownDeadlineMs: 25_000,
      gitAuthor: { name: 'tidemark[bot]', email: 'tidemark[bot]@users.noreply.github.com' },
      githubThrottle: true,
      githubMaxBodyBytes: 26_214_400,
      production: false,
    });
  });

  it('every problem at once, one line each: the variable, what is wrong, what to write', () => {
    const r = read({
      TIDEMARK_ROLE: 'web',
      PORT: 'http',
      TIDEMARK_CONCURRENCY: '0',
      TIDEMARK_PUBLISHER: 'push',
      TIDEMARK_GITHUB_MAX_BODY_BYTES: '512',
      GHE_PROTOCOL: 'ftp',
      TIDEMARK_SETTLE: '2',
    });
    expect(!r.ok && r.problems).toEqual([
      'GHE_PROTOCOL: expected https or http, got "ftp"',
      'PORT: expected a whole number ≥ 0, got "http"',
      'TIDEMARK_ROLE: expected all, serve or worker, got "web"',
      'TIDEMARK_SETTLE: expected a duration with a unit like 500ms, 5s, 10m or 1h, got "2" (write 2s for seconds or 2ms for milliseconds)',
      'TIDEMARK_CONCURRENCY: expected a whole number ≥ 1, got "0"',
      'TIDEMARK_PUBLISHER: expected api or git, got "push"',
      'TIDEMARK_GITHUB_MAX_BODY_BYTES: expected a whole number of bytes ≥ 1024 (default 26214400, GitHub\'s 25 MB cap), got "512"',
    ]);
  });

  it('the schema’s problems and the checks it cannot make are listed together', () => {
    const r = read({ TIDEMARK_ROLE: 'worker', LOG_LEVEL: 'loud', TIDEMARK_SETTLE: '1s' });
    expect(!r.ok && r.problems).toEqual([
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'TIDEMARK_ROLE=worker needs REDIS_URL: web and worker processes share jobs through Redis',
    ]);
  });

  it('an empty variable is read as unset', () => {
    const r = read({ TIDEMARK_ROLE: '', PORT: '', LOG_LEVEL: '', TIDEMARK_GITHUB_THROTTLE: '' });
    expect(r.ok && [r.env.role, r.env.port, r.env.logLevel, r.env.githubThrottle]).toEqual([
      'all',
      3000,
      'info',
      true,
    ]);
  });

  it('GitHub Enterprise: GHE_HOST and GHE_PROTOCOL make the API URL; a host with a scheme is refused', () => {
    const r = read({ GHE_HOST: 'github.example.com', GHE_PROTOCOL: 'http' });
    expect(r.ok && r.env.githubApiUrl).toBe('http://github.example.com/api/v3');
    const api = read({ GITHUB_API_URL: 'https://api.example.com/', GHE_HOST: 'ignored.example.com' });
    expect(api.ok && api.env.githubApiUrl).toBe('https://api.example.com');
    const bad = read({ GHE_HOST: 'https://github.example.com' });
    expect(!bad.ok && bad.problems).toEqual([
      'GHE_HOST: expected a GitHub Enterprise Server host name, without scheme or path (e.g. github.example.com), got "https://github.example.com"',
    ]);
  });

  it('tidemark plan reads the registry variables only, with the same checks and words', () => {
    const problems: string[] = [];
    const registry = readRegistryEnv(
      { LOG_LEVEL: 'loud', TIDEMARK_REGISTRY_TIMEOUT: '30', TIDEMARK_REGISTRY_SECRETS_DIR: '/s' },
      problems,
    );
    expect(problems).toEqual([
      'TIDEMARK_REGISTRY_TIMEOUT: expected a duration with a unit like 500ms, 5s, 10m or 1h, got "30" (write 30s for seconds or 30ms for milliseconds)',
    ]);
    expect(registry).toMatchObject({ registryTimeoutMs: 20_000, registrySecretsDir: '/s' });
  });
});
