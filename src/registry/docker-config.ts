/**
 * Registry credentials from a Docker `config.json` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CredentialSource, Credentials } from './oci-client.js';

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

export function dockerConfigCredentials(path?: string): CredentialSource {
  const file = path ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let auths: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> =
    {};
  try {
    auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths?: typeof auths }).auths ?? {};
  } catch {
    auths = {};
  }
  const byHost = new Map<string, Credentials>();
  for (const [key, v] of Object.entries(auths)) {
    const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    let creds: Credentials | undefined;
    if (v.identitytoken) creds = { token: v.identitytoken };
    else if (v.auth) {
      const decoded = Buffer.from(v.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) creds = { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    } else if (v.username && v.password) creds = { username: v.username, password: v.password };
    if (creds) byHost.set(HUB_KEYS.includes(key) || HUB_KEYS.includes(host) ? 'docker.io' : host, creds);
  }
  return (host) => byHost.get(host);
}

/** Try several sources in order. */
export function firstCredentials(...sources: (CredentialSource | undefined)[]): CredentialSource {
  return async (host) => {
    for (const s of sources) {
      const c = await s?.(host);
      if (c) return c;
    }
    return undefined;
  };
}

/** The Docker config of a pull secret the operator declared: `<dir>/<name>/.dockerconfigjson` (a mounted Secret). */
export function secretConfigPath(dir: string, name: string): string {
  return join(dir, name, '.dockerconfigjson');
}
