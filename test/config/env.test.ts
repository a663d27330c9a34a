import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDuration, readEnv } from '../../src/config/env.js';

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
