/**
 * How tidemark reaches a repo's registries, decided once and purely, for both `tidemark plan` and the App:
 * the repo's `registries:` block (`.github/tidemark.yml`) read against the process environment.
 *
 * - `credentials` names environment variables, never secrets. A name that is one of tidemark's own settings
 *   or secrets (or a cloud provider's) is refused: a repo could otherwise have tidemark send it to a host it
 *   names. A variable that is not set leaves the host to the operator's credentials (Docker `config.json`).
 * - `rateLimit` applies to that host. `insecure` (plain HTTP) only where the operator allows it
 *   (`TIDEMARK_REGISTRY_INSECURE_HOSTS`): over plain HTTP the operator's credentials for that host would cross
 *   the network in the clear, so a repo may only select it, never decide it.
 *
 * Each refusal or unset variable is a warning naming the file, the field and what to do instead.
 */
import type { Warning } from '../domain/types.js';
import type { RegistrySettings } from './repo-config.js';

export type RegistryCredentials =
  | { readonly username: string; readonly password: string }
  | { readonly token: string };

export interface HostLimits {
  readonly concurrency?: number;
  readonly requestsPerSecond?: number;
}

export interface RegistryAccess {
  /** Credentials by registry host, from the variables the repo names. */
  readonly credentials: Readonly<Record<string, RegistryCredentials>>;
  readonly insecureHosts: readonly string[];
  readonly hosts: Readonly<Record<string, HostLimits>>;
}

export const NO_REPO_ACCESS: RegistryAccess = { credentials: {}, insecureHosts: [], hosts: {} };

const CONFIG_FILE = '.github/tidemark.yml';

/** The hosts the operator lets repos read over plain HTTP (`TIDEMARK_REGISTRY_INSECURE_HOSTS`, comma-separated). */
export function insecureHostsAllowed(env: Readonly<Record<string, string | undefined>>): string[] {
  return (env.TIDEMARK_REGISTRY_INSECURE_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Environment variables a repo's `registries.<host>.credentials` may not name: tidemark's own settings and
 * secrets, and the usual cloud credentials. A repo could otherwise have tidemark send them to a host it names.
 */
export function isReservedEnvName(name: string): boolean {
  return (
    OWN_ENV_NAMES.has(name) ||
    /^(TIDEMARK|GITHUB|GHE|OTEL|AWS|AZURE|GOOGLE|GCP|ARM|ACTIONS|NODE|NPM)_/.test(name)
  );
}

const OWN_ENV_NAMES = new Set([
  'APP_ID',
  'PRIVATE_KEY',
  'PRIVATE_KEY_PATH',
  'WEBHOOK_SECRET',
  'WEBHOOK_PATH',
  'WEBHOOK_PROXY_URL',
  'GITHUB_CLIENT_ID',
  'GITHUB_CLIENT_SECRET',
  'REDIS_URL',
  'DOCKER_CONFIG',
  'PATH',
  'HOME',
  'HOST',
  'PORT',
  'LOG_LEVEL',
]);

export function registryAccessFor(
  registries: Readonly<Record<string, RegistrySettings>>,
  env: Readonly<Record<string, string | undefined>>,
  isReserved: (name: string) => boolean = isReservedEnvName,
): { readonly access: RegistryAccess; readonly warnings: readonly Warning[] } {
  const credentials: Record<string, RegistryCredentials> = {};
  const insecureHosts: string[] = [];
  const hosts: Record<string, HostLimits> = {};
  const warnings: Warning[] = [];
  const plainAllowed = insecureHostsAllowed(env);
  for (const host of Object.keys(registries).sort()) {
    const r = registries[host]!;
    if (r.insecure && plainAllowed.includes(host.toLowerCase())) insecureHosts.push(host);
    else if (r.insecure)
      warnings.push({
        code: 'registry-insecure-refused',
        message: `${CONFIG_FILE}: registries.${host}.insecure: plain HTTP is the operator's decision (credentials would cross the network in the clear), so ${host} is read over HTTPS; ask the operator to add ${host} to TIDEMARK_REGISTRY_INSECURE_HOSTS, or remove insecure`,
        file: CONFIG_FILE,
      });
    if (r.rateLimit) hosts[host] = { ...r.rateLimit };
    const c = r.credentials;
    if (!c) continue;
    const names = Object.entries(c).filter((e): e is [string, string] => typeof e[1] === 'string');
    const refused = names.filter(([, name]) => isReserved(name));
    for (const [field, name] of refused)
      warnings.push({
        code: 'registry-credentials-refused',
        message: `${CONFIG_FILE}: registries.${host}.credentials.${field}: ${name} is one of tidemark's own settings or a cloud credential and is never sent to a registry; name a variable of its own (e.g. REGISTRY_${envSafe(host)}_PASSWORD), or use the operator's Docker config.json`,
        file: CONFIG_FILE,
      });
    if (refused.length > 0) continue;
    const value = (name: string | undefined) => (name ? env[name] : undefined);
    if (c.tokenEnv && value(c.tokenEnv)) {
      credentials[host] = { token: value(c.tokenEnv)! };
    } else if (c.usernameEnv && c.passwordEnv && value(c.usernameEnv) && value(c.passwordEnv)) {
      credentials[host] = { username: value(c.usernameEnv)!, password: value(c.passwordEnv)! };
    } else {
      const unset = names.map(([, n]) => n).filter((n) => !value(n));
      warnings.push({
        code: 'registry-credentials-unset',
        message: `${CONFIG_FILE}: registries.${host}.credentials: ${unset.length > 0 ? `${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set` : 'needs tokenEnv, or usernameEnv with passwordEnv'} in tidemark's environment; ${host} is read with the operator's credentials (Docker config.json), or anonymously`,
        file: CONFIG_FILE,
      });
    }
  }
  return { access: { credentials, insecureHosts, hosts }, warnings };
}

export function isNoRepoAccess(a: RegistryAccess): boolean {
  return (
    Object.keys(a.credentials).length === 0 &&
    a.insecureHosts.length === 0 &&
    Object.keys(a.hosts).length === 0
  );
}

function envSafe(host: string): string {
  return host.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
