/**
 * Registry webhook endpoints (`TIDEMARK_REGISTRY_ENDPOINTS` file or `TIDEMARK_REGISTRY_ENDPOINTS_JSON`):
 *
 *   endpoints:
 *     - id: harbor-prod
 *       provider: harbor
 *       secretsEnv: [HARBOR_WEBHOOK_SECRET, HARBOR_WEBHOOK_SECRET_OLD]   # or secrets: [...] (not recommended)
 *       allowedImages: [harbor.example.com/platform/]
 *       hostMap: { "harbor.internal:8080": harbor.example.com }
 *       auth: { header: authorization, signing: true, oidc: { audience: …, email: … } }
 *
 * Secrets come from the environment by name, so the file itself can be a ConfigMap. The file may also be a
 * bare list of endpoints, or one endpoint object (as docs/registries.md shows them). Unknown fields are refused
 * with "did you mean", and every endpoint needs `allowedImages` (`["*"]` accepts every image, explicitly).
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { ENDPOINT_SCHEMA, type EndpointInput } from '../core/config/endpoints-schema.js';
import { didYouMean } from '../core/domain/did-you-mean.js';
import { AppConfigError } from '../core/errors.js';
import type { RegistryEndpointConfig } from '../intake/registry-endpoint.js';

/** An endpoint's fields that passed the schema: its raw type (from the schema), any field possibly missing. */
type EndpointFields = Pick<EndpointInput, 'id' | 'provider'> & Partial<EndpointInput>;

export function parseEndpoints(
  text: string,
  env: Record<string, string | undefined>,
  source: string,
): { endpoints: RegistryEndpointConfig[]; problems: string[] } {
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    return {
      endpoints: [],
      problems: [`${source}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`],
    };
  }
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null && 'endpoints' in raw
      ? (raw as { endpoints?: unknown }).endpoints
      : typeof raw === 'object' && raw !== null && 'id' in raw
        ? [raw]
        : undefined;
  if (!Array.isArray(list))
    return {
      endpoints: [],
      problems: [
        `${source}: expected "endpoints:" with a list of endpoints (or a list, or one endpoint object)`,
      ],
    };
  const endpoints: RegistryEndpointConfig[] = [];
  const ids = new Set<string>();
  const idPattern = new RegExp(ENDPOINT_SCHEMA.properties.id.pattern);
  const providers: readonly string[] = ENDPOINT_SCHEMA.properties.provider.enum;
  for (const [i, e] of (list as unknown[]).entries()) {
    const at = `${source}: endpoints[${i}]`;
    // id and provider first, in their own words: an endpoint without them cannot be checked further.
    const fields =
      typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : undefined;
    const id = fields?.id;
    const provider = fields?.provider;
    let problem: string | undefined;
    if (fields === undefined) problem = `${at}: expected an object`;
    else if (typeof id !== 'string' || !idPattern.test(id))
      problem = `${at}.id: letters, digits, _ and - only`;
    else if (ids.has(id)) problem = `${at}.id: "${id}" is used twice`;
    else if (typeof provider !== 'string' || !providers.includes(provider))
      problem = `${at}.provider: one of ${providers.join(', ')}`;
    if (problem !== undefined || fields === undefined || typeof id !== 'string') {
      problems.push(problem ?? `${at}: invalid`);
      continue;
    }
    ids.add(id);
    const checked = checkEndpoint(fields, at);
    problems.push(...checked.problems);
    const input = checked.input;
    const written = fields.allowedImages;
    if (!input.allowedImages)
      problems.push(
        written === undefined || (Array.isArray(written) && written.length === 0)
          ? `${at}.allowedImages: required, so a leaked URL or secret cannot trigger bumps for other images; list image prefixes such as ["ghcr.io/acme/"], or write ["*"] to accept every image`
          : `${at}.allowedImages: expected a list of image prefixes such as ["ghcr.io/acme/"], or ["*"] to accept every image`,
      );
    const secrets = [...(input.secrets ?? [])];
    for (const name of typeof input.secretsEnv === 'string' ? [input.secretsEnv] : (input.secretsEnv ?? [])) {
      const v = env[name];
      if (v) secrets.push(v);
      else problems.push(`${at}.secretsEnv: environment variable ${name} is not set`);
    }
    if (secrets.length === 0 && input.provider !== 'gar') problems.push(`${at}: no secret (set secretsEnv)`);
    endpoints.push({
      id,
      provider: input.provider,
      secrets,
      ...(input.auth && { auth: input.auth }),
      ...(input.allowedImages && { allowedImages: input.allowedImages }),
      ...(input.hostMap && { hostMap: input.hostMap }),
    });
  }
  return { endpoints, problems };
}

let validate: ValidateFunction<EndpointInput> | undefined;

/**
 * The schema's problems with one endpoint, beyond the checks above (id, provider, allowedImages have their own
 * messages): unknown fields with "did you mean" over the fields allowed at that place, wrong types in `auth`
 * and `hostMap`. And the endpoint's fields that passed, typed by the schema: a field with a problem is left
 * out, so the rest of the endpoint is still checked and every problem listed at once.
 */
function checkEndpoint(
  e: Record<string, unknown>,
  at: string,
): { problems: string[]; input: EndpointFields } {
  validate ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile<EndpointInput>(
    ENDPOINT_SCHEMA,
  );
  if (validate(e)) return { problems: [], input: e };
  const out: string[] = [];
  const failed = new Set<string>();
  for (const err of validate.errors ?? []) {
    const path = err.instancePath.split('/').slice(1).join('.');
    const field = path.split('.')[0] ?? '';
    if (field !== '') failed.add(field);
    if (err.keyword === 'additionalProperties' && path === '')
      failed.add(String((err.params as { additionalProperty: string }).additionalProperty));
    if (['id', 'provider', 'allowedImages'].includes(field) || (err.keyword === 'required' && path === ''))
      continue;
    if (err.keyword === 'additionalProperties') {
      const prop = String((err.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = didYouMean(prop, known);
      out.push(
        `${at}.${path ? `${path}.` : ''}${prop}: unknown field${hint ? `; did you mean "${hint}"?` : known.length > 0 ? `; known fields: ${known.join(', ')}` : ''}`,
      );
    } else if (err.keyword === 'required') {
      out.push(
        `${at}.${path ? `${path}.` : ''}${String((err.params as { missingProperty: string }).missingProperty)}: required`,
      );
    } else if (err.keyword !== 'anyOf') {
      out.push(`${at}.${path}: ${err.message ?? 'invalid'}`);
    }
  }
  // Every field left passed its own schema, and id and provider were checked above; only a required field
  // (allowedImages) may be missing.
  const input = Object.fromEntries(Object.entries(e).filter(([k]) => !failed.has(k))) as EndpointFields;
  return { problems: [...new Set(out)], input };
}

/**
 * The endpoints the operator configured (`TIDEMARK_REGISTRY_ENDPOINTS_JSON`, else the file
 * `TIDEMARK_REGISTRY_ENDPOINTS`; none when neither is set). Throws AppConfigError listing every problem.
 */
export async function loadEndpoints(
  settings: { readonly registryEndpointsJson?: string; readonly registryEndpointsFile?: string },
  env: Record<string, string | undefined>,
): Promise<RegistryEndpointConfig[]> {
  const file = settings.registryEndpointsFile;
  const text =
    settings.registryEndpointsJson ??
    (file
      ? await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new AppConfigError(
            `TIDEMARK_REGISTRY_ENDPOINTS: cannot read ${file} (${err.code ?? err.message}); point it at the endpoints file, or unset it to run without registry webhooks`,
          );
        })
      : undefined);
  if (!text) return [];
  const parsed = parseEndpoints(text, env, file ?? 'TIDEMARK_REGISTRY_ENDPOINTS_JSON');
  if (parsed.problems.length > 0) throw new AppConfigError(parsed.problems.join('\n'));
  return parsed.endpoints;
}
