import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseEndpoints } from '../../src/config/endpoints.js';
import { ENDPOINTS_FILE_SCHEMA } from '../../src/core/config/endpoints-schema.js';
import { imageAllowed } from '../../src/intake/registry-endpoint.js';

const env = { HUB_SECRET: 's3cret' };
const parse = (text: string) => parseEndpoints(text, env, 'endpoints.yaml');

describe('registry endpoints file', () => {
  it('the documented shape: endpoints with secretsEnv and allowedImages', () => {
    const r = parse(
      'endpoints:\n  - id: hub\n    provider: dockerhub\n    secretsEnv: [HUB_SECRET]\n    allowedImages: [docker.io/acme/]\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.endpoints).toEqual([
      { id: 'hub', provider: 'dockerhub', secrets: ['s3cret'], allowedImages: ['docker.io/acme/'] },
    ]);
  });

  it('also a bare list, or one endpoint object as docs/registries.md shows them', () => {
    const one =
      '{ "id": "hub", "provider": "dockerhub", "secrets": ["x"], "allowedImages": ["docker.io/acme/"] }';
    expect(parse(one).problems).toEqual([]);
    expect(parse(`[${one}]`).endpoints).toHaveLength(1);
  });

  it.each([
    ['allowedImage', 'allowedImages'],
    ['hostmap', 'hostMap'],
    ['secretEnv', 'secretsEnv'],
  ])('a typo (%s) is refused with "did you mean %s"', (typo, meant) => {
    const r = parse(
      `endpoints:\n  - id: hub\n    provider: dockerhub\n    secrets: [x]\n    allowedImages: ["*"]\n    ${typo}: []\n`,
    );
    expect(r.problems).toContain(
      `endpoints.yaml: endpoints[0].${typo}: unknown field; did you mean "${meant}"?`,
    );
  });

  it('an endpoint without allowedImages is refused; ["*"] accepts every image, explicitly', () => {
    const r = parse('endpoints:\n  - id: hub\n    provider: dockerhub\n    secrets: [x]\n');
    expect(r.problems).toEqual([
      expect.stringMatching(/^endpoints\.yaml: endpoints\[0\]\.allowedImages: required, .*\["\*"\]/),
    ]);
    expect(imageAllowed('ghcr.io/anyone/anything', ['*'])).toBe(true);
    expect(imageAllowed('ghcr.io/anyone/anything', ['docker.io/acme/'])).toBe(false);
  });

  it('allowedImages that is not a list of prefixes says what to write', () => {
    const r = parse(
      'endpoints:\n  - id: hub\n    provider: dockerhub\n    secrets: [x]\n    allowedImages: [1]\n',
    );
    expect(r.problems).toEqual([
      'endpoints.yaml: endpoints[0].allowedImages: expected a list of image prefixes such as ["ghcr.io/acme/"], or ["*"] to accept every image',
    ]);
  });

  it('every problem of an endpoint at once: a field with a problem does not hide the others', () => {
    const r = parse(
      'endpoints:\n  - id: hub\n    provider: dockerhub\n    secretsEnv: [UNSET_SECRET]\n    allowedImages: ["*"]\n    hostMap: { a: 1 }\n    auth: { heder: x }\n',
    );
    expect(r.problems).toEqual([
      'endpoints.yaml: endpoints[0].hostMap.a: must be string',
      'endpoints.yaml: endpoints[0].auth.heder: unknown field; did you mean "header"?',
      'endpoints.yaml: endpoints[0].secretsEnv: environment variable UNSET_SECRET is not set',
      'endpoints.yaml: endpoints[0]: no secret (set secretsEnv)',
    ]);
  });

  it('the fields the schema allows reach the loaded endpoint as written', () => {
    const r = parse(
      'endpoints:\n  - id: gar\n    provider: gar\n    allowedImages: [europe-docker.pkg.dev/acme/]\n    hostMap: { "a:5000": b }\n    auth: { oidc: { audience: https://tidemark/registry/gar/gar, email: push@acme.iam.gserviceaccount.com } }\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.endpoints).toEqual([
      {
        id: 'gar',
        provider: 'gar',
        secrets: [],
        auth: {
          oidc: { audience: 'https://tidemark/registry/gar/gar', email: 'push@acme.iam.gserviceaccount.com' },
        },
        allowedImages: ['europe-docker.pkg.dev/acme/'],
        hostMap: { 'a:5000': 'b' },
      },
    ]);
  });

  it('an endpoint that is not an object, or has no id or provider, is named and skipped', () => {
    const r = parse(
      'endpoints:\n  - [hub]\n  - { id: "a b", provider: dockerhub }\n  - { id: hub, provider: dockrhub }\n',
    );
    expect(r.endpoints).toEqual([]);
    expect(r.problems).toEqual([
      'endpoints.yaml: endpoints[0]: expected an object',
      'endpoints.yaml: endpoints[1].id: letters, digits, _ and - only',
      expect.stringMatching(/^endpoints\.yaml: endpoints\[2\]\.provider: one of dockerhub, /),
    ]);
  });

  it('not YAML, or no endpoints at all: one problem naming the file', () => {
    expect(parse('endpoints: [').problems[0]).toMatch(/^endpoints\.yaml: not valid YAML\/JSON/);
    expect(parse('hello: 1').problems).toEqual([
      'endpoints.yaml: expected "endpoints:" with a list of endpoints (or a list, or one endpoint object)',
    ]);
  });
});

describe('the endpoints files the docs show', () => {
  const blocks = (file: string) =>
    [
      ...readFileSync(join(import.meta.dirname, '..', '..', file), 'utf8').matchAll(
        /```yaml\n(endpoints:\n[\s\S]*?)```/g,
      ),
    ].map((m) => m[1]!);
  const env = new Proxy({} as Record<string, string>, {
    get: (_t, k) => (typeof k === 'string' ? `secret-of-${k}` : undefined),
  });

  it.each([
    ...blocks('docs/registries.md').map((b) => ['docs/registries.md', b] as const),
    ...blocks('README.md').map((b) => ['README.md', b] as const),
  ])('%s: %s is accepted as written', (_file, text) => {
    const r = parseEndpoints(text, env, 'endpoints.yaml');
    expect(r.problems).toEqual([]);
    expect(r.endpoints.length).toBeGreaterThan(0);
  });

  it('there is one such example per registry section and one in the README', () => {
    expect(blocks('docs/registries.md').length).toBeGreaterThanOrEqual(12);
    expect(blocks('README.md').length).toBe(1);
  });
});

describe('the endpoints schema is the one source', () => {
  it.each([
    [
      'auth:\n      heder: X-Token',
      'endpoints.yaml: endpoints[0].auth.heder: unknown field; did you mean "header"?',
    ],
    ['auth:\n      oidc: { audience: a }', 'endpoints.yaml: endpoints[0].auth.oidc.email: required'],
    ['hostMap: { "a:5000": 42 }', 'endpoints.yaml: endpoints[0].hostMap.a:5000: must be string'],
    ['auth: { signing: "no" }', 'endpoints.yaml: endpoints[0].auth.signing: must be boolean'],
  ])('%s → %s', (extra, problem) => {
    const r = parse(
      `endpoints:\n  - id: hub\n    provider: dockerhub\n    secrets: [x]\n    allowedImages: ["*"]\n    ${extra}\n`,
    );
    expect(r.problems).toContain(problem);
  });

  it('policies/endpoints.schema.json is the published copy (regenerate: npx tsx scripts/write-schema.ts)', () => {
    const published = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'policies', 'endpoints.schema.json'), 'utf8'),
    );
    expect(published).toEqual(JSON.parse(JSON.stringify(ENDPOINTS_FILE_SCHEMA)));
  });

  it('every endpoints example in the docs is valid against the published schema', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(ENDPOINTS_FILE_SCHEMA);
    const text = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'registries.md'), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n(endpoints:\n[\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks) expect(validate(parseYaml(b)), JSON.stringify(validate.errors)).toBe(true);
  });
});
