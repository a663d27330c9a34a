import { describe, expect, it } from 'vitest';
import {
  isNoRepoAccess,
  isReservedEnvName,
  registryAccessFor,
} from '../../../src/core/config/registry-access.js';

describe('registryAccessFor (pure): the repo registries: block against the environment', () => {
  const env = { REG_USER: 'u', REG_PASS: 'p', REG_TOKEN: 't', PRIVATE_KEY: 'the app key', EMPTY: '' };

  it('no block: no repo access (the operator credentials alone)', () => {
    const r = registryAccessFor({}, env);
    expect(isNoRepoAccess(r.access)).toBe(true);
    expect(r.warnings).toEqual([]);
  });

  it('username/password and token variables, limits and plain HTTP per host', () => {
    const r = registryAccessFor(
      {
        'reg.example.com': {
          credentials: { usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' },
          rateLimit: { requestsPerSecond: 5, concurrency: 2 },
        },
        'ghcr.io': { credentials: { tokenEnv: 'REG_TOKEN' } },
        'registry.lan:5000': { insecure: true },
      },
      { ...env, TIDEMARK_REGISTRY_INSECURE_HOSTS: 'other.lan, Registry.LAN:5000' },
    );
    expect(r.access).toEqual({
      credentials: { 'reg.example.com': { username: 'u', password: 'p' }, 'ghcr.io': { token: 't' } },
      insecureHosts: ['registry.lan:5000'],
      hosts: { 'reg.example.com': { requestsPerSecond: 5, concurrency: 2 } },
    });
    expect(r.warnings).toEqual([]);
  });

  it('plain HTTP only where the operator allows it; elsewhere HTTPS, with a warning naming the field', () => {
    const r = registryAccessFor(
      { 'ghcr.io': { insecure: true }, 'registry.lan:5000': { insecure: true } },
      env,
    );
    expect(r.access.insecureHosts).toEqual([]);
    expect(r.warnings.map((w) => [w.code, w.message.split(':').slice(0, 2).join(':')])).toEqual([
      ['registry-insecure-refused', '.github/tidemark.yml: registries.ghcr.io.insecure'],
      ['registry-insecure-refused', '.github/tidemark.yml: registries.registry.lan'],
    ]);
    expect(r.warnings[0]!.message).toContain('TIDEMARK_REGISTRY_INSECURE_HOSTS');
  });

  it.each([
    ['PRIVATE_KEY'],
    ['WEBHOOK_SECRET'],
    ['REDIS_URL'],
    ['TIDEMARK_REGISTRY_ENDPOINTS_JSON'],
    ['GITHUB_CLIENT_SECRET'],
    ['AWS_SECRET_ACCESS_KEY'],
  ])('refuses to send %s to a registry, naming the field and what to write instead', (name) => {
    const r = registryAccessFor(
      { 'evil.example': { credentials: { tokenEnv: name } } },
      { [name]: 'secret' },
    );
    expect(r.access.credentials).toEqual({});
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.code).toBe('registry-credentials-refused');
    expect(r.warnings[0]!.message).toContain(
      `.github/tidemark.yml: registries.evil.example.credentials.tokenEnv: ${name}`,
    );
    expect(r.warnings[0]!.message).toContain('REGISTRY_EVIL_EXAMPLE_PASSWORD');
  });

  it('an unset (or empty) variable leaves the host to the operator credentials, with a warning', () => {
    const r = registryAccessFor(
      { 'reg.example.com': { credentials: { usernameEnv: 'REG_USER', passwordEnv: 'EMPTY' } } },
      env,
    );
    expect(r.access.credentials).toEqual({});
    expect(r.warnings.map((w) => w.code)).toEqual(['registry-credentials-unset']);
    expect(r.warnings[0]!.message).toContain('EMPTY is not set');
  });

  it('reserved names: tidemark settings and cloud credentials, not ordinary names', () => {
    for (const n of [
      'APP_ID',
      'PRIVATE_KEY',
      'TIDEMARK_WORKDIR',
      'AZURE_CLIENT_SECRET',
      'GOOGLE_APPLICATION_CREDENTIALS',
    ])
      expect(isReservedEnvName(n), n).toBe(true);
    for (const n of ['REG_USER', 'HARBOR_ROBOT_TOKEN', 'ACR_PASSWORD'])
      expect(isReservedEnvName(n), n).toBe(false);
  });
});
