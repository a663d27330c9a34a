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
import { ENDPOINT_SCHEMA } from '../core/config/endpoints-schema.js';
import { didYouMean } from '../core/domain/did-you-mean.js';
import { REGISTRY_PROVIDERS, type RegistryProvider } from '../core/domain/types.js';
import { AppConfigError } from '../core/errors.js';
import type { RegistryEndpointConfig } from '../intake/registry-endpoint.js';

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
  for (const [i, e] of (list as Record<string, unknown>[]).entries()) {
    const at = `${source}: endpoints[${i}]`;
    const id = typeof e === 'object' && e !== null ? e.id : undefined;
    let problem: string | undefined;
    if (typeof e !== 'object' || e === null) problem = `${at}: expected an object`;
    else if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
      problem = `${at}.id: letters, digits, _ and - only`;
    else if (ids.has(id)) problem = `${at}.id: "${id}" is used twice`;
    else if (!REGISTRY_PROVIDERS.includes(e.provider as RegistryProvider)) {
      problem = `${at}.provider: one of ${REGISTRY_PROVIDERS.join(', ')}`;
    }
    if (problem !== undefined || typeof id !== 'string') {
      problems.push(problem ?? `${at}: invalid`);
      continue;
    }
    ids.add(id);
    problems.push(...schemaProblems(e, at));
    if (!Array.isArray(e.allowedImages) || e.allowedImages.length === 0)
      problems.push(
        `${at}.allowedImages: required, so a leaked URL or secret cannot trigger bumps for other images; list image prefixes such as ["ghcr.io/acme/"], or write ["*"] to accept every image`,
      );
    const secrets: string[] = [];
    if (Array.isArray(e.secrets))
      secrets.push(...e.secrets.filter((s): s is string => typeof s === 'string'));
    for (const name of Array.isArray(e.secretsEnv)
      ? e.secretsEnv
      : typeof e.secretsEnv === 'string'
        ? [e.secretsEnv]
        : []) {
      const v = env[String(name)];
      if (v) secrets.push(v);
      else problems.push(`${at}.secretsEnv: environment variable ${String(name)} is not set`);
    }
    if (secrets.length === 0 && e.provider !== 'gar') problems.push(`${at}: no secret (set secretsEnv)`);
    endpoints.push({
      id,
      provider: e.provider as RegistryProvider,
      secrets,
      ...(typeof e.auth === 'object' &&
        e.auth !== null && { auth: e.auth as RegistryEndpointConfig['auth'] }),
      ...(Array.isArray(e.allowedImages) && { allowedImages: e.allowedImages.map(String) }),
      ...(typeof e.hostMap === 'object' &&
        e.hostMap !== null && { hostMap: e.hostMap as Record<string, string> }),
    });
  }
  return { endpoints, problems };
}

let validate: ValidateFunction | undefined;

/**
 * What the schema says about one endpoint, beyond the checks above (id, provider, allowedImages have their own
 * messages): unknown fields with "did you mean" over the fields allowed at that place, wrong types in `auth`
 * and `hostMap`.
 */
function schemaProblems(e: Record<string, unknown>, at: string): string[] {
  validate ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(ENDPOINT_SCHEMA);
  if (validate(e)) return [];
  const out: string[] = [];
  for (const err of validate.errors ?? []) {
    const path = err.instancePath.split('/').slice(1).join('.');
    const field = path.split('.')[0] ?? '';
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
  return [...new Set(out)];
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
