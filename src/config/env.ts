/**
 * Process configuration from the environment, validated once at boot. Every problem is listed at once,
 * each naming the variable and what it should hold.
 */

import { createPrivateKey } from 'node:crypto';
import { insecureHostsAllowed } from '../core/config/registry-access.js';
import { didYouMean } from '../core/domain/did-you-mean.js';
import { parseDuration } from '../core/domain/duration.js';
import { parseRedisUrl } from '../queue/redis-url.js';
import { readCloudIdentityEnv } from '../registry/cloud/select.js';
import { type AllowRule, parseAllowHosts } from '../registry/egress.js';
import { TIDEMARK_SETTINGS } from './settings.js';

export { parseDuration };

export interface AppEnv {
  /** A sigstore trusted_root.json replacing the embedded public-good one (signature and provenance gates). */
  readonly trustedRootFile?: string;
  readonly role: 'all' | 'serve' | 'worker';
  readonly host: string;
  readonly port: number;
  readonly appId?: string;
  readonly privateKey?: string;
  readonly privateKeyPath?: string;
  readonly webhookSecret?: string;
  readonly webhookPath: string;
  /** Base URL of the GitHub REST API: from GITHUB_API_URL, or GHE_HOST/GHE_PROTOCOL (`…/api/v3`). */
  readonly githubApiUrl?: string;
  readonly redisUrl?: string;
  readonly workDir: string;
  readonly settleMs: number;
  readonly reconcileIntervalMs: number;
  readonly concurrency: number;
  readonly publisher: 'api' | 'git';
  readonly registryEndpointsFile?: string;
  readonly registryEndpointsJson?: string;
  readonly dockerConfig?: string;
  /** Registry host → mirror base URL, for reading tags and digests. */
  readonly registryMirrors: Readonly<Record<string, string>>;
  /** Hosts tidemark may contact even when they are internal (TIDEMARK_REGISTRY_ALLOW_HOSTS). */
  readonly allowHosts: readonly AllowRule[];
  readonly registryTimeoutMs: number;
  readonly registrySecretsDir?: string;
  /** A run is aborted after this long (TIDEMARK_JOB_TIMEOUT) and retried by the queue. */
  readonly jobTimeoutMs: number;
  readonly logLevel: string;
  readonly shutdownDeadlineMs: number;
  readonly gitAuthor: { readonly name: string; readonly email: string };
  readonly production: boolean;
  readonly otlpEndpoint?: string;
  /** octokit's write throttling (GitHub's guidance: about 1 s between writes); `TIDEMARK_GITHUB_THROTTLE=false` turns it off for a private GitHub Enterprise server. */
  readonly githubThrottle: boolean;
  /** Largest GitHub webhook body read before its signature is checked (`TIDEMARK_GITHUB_MAX_BODY_BYTES`). */
  readonly githubMaxBodyBytes: number;
}

/** The operator's registry settings, read the same way by `tidemark serve` and `tidemark plan`. */
export interface RegistryEnv {
  /** Directory holding the Docker `config.json` with registry credentials (default `~/.docker`). */
  readonly dockerConfig?: string;
  /** Registry host → mirror base URL, for reading tags and digests. */
  readonly registryMirrors: Readonly<Record<string, string>>;
  /** Hosts tidemark may contact even when they are internal (TIDEMARK_REGISTRY_ALLOW_HOSTS). */
  readonly allowHosts: readonly AllowRule[];
  /** Each registry request's deadline (TIDEMARK_REGISTRY_TIMEOUT). */
  readonly registryTimeoutMs: number;
  /** Declared pull secrets, one folder each (TIDEMARK_REGISTRY_SECRETS_DIR/<name>/.dockerconfigjson). */
  readonly registrySecretsDir?: string;
}

export function readRegistryEnv(env: Record<string, string | undefined>, problems: string[]): RegistryEnv {
  // Cloud identity (TIDEMARK_CLOUD_IDENTITY, TIDEMARK_CLOUD_IDENTITY_HOSTS) is checked with the other settings.
  problems.push(...readCloudIdentityEnv(env).problems);
  const registryMirrors: Record<string, string> = {};
  for (const pair of (env.TIDEMARK_REGISTRY_MIRRORS ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([^=\s]+)=(https?:\/\/\S+)$/.exec(pair);
    if (m) registryMirrors[m[1]!] = m[2]!;
    else problems.push(`TIDEMARK_REGISTRY_MIRRORS: expected host=https://mirror,… , got "${pair}"`);
  }
  for (const host of insecureHostsAllowed(env))
    if (!/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:]+\])(:\d{1,5})?$/.test(host))
      problems.push(
        `TIDEMARK_REGISTRY_INSECURE_HOSTS: expected host or host:port, comma-separated (e.g. registry.lan:5000), got "${host}"`,
      );
  const allow = parseAllowHosts(env.TIDEMARK_REGISTRY_ALLOW_HOSTS);
  problems.push(...allow.problems);
  return {
    ...(env.DOCKER_CONFIG && { dockerConfig: env.DOCKER_CONFIG }),
    registryMirrors,
    allowHosts: allow.rules,
    registryTimeoutMs: duration(env, 'TIDEMARK_REGISTRY_TIMEOUT', 20_000, problems),
    ...(env.TIDEMARK_REGISTRY_SECRETS_DIR && { registrySecretsDir: env.TIDEMARK_REGISTRY_SECRETS_DIR }),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type EnvResult = { ok: true; env: AppEnv } | { ok: false; problems: string[] };

function int(
  env: Record<string, string | undefined>,
  name: string,
  dflt: number,
  problems: string[],
  min = 0,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    problems.push(`${name}: expected a whole number ≥ ${min}, got "${raw}"`);
    return dflt;
  }
  return Number(raw);
}

function duration(
  env: Record<string, string | undefined>,
  name: string,
  dflt: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const ms = parseDuration(raw);
  if (ms === undefined) {
    problems.push(
      `${name}: expected a duration with a unit like 500ms, 5s, 10m or 1h, got "${raw}"${
        /^\d+(\.\d+)?$/.test(raw.trim())
          ? ` (write ${raw.trim()}s for seconds or ${raw.trim()}ms for milliseconds)`
          : ''
      }`,
    );
    return dflt;
  }
  return ms;
}

export function readEnv(env: Record<string, string | undefined>, defaults: { workDir: string }): EnvResult {
  const problems: string[] = [];
  // A TIDEMARK_ name tidemark does not read is a typo: say so (with the nearest name) instead of ignoring it.
  for (const name of Object.keys(env)) {
    if (!name.startsWith('TIDEMARK_') || (TIDEMARK_SETTINGS as readonly string[]).includes(name)) continue;
    const hint = didYouMean(name, TIDEMARK_SETTINGS);
    problems.push(
      `${name}: not a tidemark setting${hint ? `; did you mean ${hint}?` : ''} (the settings are listed in the README, "Configuration (environment)")`,
    );
  }
  const role = (env.TIDEMARK_ROLE ?? 'all') as AppEnv['role'];
  if (!['all', 'serve', 'worker'].includes(role))
    problems.push(`TIDEMARK_ROLE: expected all, serve or worker, got "${role}"`);
  const publisher = (env.TIDEMARK_PUBLISHER ?? 'api') as AppEnv['publisher'];
  if (!['api', 'git'].includes(publisher))
    problems.push(`TIDEMARK_PUBLISHER: expected api or git, got "${publisher}"`);
  let githubApiUrl = env.GITHUB_API_URL || undefined;
  if (!githubApiUrl && env.GHE_HOST) githubApiUrl = `${env.GHE_PROTOCOL || 'https'}://${env.GHE_HOST}/api/v3`;
  if (githubApiUrl && !/^https?:\/\/[^\s]+$/.test(githubApiUrl))
    problems.push(`GITHUB_API_URL: expected an http(s) URL, got "${githubApiUrl}"`);
  if (env.REDIS_URL) {
    try {
      parseRedisUrl(env.REDIS_URL);
    } catch (e) {
      problems.push(
        `REDIS_URL: ${(e as Error).message} (redis://host:port, rediss://…, or redis-cluster://host1:port1,host2:port2)`,
      );
    }
  }
  // Separate web and worker processes share their jobs through Redis.
  if (role !== 'all' && !env.REDIS_URL)
    problems.push(`TIDEMARK_ROLE=${role} needs REDIS_URL: web and worker processes share jobs through Redis`);
  const production = env.NODE_ENV === 'production';
  const { registryMirrors, allowHosts, registryTimeoutMs, registrySecretsDir } = readRegistryEnv(
    env,
    problems,
  );
  const throttleSetting = env.TIDEMARK_GITHUB_THROTTLE ?? 'true';
  if (!['true', 'false'].includes(throttleSetting))
    problems.push(`TIDEMARK_GITHUB_THROTTLE: expected true or false, got "${throttleSetting}"`);
  const githubThrottle = throttleSetting !== 'false';
  const maxBody = env.TIDEMARK_GITHUB_MAX_BODY_BYTES;
  const githubMaxBodyBytes = maxBody === undefined || maxBody === '' ? 25 * 1024 * 1024 : Number(maxBody);
  if (!Number.isInteger(githubMaxBodyBytes) || githubMaxBodyBytes < 1024)
    problems.push(
      `TIDEMARK_GITHUB_MAX_BODY_BYTES: expected a whole number of bytes ≥ 1024 (default 26214400, GitHub's 25 MB cap), got "${maxBody}"`,
    );
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  // Keys pasted into one line carry `\n` escapes for their newlines.
  const privateKey = env.PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (privateKey) {
    try {
      createPrivateKey(privateKey);
    } catch {
      problems.push(
        'PRIVATE_KEY: not a PEM private key; paste the whole .pem GitHub gave you (-----BEGIN RSA PRIVATE KEY----- …), with newlines or \\n, or set PRIVATE_KEY_PATH to the file',
      );
    }
  }
  const hasCreds = !!env.APP_ID && !!(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH);
  if (production && !hasCreds)
    problems.push('APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are required when NODE_ENV=production');
  if (hasCreds && !env.WEBHOOK_SECRET)
    problems.push('WEBHOOK_SECRET: required with APP_ID, so GitHub deliveries can be verified');
  const parsed: AppEnv = {
    role,
    host: env.HOST || '0.0.0.0',
    port: int(env, 'PORT', 3000, problems),
    ...(env.APP_ID && { appId: env.APP_ID }),
    ...(privateKey && { privateKey }),
    ...(env.PRIVATE_KEY_PATH && { privateKeyPath: env.PRIVATE_KEY_PATH }),
    ...(env.WEBHOOK_SECRET && { webhookSecret: env.WEBHOOK_SECRET }),
    webhookPath: env.WEBHOOK_PATH || '/api/github/webhooks',
    ...(githubApiUrl && { githubApiUrl: githubApiUrl.replace(/\/+$/, '') }),
    ...(env.REDIS_URL && { redisUrl: env.REDIS_URL }),
    workDir: env.TIDEMARK_WORKDIR || defaults.workDir,
    settleMs: duration(env, 'TIDEMARK_SETTLE', 5_000, problems),
    reconcileIntervalMs: duration(env, 'TIDEMARK_RECONCILE_INTERVAL', 600_000, problems),
    concurrency: int(env, 'TIDEMARK_CONCURRENCY', 4, problems, 1),
    publisher,
    ...(env.TIDEMARK_REGISTRY_ENDPOINTS && { registryEndpointsFile: env.TIDEMARK_REGISTRY_ENDPOINTS }),
    ...(env.TIDEMARK_TRUSTED_ROOT && { trustedRootFile: env.TIDEMARK_TRUSTED_ROOT }),
    ...(env.TIDEMARK_REGISTRY_ENDPOINTS_JSON && {
      registryEndpointsJson: env.TIDEMARK_REGISTRY_ENDPOINTS_JSON,
    }),
    ...(env.DOCKER_CONFIG && { dockerConfig: env.DOCKER_CONFIG }),
    registryMirrors,
    allowHosts,
    registryTimeoutMs,
    ...(registrySecretsDir && { registrySecretsDir }),
    jobTimeoutMs: duration(env, 'TIDEMARK_JOB_TIMEOUT', 10 * 60_000, problems),
    logLevel,
    shutdownDeadlineMs: duration(env, 'TIDEMARK_SHUTDOWN_DEADLINE', 25_000, problems),
    gitAuthor: {
      name: env.TIDEMARK_GIT_AUTHOR_NAME || 'tidemark[bot]',
      email: env.TIDEMARK_GIT_AUTHOR_EMAIL || 'tidemark[bot]@users.noreply.github.com',
    },
    production,
    ...(env.OTEL_EXPORTER_OTLP_ENDPOINT && { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }),
    githubThrottle,
    githubMaxBodyBytes,
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, env: parsed };
}
