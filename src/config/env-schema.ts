/**
 * JSON Schema of the process environment: one property per variable tidemark reads. It is the one source of
 * - the raw type of the variables (`RawEnv`, derived with json-schema-to-ts: no hand-written copy),
 * - their shape checks (ajv; compiled ahead of time into `env.validate.generated.ts` by
 *   `scripts/write-schema.ts`, so a command that reads the environment does not compile a schema),
 * - the wording of a problem: `<VARIABLE>: expected <expected, or the enum's values>, got "…"`,
 * - the defaults (`default`) the reader applies, and the list of `TIDEMARK_*` settings (`settings.ts`), which
 *   `readEnv` uses to refuse a misspelt name with the nearest one.
 *
 * Every value is a string: the schema describes what the operator writes. An empty variable is read as unset.
 * What JSON Schema cannot say stays as code in `env.ts` and reports in the same format: a PEM key that must
 * parse, a Redis URL, comma-separated lists checked item by item (so a problem names the bad item), and rules
 * between variables (TIDEMARK_ROLE=serve needs REDIS_URL).
 *
 * `expected` is tidemark's own annotation keyword (ignored by validation): what to write instead, in words.
 * `writeOnly: true` marks a secret: a problem never repeats its value.
 */
import type { FromSchema } from 'json-schema-to-ts';

/** `500ms`, `5s`, `10m`, `1h`, `1h30m`, `3d`, `1w`, as `core/domain/duration.ts` reads them. */
export const DURATION_PATTERN = '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+\\s*$';

const DURATION = {
  type: 'string',
  pattern: DURATION_PATTERN,
  expected: 'a duration with a unit like 500ms, 5s, 10m or 1h',
} as const;

const HTTP_URL = { type: 'string', pattern: '^https?://\\S+$', expected: 'an http(s) URL' } as const;

/** The variables `tidemark plan` and `tidemark init` read too: how registries are reached. */
export const REGISTRY_ENV_PROPERTIES = {
  DOCKER_CONFIG: {
    type: 'string',
    description:
      'Folder whose config.json holds registry pull credentials. Default ~/.docker; example /var/run/docker-config.',
  },
  TIDEMARK_REGISTRY_MIRRORS: {
    type: 'string',
    description:
      'Registry host → mirror base URL for reading tags and digests, comma-separated. Default none; example docker.io=https://mirror.gcr.io.',
  },
  TIDEMARK_REGISTRY_INSECURE_HOSTS: {
    type: 'string',
    description:
      'Registry hosts a repo may read over plain HTTP (`registries.<host>.insecure: true`), host or host:port, comma-separated. Default none; example registry.lan:5000.',
  },
  TIDEMARK_REGISTRY_ALLOW_HOSTS: {
    type: 'string',
    description:
      'Internal registry hosts tidemark may contact (host, host:port, *.domain or *), comma-separated; loopback, private, link-local and cluster-internal hosts are refused otherwise. Default none; example registry.lan:5000,*.corp.example.',
  },
  TIDEMARK_REGISTRY_TIMEOUT: {
    ...DURATION,
    default: '20s',
    description: "Each registry request's deadline. Default 20s; example 45s.",
  },
  TIDEMARK_REGISTRY_SECRETS_DIR: {
    type: 'string',
    description:
      'Pull secrets a Flux ImageRepository may name in spec.secretRef: one folder per Secret, <name>/.dockerconfigjson. Default none; example /var/run/tidemark/pull-secrets.',
  },
  TIDEMARK_CLOUD_IDENTITY: {
    type: 'string',
    description:
      "Clouds whose registries are read with the workload's identity: azure, gcp, aws (comma-separated) or off. Default off; example azure,aws.",
  },
  TIDEMARK_CLOUD_IDENTITY_HOSTS: {
    type: 'string',
    description:
      'Registries of those clouds under other names, host=azure|gcp|aws, comma-separated. Default none; example registry.contoso.com=azure.',
  },
  TIDEMARK_CLOUD_AZURE_SCOPE: {
    type: 'string',
    description:
      "The Entra scope whose token ACR exchanges. Default the Resource Manager of the identity's cloud; example https://management.usgovcloudapi.net/.default.",
  },
} as const;

export const ENV_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'tidemark process environment',
  type: 'object',
  // The reader validates only the variables named here (the environment holds many others); a `TIDEMARK_` name
  // that is not here is refused by `readEnv`, with the nearest name.
  additionalProperties: false,
  properties: {
    APP_ID: {
      type: 'string',
      description: "The GitHub App's id (written by the setup page). Default none; example 123456.",
    },
    PRIVATE_KEY: {
      type: 'string',
      writeOnly: true,
      description:
        "The GitHub App's private key: the whole .pem file GitHub gave you, with newlines or \\n escapes (or set PRIVATE_KEY_PATH). Default none.",
    },
    PRIVATE_KEY_PATH: {
      type: 'string',
      description:
        "A file holding the GitHub App's PEM private key. Default none; example /etc/tidemark/app.pem.",
    },
    WEBHOOK_SECRET: {
      type: 'string',
      writeOnly: true,
      description:
        'The secret GitHub signs webhook deliveries with; required with APP_ID. Default none; example a random 32-character string.',
    },
    WEBHOOK_PATH: {
      type: 'string',
      pattern: '^/\\S*$',
      expected: 'a path starting with / (e.g. /api/github/webhooks)',
      default: '/api/github/webhooks',
      description: 'Where the GitHub webhooks arrive. Default /api/github/webhooks.',
    },
    GITHUB_API_URL: {
      ...HTTP_URL,
      description:
        'Base URL of the GitHub REST API (GitHub Enterprise Server, a proxy). Default https://api.github.com; example https://github.example.com/api/v3.',
    },
    GHE_HOST: {
      type: 'string',
      pattern: '^[A-Za-z0-9.-]+(:\\d{1,5})?$',
      expected: 'a GitHub Enterprise Server host name, without scheme or path (e.g. github.example.com)',
      description:
        'GitHub Enterprise Server host; the API is then <GHE_PROTOCOL>://<GHE_HOST>/api/v3 (GITHUB_API_URL wins). Default none; example github.example.com.',
    },
    GHE_PROTOCOL: {
      type: 'string',
      enum: ['https', 'http'],
      default: 'https',
      description: 'The scheme of GHE_HOST. Default https.',
    },
    PUBLIC_URL: {
      ...HTTP_URL,
      description:
        'The address GitHub reaches tidemark at; the setup page registers $PUBLIC_URL/api/github/webhooks. Default the address the page was opened at; example https://tidemark.example.org.',
    },
    WEBHOOK_PROXY_URL: {
      ...HTTP_URL,
      description:
        'A smee.io channel for a laptop; the setup page registers it as the webhook URL. Default none; example https://smee.io/abc123.',
    },
    NODE_ENV: {
      type: 'string',
      description:
        "production: the GitHub App's credentials are required (no setup page). Default none; example production.",
    },
    HOST: {
      type: 'string',
      default: '0.0.0.0',
      description: 'The address the HTTP server listens on. Default 0.0.0.0; example 127.0.0.1.',
    },
    PORT: {
      type: 'string',
      pattern: '^\\s*\\d+\\s*$',
      expected: 'a whole number ≥ 0',
      default: '3000',
      description: 'The port the HTTP server listens on (0: any free port). Default 3000; example 8080.',
    },
    REDIS_URL: {
      type: 'string',
      description:
        'Use BullMQ on Redis (several replicas, or separate serve and worker processes). Default none (jobs in memory); example redis://redis:6379, rediss://…, redis-cluster://h1:6379,h2:6379.',
    },
    TIDEMARK_ROLE: {
      type: 'string',
      enum: ['all', 'serve', 'worker'],
      default: 'all',
      description:
        'all: one process; serve: webhooks in; worker: reconcile jobs (serve and worker need REDIS_URL). Default all.',
    },
    TIDEMARK_REGISTRY_ENDPOINTS: {
      type: 'string',
      description:
        'YAML file of registry webhook endpoints (docs/registries.md). Default none; example /etc/tidemark/endpoints.yaml.',
    },
    TIDEMARK_REGISTRY_ENDPOINTS_JSON: {
      type: 'string',
      description:
        'The registry webhook endpoints inline, as JSON (wins over TIDEMARK_REGISTRY_ENDPOINTS). Default none; example {"endpoints":[…]}.',
    },
    ...REGISTRY_ENV_PROPERTIES,
    TIDEMARK_TRUSTED_ROOT: {
      type: 'string',
      description:
        "A sigstore trusted_root.json for the signature and provenance gates (a private Sigstore). Default Sigstore's public-good root, embedded; example /etc/tidemark/trusted_root.json.",
    },
    TIDEMARK_JOB_TIMEOUT: {
      ...DURATION,
      default: '10m',
      description:
        "A run's deadline: it is aborted at its next step and retried later. Default 10m; example 30m.",
    },
    TIDEMARK_SETTLE: {
      ...DURATION,
      default: '5s',
      description: 'Events for one repo within this window become one run. Default 5s; example 30s.',
    },
    TIDEMARK_RECONCILE_INTERVAL: {
      ...DURATION,
      default: '10m',
      description: 'Periodic reconcile of every installed repo. Default 10m; example 1h.',
    },
    TIDEMARK_CONCURRENCY: {
      type: 'string',
      pattern: '^\\s*0*[1-9]\\d*\\s*$',
      expected: 'a whole number ≥ 1',
      default: '4',
      description: 'Repos worked on in parallel per worker. Default 4; example 8.',
    },
    TIDEMARK_PUBLISHER: {
      type: 'string',
      enum: ['api', 'git'],
      default: 'api',
      description:
        'api: Verified commits via GraphQL; git: git push (for servers without createCommitOnBranch). Default api.',
    },
    TIDEMARK_GIT_AUTHOR_NAME: {
      type: 'string',
      default: 'tidemark[bot]',
      description: 'Commit author name for the git publisher. Default tidemark[bot]; example Release Bot.',
    },
    TIDEMARK_GIT_AUTHOR_EMAIL: {
      type: 'string',
      default: 'tidemark[bot]@users.noreply.github.com',
      description:
        'Commit author email for the git publisher. Default tidemark[bot]@users.noreply.github.com; example bot@example.com.',
    },
    TIDEMARK_WORKDIR: {
      type: 'string',
      description: 'The clone cache. Default a folder in the OS temp dir; example /var/lib/tidemark.',
    },
    TIDEMARK_SHUTDOWN_DEADLINE: {
      ...DURATION,
      default: '25s',
      description: 'How long SIGTERM waits for running jobs. Default 25s; example 2m.',
    },
    TIDEMARK_GITHUB_THROTTLE: {
      type: 'string',
      enum: ['true', 'false'],
      default: 'true',
      description:
        "octokit's write throttling (about 1 s between writes); false turns it off, e.g. for a private GitHub Enterprise Server. Default true.",
    },
    TIDEMARK_GITHUB_MAX_BODY_BYTES: {
      type: 'string',
      // A whole number ≥ 1024: five digits or more, or 1024-9999.
      pattern: '^\\s*0*([1-9]\\d{4,}|[2-9]\\d{3}|1[1-9]\\d{2}|10[3-9]\\d|102[4-9])\\s*$',
      expected: "a whole number of bytes ≥ 1024 (default 26214400, GitHub's 25 MB cap)",
      default: '26214400',
      description:
        'Largest GitHub webhook delivery read before its signature is checked; larger → 413, never buffered. Default 26214400 (25 MB); example 52428800.',
    },
    TIDEMARK_DEBUG: {
      type: 'string',
      description:
        'Any value: a CLI crash prints its stack trace too (for a bug report). Default none; example 1.',
    },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      description: 'The least severe log level written (JSON logs, secrets redacted). Default info.',
    },
    OTEL_EXPORTER_OTLP_ENDPOINT: {
      ...HTTP_URL,
      description:
        'Send OpenTelemetry traces to this OTLP/HTTP endpoint. Default none; example http://otel-collector:4318.',
    },
  },
} as const;

/**
 * The variables as written, after the schema's checks: every one optional, a string (or one of its enum's).
 * `keepDefaultedPropertiesOptional`: the schema's `default`s are applied by `env.ts`, not by ajv.
 */
export type RawEnv = FromSchema<typeof ENV_SCHEMA, { keepDefaultedPropertiesOptional: true }>;

export type EnvVariable = keyof typeof ENV_SCHEMA.properties;
export type RegistryVariable = keyof typeof REGISTRY_ENV_PROPERTIES;

/** One variable's schema, with the annotations a problem and a default are read from. */
export interface VariableSchema {
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly expected?: string;
  readonly default?: string;
  readonly writeOnly?: boolean;
  readonly description: string;
}

export const ENV_VARIABLES = Object.keys(ENV_SCHEMA.properties) as EnvVariable[];

export const variableSchema = (name: EnvVariable): VariableSchema => ENV_SCHEMA.properties[name];
