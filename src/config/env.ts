/**
 * Process configuration from the environment, validated once at boot. Every problem is listed at once,
 * each naming the variable and what it should hold.
 *
 * The variables, their raw type, their shape checks, the words of a problem and their defaults come from one
 * schema (`env-schema.ts`, validated by its precompiled validator). This module adds what a schema cannot say
 * (a PEM key, a Redis URL, list items, rules between variables), in the same format, and turns the raw strings
 * into `AppEnv` / `RegistryEnv`: those normalized types (milliseconds, numbers, parsed lists) are written here
 * by hand because they differ from the input shape.
 */

import { createPrivateKey } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { insecureHostsAllowed } from '../core/config/registry-access.js';
import { didYouMean } from '../core/domain/did-you-mean.js';
import { parseDuration } from '../core/domain/duration.js';
import { parseRedisUrl } from '../queue/redis-url.js';
import { readCloudIdentityEnv } from '../registry/cloud/select.js';
import { type AllowRule, parseAllowHosts } from '../registry/egress.js';
import { validate as validateEnvSchema } from './env.validate.generated.js';
import {
  DURATION_PATTERN,
  ENV_SCHEMA,
  ENV_VARIABLES,
  type EnvVariable,
  type RawEnv,
  REGISTRY_ENV_PROPERTIES,
  variableSchema,
} from './env-schema.js';
import { TIDEMARK_SETTINGS } from './settings.js';

export { parseDuration };

export interface AppEnv {
  /** A sigstore trusted_root.json replacing the embedded public-good one (signature and provenance gates). */
  readonly trustedRootFile?: string;
  readonly role: NonNullable<RawEnv['TIDEMARK_ROLE']>;
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
  readonly publisher: NonNullable<RawEnv['TIDEMARK_PUBLISHER']>;
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
  readonly logLevel: NonNullable<RawEnv['LOG_LEVEL']>;
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

export type EnvResult = { ok: true; env: AppEnv } | { ok: false; problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;

type Properties = typeof ENV_SCHEMA.properties;

/** A variable with a `default` in the schema. */
type DefaultedVariable = {
  [K in EnvVariable]: Properties[K] extends { readonly default: string } ? K : never;
}[EnvVariable];

/** The variable as written, or the schema's default. */
function setting<K extends DefaultedVariable>(
  raw: RawEnv,
  name: K,
): NonNullable<RawEnv[K]> | Properties[K]['default'] {
  const given: string | undefined = raw[name];
  const dflt: string = ENV_SCHEMA.properties[name].default;
  return (given ?? dflt) as NonNullable<RawEnv[K]> | Properties[K]['default'];
}

/**
 * `<VARIABLE>: expected <what to write>, got "<value>"`, in the schema's words (`expected`, or the enum's
 * values). A secret's value (`writeOnly`) is never repeated; a duration without a unit says what to write.
 */
function envProblem(name: EnvVariable, value: string): string {
  const schema = variableSchema(name);
  const values = schema.enum ?? [];
  const expected =
    schema.expected ??
    (values.length <= 3
      ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`
      : `one of ${values.join(', ')}`);
  const bare = value.trim();
  const hint =
    schema.pattern === DURATION_PATTERN && /^\d+(\.\d+)?$/.test(bare)
      ? ` (write ${bare}s for seconds or ${bare}ms for milliseconds)`
      : '';
  return `${name}: expected ${expected}${schema.writeOnly ? '' : `, got "${value}"`}${hint}`;
}

const validateShapes = validateEnvSchema as unknown as ValidateFunction<RawEnv>;

/**
 * The schema's checks over the variables tidemark reads (an empty one is unset): each problem, in the schema's
 * order, and the variables that passed, typed by the schema. A variable with a problem is read as unset, so the
 * reader goes on and every problem is listed at once.
 */
function checkEnv(env: Env): { raw: RawEnv; problems: { name: EnvVariable; text: string }[] } {
  const given: Record<string, string> = {};
  for (const name of ENV_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') given[name] = value;
  }
  const problems: { name: EnvVariable; text: string }[] = [];
  if (!validateShapes(given))
    for (const err of validateShapes.errors ?? []) {
      const name = err.instancePath.slice(1) as EnvVariable;
      if (given[name] === undefined) continue;
      problems.push({ name, text: envProblem(name, given[name]) });
      delete given[name];
    }
  // What is left passes (each error names one variable, now removed): checked again rather than cast.
  return { raw: validateShapes(given) ? given : {}, problems };
}

function durationMs(raw: RawEnv, name: DefaultedVariable & `TIDEMARK_${string}`, problems: string[]): number {
  const value = setting(raw, name);
  const ms = parseDuration(value);
  if (ms !== undefined) return ms;
  // The pattern passed but the duration is longer than parseDuration reads.
  problems.push(envProblem(name, value));
  return parseDuration(ENV_SCHEMA.properties[name].default) ?? 0;
}

export function readRegistryEnv(env: Env, problems: string[]): RegistryEnv {
  const { raw, problems: shapes } = checkEnv(env);
  for (const p of shapes) if (p.name in REGISTRY_ENV_PROPERTIES) problems.push(p.text);
  return registryEnvOf(raw, env, problems);
}

function registryEnvOf(raw: RawEnv, env: Env, problems: string[]): RegistryEnv {
  // Cloud identity (TIDEMARK_CLOUD_IDENTITY, TIDEMARK_CLOUD_IDENTITY_HOSTS) is checked with the other settings.
  problems.push(...readCloudIdentityEnv(env).problems);
  // Comma-separated lists are checked item by item, so a problem names the item.
  const registryMirrors: Record<string, string> = {};
  for (const pair of (raw.TIDEMARK_REGISTRY_MIRRORS ?? '')
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
  const allow = parseAllowHosts(raw.TIDEMARK_REGISTRY_ALLOW_HOSTS);
  problems.push(...allow.problems);
  return {
    ...(raw.DOCKER_CONFIG && { dockerConfig: raw.DOCKER_CONFIG }),
    registryMirrors,
    allowHosts: allow.rules,
    registryTimeoutMs: durationMs(raw, 'TIDEMARK_REGISTRY_TIMEOUT', problems),
    ...(raw.TIDEMARK_REGISTRY_SECRETS_DIR && { registrySecretsDir: raw.TIDEMARK_REGISTRY_SECRETS_DIR }),
  };
}

export function readEnv(env: Env, defaults: { workDir: string }): EnvResult {
  const problems: string[] = [];
  // A TIDEMARK_ name tidemark does not read is a typo: say so (with the nearest name) instead of ignoring it.
  for (const name of Object.keys(env)) {
    if (!name.startsWith('TIDEMARK_') || (TIDEMARK_SETTINGS as readonly string[]).includes(name)) continue;
    const hint = didYouMean(name, TIDEMARK_SETTINGS);
    problems.push(
      `${name}: not a tidemark setting${hint ? `; did you mean ${hint}?` : ''} (the settings are listed in the README, "Configuration (environment)")`,
    );
  }
  const { raw, problems: shapes } = checkEnv(env);
  problems.push(...shapes.map((p) => p.text));
  // What the schema cannot say: a Redis URL that parses, a PEM key, rules between variables.
  const role = setting(raw, 'TIDEMARK_ROLE');
  const githubApiUrl =
    raw.GITHUB_API_URL ??
    (raw.GHE_HOST ? `${setting(raw, 'GHE_PROTOCOL')}://${raw.GHE_HOST}/api/v3` : undefined);
  if (raw.REDIS_URL) {
    try {
      parseRedisUrl(raw.REDIS_URL);
    } catch (e) {
      problems.push(
        `REDIS_URL: ${(e as Error).message} (redis://host:port, rediss://…, or redis-cluster://host1:port1,host2:port2)`,
      );
    }
  }
  // Separate web and worker processes share their jobs through Redis.
  if (role !== 'all' && !raw.REDIS_URL)
    problems.push(`TIDEMARK_ROLE=${role} needs REDIS_URL: web and worker processes share jobs through Redis`);
  const production = raw.NODE_ENV === 'production';
  const { registryMirrors, allowHosts, registryTimeoutMs, registrySecretsDir } = registryEnvOf(
    raw,
    env,
    problems,
  );
  // Keys pasted into one line carry `\n` escapes for their newlines.
  const privateKey = raw.PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (privateKey) {
    try {
      createPrivateKey(privateKey);
    } catch {
      problems.push(
        'PRIVATE_KEY: not a PEM private key; paste the whole .pem GitHub gave you (-----BEGIN RSA PRIVATE KEY----- …), with newlines or \\n, or set PRIVATE_KEY_PATH to the file',
      );
    }
  }
  const hasCreds = !!raw.APP_ID && !!(raw.PRIVATE_KEY || raw.PRIVATE_KEY_PATH);
  if (production && !hasCreds)
    problems.push('APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are required when NODE_ENV=production');
  if (hasCreds && !raw.WEBHOOK_SECRET)
    problems.push('WEBHOOK_SECRET: required with APP_ID, so GitHub deliveries can be verified');
  const parsed: AppEnv = {
    role,
    host: setting(raw, 'HOST'),
    port: Number(setting(raw, 'PORT')),
    ...(raw.APP_ID && { appId: raw.APP_ID }),
    ...(privateKey && { privateKey }),
    ...(raw.PRIVATE_KEY_PATH && { privateKeyPath: raw.PRIVATE_KEY_PATH }),
    ...(raw.WEBHOOK_SECRET && { webhookSecret: raw.WEBHOOK_SECRET }),
    webhookPath: setting(raw, 'WEBHOOK_PATH'),
    ...(githubApiUrl && { githubApiUrl: githubApiUrl.replace(/\/+$/, '') }),
    ...(raw.REDIS_URL && { redisUrl: raw.REDIS_URL }),
    workDir: raw.TIDEMARK_WORKDIR ?? defaults.workDir,
    settleMs: durationMs(raw, 'TIDEMARK_SETTLE', problems),
    reconcileIntervalMs: durationMs(raw, 'TIDEMARK_RECONCILE_INTERVAL', problems),
    concurrency: Number(setting(raw, 'TIDEMARK_CONCURRENCY')),
    publisher: setting(raw, 'TIDEMARK_PUBLISHER'),
    ...(raw.TIDEMARK_REGISTRY_ENDPOINTS && { registryEndpointsFile: raw.TIDEMARK_REGISTRY_ENDPOINTS }),
    ...(raw.TIDEMARK_TRUSTED_ROOT && { trustedRootFile: raw.TIDEMARK_TRUSTED_ROOT }),
    ...(raw.TIDEMARK_REGISTRY_ENDPOINTS_JSON && {
      registryEndpointsJson: raw.TIDEMARK_REGISTRY_ENDPOINTS_JSON,
    }),
    ...(raw.DOCKER_CONFIG && { dockerConfig: raw.DOCKER_CONFIG }),
    registryMirrors,
    allowHosts,
    registryTimeoutMs,
    ...(registrySecretsDir && { registrySecretsDir }),
    jobTimeoutMs: durationMs(raw, 'TIDEMARK_JOB_TIMEOUT', problems),
    logLevel: setting(raw, 'LOG_LEVEL'),
    shutdownDeadlineMs: durationMs(raw, 'TIDEMARK_SHUTDOWN_DEADLINE', problems),
    gitAuthor: {
      name: setting(raw, 'TIDEMARK_GIT_AUTHOR_NAME'),
      email: setting(raw, 'TIDEMARK_GIT_AUTHOR_EMAIL'),
    },
    production,
    ...(raw.OTEL_EXPORTER_OTLP_ENDPOINT && { otlpEndpoint: raw.OTEL_EXPORTER_OTLP_ENDPOINT }),
    githubThrottle: setting(raw, 'TIDEMARK_GITHUB_THROTTLE') !== 'false',
    githubMaxBodyBytes: Number(setting(raw, 'TIDEMARK_GITHUB_MAX_BODY_BYTES')),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, env: parsed };
}
