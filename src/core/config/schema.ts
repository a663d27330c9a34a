/**
 * JSON Schema of `.github/tidemark.yml`. Published as `policies/tidemark.schema.json` (a test keeps the two
 * identical) so editors can complete and check the file:
 *   # yaml-language-server: $schema=https://raw.githubusercontent.com/tidemark-dev/tidemark/main/policies/tidemark.schema.json
 */

import { CHART_NAME_PATTERN } from '../domain/chart-ref.js';

const order = {
  type: 'object',
  additionalProperties: false,
  properties: {
    order: {
      type: 'string',
      enum: ['asc', 'desc'],
      default: 'asc',
      description: '`asc` picks the greatest, `desc` the smallest.',
    },
  },
} as const;

const gateProperties = {
  minAge: {
    type: 'string',
    pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+$',
    description:
      "A (tag → digest) mapping must be this old — by tidemark's own first sight of it — before it is proposed, e.g. `72h`.",
  },
  platforms: {
    type: 'array',
    minItems: 1,
    items: { type: 'string', pattern: '^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$' },
    description:
      'Every one of these platforms must be in the image index, e.g. `[linux/amd64, linux/arm64]`.',
  },
  signature: {
    type: 'object',
    additionalProperties: false,
    required: ['issuer'],
    properties: {
      issuer: {
        type: 'string',
        pattern: '^https://',
        description: 'OIDC issuer of the signing certificate.',
      },
      subject: { type: 'string', minLength: 1, description: 'The exact certificate identity.' },
      subjectPattern: {
        type: 'string',
        minLength: 1,
        description: 'RE2 pattern for the identity, always anchored.',
      },
    },
    description: 'A keyless (Sigstore/cosign) signature by this identity, logged in Rekor.',
  },
  provenance: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      builder: { type: 'string', minLength: 1 },
      sourceRepository: { type: 'string', minLength: 1 },
      ref: { type: 'string', minLength: 1 },
    },
    description: 'A signed SLSA v1 provenance attestation with these fields.',
  },
  schedule: {
    type: 'object',
    additionalProperties: false,
    required: ['windows'],
    properties: {
      timezone: { type: 'string', default: 'UTC', description: 'IANA time zone, e.g. Europe/Berlin.' },
      windows: {
        type: 'array',
        minItems: 1,
        items: { type: 'string' },
        description: 'Cron patterns (5 fields); PRs are opened and updated only in minutes they match.',
      },
    },
  },
  freeze: {
    type: 'array',
    description: 'Change freezes: nothing is opened, updated or auto-merged during one.',
    items: {
      type: 'object',
      additionalProperties: false,
      properties: {
        from: { type: 'string', description: 'Start: a date or a time with its offset.' },
        to: { type: 'string', description: 'End (exclusive).' },
        cron: {
          type: 'string',
          description: 'Or recurring minutes (5 cron fields), e.g. `* * * * 5` for Fridays.',
        },
        timezone: { type: 'string', description: 'Time zone of `cron`; default UTC.' },
        reason: { type: 'string' },
      },
    },
  },
} as const;

export const TIDEMARK_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://raw.githubusercontent.com/tidemark-dev/tidemark/main/policies/tidemark.schema.json',
  title: 'tidemark repository configuration (.github/tidemark.yml)',
  type: 'object',
  additionalProperties: false,
  properties: {
    defaultNamespace: {
      type: 'string',
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      default: 'flux-system',
      description: 'Namespace of policies that name none; markers refer to policies as `<namespace>:<name>`.',
    },
    policies: {
      type: 'array',
      description: 'Image policies, with Flux ImagePolicy field names and the image inline.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'policy'],
        oneOf: [{ required: ['image'] }, { required: ['chart'] }],
        properties: {
          name: {
            type: 'string',
            pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
            description: 'Policy name; the marker key is `<namespace>:<name>`.',
          },
          namespace: {
            type: 'string',
            pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
            description: 'Defaults to `defaultNamespace`.',
          },
          image: {
            type: 'string',
            minLength: 1,
            description: 'Image repository without tag, e.g. `ghcr.io/acme/web`. Set this or `chart`.',
          },
          chart: {
            type: 'object',
            additionalProperties: false,
            description:
              "A Helm chart to watch instead of an image: its versions are the candidates, and `…:tag` markers on a HelmRelease's `spec.chart.spec.version`, a helmfile release's `version`, a Chart.yaml dependency's `version` or an OCIRepository's `spec.ref.tag` are bumped. Name where it lives with `repository` or a Flux `sourceRef`.",
            properties: {
              repository: {
                type: 'string',
                pattern: '^(oci|https?)://',
                description:
                  'The Helm repository: an HTTP one (`https://charts.jetstack.io`, versions from its index.yaml) or an OCI one (`oci://ghcr.io/stefanprodan/charts`).',
              },
              sourceRef: {
                type: 'object',
                additionalProperties: false,
                required: ['kind', 'name'],
                description:
                  'A Flux HelmRepository or OCIRepository (source.toolkit.fluxcd.io) in this repository that says where the chart lives.',
                properties: {
                  kind: { type: 'string', enum: ['HelmRepository', 'OCIRepository'] },
                  name: { type: 'string', minLength: 1 },
                  namespace: { type: 'string', description: "Defaults to the policy's namespace." },
                },
              },
              name: {
                type: 'string',
                pattern: CHART_NAME_PATTERN,
                description:
                  "The chart's name in the repository, e.g. `cert-manager` (not with an OCIRepository, whose URL names the chart).",
              },
            },
          },
          exclusionList: {
            type: 'array',
            maxItems: 25,
            items: { type: 'string' },
            description:
              'RE2 patterns; matching tags are dropped first. Default `["^.*\\\\.sig$"]`; a list replaces it.',
          },
          filterTags: {
            type: 'object',
            additionalProperties: false,
            properties: {
              pattern: {
                type: 'string',
                description: 'RE2 pattern (unanchored search); tags that do not match are dropped.',
              },
              extract: {
                type: 'string',
                description: 'Go `Regexp.Expand` template giving the sort key, e.g. `$ts` or `${version}`.',
              },
            },
          },
          policy: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            maxProperties: 1,
            description: 'Exactly one of semver, alphabetical, numerical.',
            properties: {
              semver: {
                type: 'object',
                additionalProperties: false,
                required: ['range'],
                properties: {
                  range: {
                    type: 'string',
                    minLength: 1,
                    description: 'Masterminds semver range, e.g. `^1.2` or `>=1.0.0-0 <2.0.0`.',
                  },
                },
              },
              alphabetical: order,
              numerical: order,
            },
          },
          digestReflectionPolicy: {
            type: 'string',
            enum: ['Never', 'IfNotPresent', 'Always'],
            default: 'Never',
            description: 'Resolve the tag to its digest, for `:digest` markers and `name:tag@digest` refs.',
          },
          ...gateProperties,
          autoMerge: {
            type: 'boolean',
            description:
              "Auto-merge this policy's PRs (overrides update.autoMerge levels); never during a freeze.",
          },
        },
      },
    },
    update: {
      type: 'object',
      additionalProperties: false,
      properties: {
        strategy: {
          type: 'string',
          enum: ['pull-request', 'push'],
          default: 'pull-request',
          description: 'Open PRs, or commit to `branch`.',
        },
        branch: {
          type: 'string',
          minLength: 1,
          description:
            'push: the branch to commit to (default: the default branch). pull-request with group all: the PR branch.',
        },
        path: { type: 'string', default: '.', description: 'Only files under this path are rewritten.' },
        scanExtensions: {
          type: 'array',
          items: { type: 'string', pattern: '^\\.' },
          default: ['.gotmpl', '.tpl'],
          description:
            'Extensions scanned besides *.yaml, *.yml and Kustomization (template files get a line-level rewrite).',
        },
        group: {
          type: 'string',
          enum: ['per-policy', 'all'],
          default: 'per-policy',
          description: 'One PR per policy, or one for all.',
        },
        labels: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'Labels added to new PRs.',
        },
        labelsByLevel: {
          type: 'object',
          additionalProperties: false,
          description:
            'More labels for PRs whose bumps are all of one semver level (e.g. major: [breaking]).',
          properties: {
            major: { type: 'array', items: { type: 'string', minLength: 1 } },
            minor: { type: 'array', items: { type: 'string', minLength: 1 } },
            patch: { type: 'array', items: { type: 'string', minLength: 1 } },
          },
        },
        reviewers: {
          type: 'array',
          items: { type: 'string', pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$' },
          description: 'Users asked to review new PRs (CODEOWNERS are asked by GitHub as for any PR).',
        },
        teamReviewers: {
          type: 'array',
          items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
          description: 'Team slugs (of the repo owner organization) asked to review new PRs.',
        },
        assignees: {
          type: 'array',
          items: { type: 'string', pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$' },
          description: 'Users assigned to new PRs.',
        },
        draft: { type: 'boolean', default: false, description: 'Open PRs as drafts.' },
        autoMerge: {
          type: 'object',
          additionalProperties: false,
          description: 'Enable GitHub auto-merge on PRs whose bumps are all of these semver levels.',
          properties: { major: { type: 'boolean' }, minor: { type: 'boolean' }, patch: { type: 'boolean' } },
        },
        commitMessage: {
          type: 'string',
          minLength: 1,
          description:
            'Template with {policy} {image} {oldTag} {newTag} {digest} {changes}. Default `chore(deps): update {image} to {newTag}`.',
        },
        ...gateProperties,
        prConcurrentLimit: {
          type: 'integer',
          minimum: 1,
          description: 'At most this many tidemark PRs open at once; more wait (shown on the dashboard).',
        },
        prHourlyLimit: {
          type: 'integer',
          minimum: 1,
          description: 'At most this many new tidemark PRs per hour.',
        },
        author: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: { name: { type: 'string' }, email: { type: 'string', minLength: 3 } },
          description: 'Commit author for the git publisher.',
        },
      },
    },
    dashboard: {
      type: 'boolean',
      default: true,
      description:
        'Keep a "tidemark dashboard" issue: open PRs, held and ignored versions, what is blocked, with boxes that act.',
    },
    registries: {
      type: 'object',
      description:
        'Per registry host: credentials (names of environment variables, never the secrets), limits.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          credentials: {
            type: 'object',
            additionalProperties: false,
            properties: {
              usernameEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
              passwordEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
              tokenEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
            },
          },
          rateLimit: {
            type: 'object',
            additionalProperties: false,
            properties: {
              requestsPerSecond: { type: 'number', exclusiveMinimum: 0 },
              concurrency: { type: 'integer', minimum: 1 },
            },
          },
          insecure: { type: 'boolean', description: 'Plain HTTP (for registries on a private network).' },
        },
      },
    },
  },
} as const;

/**
 * The `spec` of Flux's image.toolkit.fluxcd.io ImagePolicy and ImageRepository (v1beta1, v1beta2, v1): the
 * fields a manifest may carry, so a typo (`filtertags`) is an error with "did you mean" instead of a silently
 * different policy. Fields tidemark does not act on yet (interval, secretRef, …; `provider` selects cloud identity) are accepted.
 */
export const FLUX_IMAGE_POLICY_SPEC_SCHEMA = {
  type: 'object',
  properties: {
    imageRepositoryRef: { type: 'object', description: 'The ImageRepository: `name`, optional `namespace`.' },
    policy: { type: 'object', description: 'One of semver, alphabetical, numerical.' },
    filterTags: { type: 'object', description: '`pattern` (RE2) and `extract` (Go Regexp.Expand template).' },
    digestReflectionPolicy: { type: 'string', enum: ['Never', 'IfNotPresent', 'Always'] },
    interval: { type: 'string', description: 'Flux reconciles on it; tidemark reacts to events instead.' },
    suspend: { type: 'boolean' },
  },
} as const;

export const FLUX_IMAGE_REPOSITORY_SPEC_SCHEMA = {
  type: 'object',
  properties: {
    image: { type: 'string' },
    interval: { type: 'string' },
    timeout: { type: 'string' },
    secretRef: { type: 'object' },
    serviceAccountName: { type: 'string' },
    certSecretRef: { type: 'object' },
    proxySecretRef: { type: 'object' },
    accessFrom: { type: 'object' },
    suspend: { type: 'boolean' },
    exclusionList: { type: 'array', items: { type: 'string' } },
    provider: { type: 'string', enum: ['generic', 'aws', 'azure', 'gcp'] },
    insecure: { type: 'boolean' },
  },
} as const;

/**
 * The `spec` of Flux's ImageUpdateAutomation (image.toolkit.fluxcd.io v1beta1, v1beta2, v1), nested as Flux
 * nests it, so a typo at any level (`pushh`, `update.paht`) is reported with "did you mean".
 */
export const FLUX_IMAGE_UPDATE_AUTOMATION_SPEC_SCHEMA = {
  type: 'object',
  properties: {
    interval: { type: 'string' },
    suspend: { type: 'boolean' },
    sourceRef: { type: 'object', properties: { kind: {}, name: {}, namespace: {}, apiVersion: {} } },
    policySelector: { type: 'object', properties: { matchLabels: {}, matchExpressions: {} } },
    git: {
      type: 'object',
      properties: {
        checkout: {
          type: 'object',
          properties: {
            ref: { type: 'object', properties: { branch: {}, tag: {}, semver: {}, name: {}, commit: {} } },
          },
        },
        commit: {
          type: 'object',
          properties: {
            author: { type: 'object', properties: { name: {}, email: {} } },
            messageTemplate: {},
            messageTemplateValues: {},
            signingKey: {},
          },
        },
        push: { type: 'object', properties: { branch: {}, refspec: {}, options: {} } },
      },
    },
    update: { type: 'object', properties: { path: {}, strategy: {} } },
  },
} as const;
