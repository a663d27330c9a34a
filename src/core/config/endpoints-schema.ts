/**
 * JSON Schema of the registry endpoints file (`TIDEMARK_REGISTRY_ENDPOINTS`). The one source of its fields:
 * the loader validates each endpoint against it (unknown fields get "did you mean" over the fields allowed at
 * that place), and it is published as `policies/endpoints.schema.json` for editors:
 *   # yaml-language-server: $schema=https://raw.githubusercontent.com/tidemark-dev/tidemark/main/policies/endpoints.schema.json
 * The raw types of the file (`EndpointInput`, `EndpointsFile`) are derived from it with json-schema-to-ts; the
 * loaded endpoint (`RegistryEndpointConfig`, secrets resolved) is the normalized type, written by hand.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { REGISTRY_PROVIDERS } from '../domain/types.js';

const strings = { type: 'array', items: { type: 'string' } } as const;

export const ENDPOINT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'provider', 'allowedImages'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: 'The last segment of the URL: POST /registry/<provider>/<id>.',
    },
    provider: { type: 'string', enum: [...REGISTRY_PROVIDERS] },
    secretsEnv: {
      anyOf: [{ type: 'string' }, strings],
      description: 'Names of environment variables holding the secret (two during a rotation). Recommended.',
    },
    secrets: { ...strings, description: 'Inline secrets (not recommended: the file then holds secrets).' },
    allowedImages: {
      ...strings,
      minItems: 1,
      description: 'Image prefixes this endpoint may report (`ghcr.io/acme/`); `["*"]` accepts every image.',
    },
    hostMap: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Host (or Nexus repository, JFrog repo key) in the payload → the public image host.',
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        header: { type: 'string', description: 'ACR, Distribution, ECR: the header carrying the secret.' },
        signing: { type: 'boolean', description: 'JFrog: HMAC-SHA256 of the body (true, default) or plain.' },
        oidc: {
          type: 'object',
          additionalProperties: false,
          required: ['audience', 'email'],
          properties: { audience: { type: 'string' }, email: { type: 'string' } },
          description: 'GAR (Pub/Sub push): the token audience and the subscription service account.',
        },
      },
    },
  },
} as const;

export const ENDPOINTS_FILE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://raw.githubusercontent.com/tidemark-dev/tidemark/main/policies/endpoints.schema.json',
  title: 'tidemark registry webhook endpoints (TIDEMARK_REGISTRY_ENDPOINTS)',
  type: 'object',
  additionalProperties: false,
  required: ['endpoints'],
  properties: { endpoints: { type: 'array', items: ENDPOINT_SCHEMA } },
} as const;

/** One endpoint as written in the file, once it passes the schema. */
export type EndpointInput = FromSchema<typeof ENDPOINT_SCHEMA>;
/** The file's `endpoints:` form as written, once it passes the schema. */
export type EndpointsFile = FromSchema<typeof ENDPOINTS_FILE_SCHEMA>;
