/**
 * Validates REST requests against GitHub's published OpenAPI description (`@octokit/openapi`, only the
 * api.github.com file, loaded once per process) and GraphQL documents against GitHub's published schema.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { schema as githubGraphqlSchema } from '@octokit/graphql-schema';
import { Ajv, type ValidateFunction } from 'ajv';
import { buildSchema, type GraphQLSchema, parse, validate } from 'graphql';

const require = createRequire(import.meta.url);

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly re: RegExp;
  readonly specificity: number;
  readonly op: {
    parameters?: { in: string; name: string; required?: boolean; schema?: object; $ref?: string }[];
    requestBody?: { required?: boolean; content?: Record<string, { schema?: object }> };
  };
}

let cached:
  | {
      spec: {
        paths: Record<string, Record<string, Operation['op']>>;
        components: { parameters: Record<string, unknown> };
      };
      ops: Operation[];
      ajv: Ajv;
    }
  | undefined;

function load() {
  if (cached) return cached;
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  // OpenAPI 3.0's `nullable` needs a `type` beside it for ajv; a few schemas (e.g. an issue's `title`, a oneOf)
  // have none. Such a `nullable` only admits null as well: ajv gets it as an explicit `anyOf` with null.
  const fixNullable = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) fixNullable(n);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    if (o.nullable === true && o.type === undefined) {
      delete o.nullable;
      const copy = { ...o };
      for (const k of Object.keys(o)) if (k !== 'description') delete o[k];
      o.anyOf = [copy, { type: 'null' }];
    }
    for (const v of Object.values(o)) fixNullable(v);
  };
  fixNullable(spec);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(spec, 'gh');
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(
    spec.paths as Record<string, Record<string, Operation['op']>>,
  )) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      ops.push({
        method: method.toUpperCase(),
        template,
        re,
        specificity: template.replace(/\{[^}]+\}/g, '').length,
        op,
      });
    }
  }
  ops.sort((a, b) => b.specificity - a.specificity);
  cached = { spec, ops, ajv };
  return cached;
}

const compiled = new Map<string, ValidateFunction>();
function compile(ref: string): ValidateFunction {
  let v = compiled.get(ref);
  if (!v) {
    v = load().ajv.compile({ $ref: ref });
    compiled.set(ref, v);
  }
  return v;
}

const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Returns a list of problems; empty means the request is one GitHub documents. */
export function validateRest(
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): { template?: string; problems: string[] } {
  const { ops, spec } = load();
  const op = ops.find((o) => o.method === method && o.re.test(path));
  if (!op) return { problems: [`${method} ${path}: no such operation in GitHub's OpenAPI description`] };
  const problems: string[] = [];
  const base = `gh#/paths/${esc(op.template)}/${method.toLowerCase()}`;
  (op.op.parameters ?? []).forEach((p, i) => {
    const param = p.$ref ? (spec.components.parameters[p.$ref.split('/').pop()!] as typeof p) : p;
    if (param.in !== 'query') return;
    const raw = query.get(param.name);
    if (raw === null) {
      if (param.required) problems.push(`query ${param.name}: required`);
      return;
    }
    const schemaRef = p.$ref
      ? `gh#/components/parameters/${esc(p.$ref.split('/').pop()!)}/schema`
      : `${base}/parameters/${i}/schema`;
    const v = compile(schemaRef);
    const type = (param.schema as { type?: string } | undefined)?.type;
    const value =
      type === 'integer' || type === 'number' ? Number(raw) : type === 'boolean' ? raw === 'true' : raw;
    if (!v(value))
      problems.push(
        `query ${param.name}=${raw}: ${v.errors?.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`,
      );
  });
  for (const key of query.keys()) {
    const known = (op.op.parameters ?? []).some((p) => {
      const param = p.$ref ? (spec.components.parameters[p.$ref.split('/').pop()!] as typeof p) : p;
      return param.in === 'query' && param.name === key;
    });
    if (!known) problems.push(`query ${key}: not a parameter of ${method} ${op.template}`);
  }
  const rb = op.op.requestBody;
  if (rb?.content?.['application/json']?.schema) {
    if (body === undefined) {
      if (rb.required) problems.push('body: required');
    } else {
      const v = compile(`${base}/requestBody/content/application~1json/schema`);
      if (!v(body)) problems.push(...(v.errors ?? []).map((e) => `body${e.instancePath} ${e.message}`));
    }
  }
  return { template: op.template, problems };
}

let gqlSchema: GraphQLSchema | undefined;
export function validateGraphql(query: string): string[] {
  if (!gqlSchema) gqlSchema = buildSchema(githubGraphqlSchema.idl, { assumeValidSDL: true });
  try {
    return validate(gqlSchema, parse(query)).map((e) => e.message);
  } catch (err) {
    return [(err as Error).message];
  }
}
