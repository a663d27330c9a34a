import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_VALIDATOR_PATH, nativeValidatorModule } from '../../scripts/native-validator.js';
import { formatProblem, loadRepoConfig } from '../../src/core/config/repo-config.js';
import { TIDEMARK_CONFIG_SCHEMA } from '../../src/core/config/schema.js';

const f = (path: string, text: string) => ({ path, text });

const repo = (
  name: string,
  ns: string | undefined,
  image: string,
  dir: string,
  policy = 'semver:\n      range: ">=1.0.0"',
) =>
  f(
    `${dir}/image-automation.yaml`,
    `apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: ${name}${ns ? `\n  namespace: ${ns}` : ''}
spec:
  image: ${image}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: ${name}${ns ? `\n  namespace: ${ns}` : ''}
spec:
  imageRepositoryRef:
    name: ${name}
  policy:
    ${policy}
`,
  );

describe('Flux manifests', () => {
  it('finds policies across folders and resolves namespaces: metadata, nearest kustomization, default', () => {
    const { config, errors } = loadRepoConfig([
      repo('web', 'apps', 'ghcr.io/acme/web', 'clusters/prod'),
      repo('api', undefined, 'ghcr.io/acme/api', 'teams/backend/api'),
      f('teams/backend/kustomization.yaml', 'namespace: backend\nresources: [api]\n'),
      repo('tool', undefined, 'docker.io/acme/tool', 'tools'),
    ]);
    expect(errors).toEqual([]);
    expect(config.policies.map((p) => `${p.namespace}:${p.name} ${p.image}`).sort()).toEqual([
      'apps:web ghcr.io/acme/web',
      'backend:api ghcr.io/acme/api',
      'flux-system:tool docker.io/acme/tool',
    ]);
    expect(config.policies.find((p) => p.name === 'web')?.source).toEqual({
      kind: 'flux',
      file: 'clusters/prod/image-automation.yaml',
      line: 9,
    });
  });

  it('a policy whose ImageRepository is missing is an error naming the file and line; the others still load', () => {
    const { config, errors } = loadRepoConfig([
      repo('web', 'apps', 'ghcr.io/acme/web', 'a'),
      f(
        'b/policy.yaml',
        'apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: lost\nspec:\n  imageRepositoryRef:\n    name: nowhere\n  policy:\n    semver:\n      range: "1.x"\n',
      ),
    ]);
    expect(config.policies.map((p) => p.name)).toEqual(['web']);
    expect(errors.map((e) => e.text)).toEqual([
      'b/policy.yaml:7: ImagePolicy flux-system/lost spec.imageRepositoryRef: ImageRepository "flux-system/nowhere" was not found in the repository; add it or fix the reference',
    ]);
  });

  it('an invalid range is reported precisely', () => {
    const { errors } = loadRepoConfig([
      repo('web', 'apps', 'ghcr.io/acme/web', 'a', 'semver:\n      range: "^1.x.y"'),
    ]);
    expect(errors.map((e) => e.text)).toEqual([
      'a/image-automation.yaml:19: ImagePolicy apps/web spec.policy.semver.range: invalid range "^1.x.y"',
    ]);
  });

  it('ImageUpdateAutomation supplies path, author and push branch (a different branch means PRs)', () => {
    const auto = f(
      'clusters/prod/automation.yaml',
      `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: { name: auto, namespace: flux-system }
spec:
  git:
    checkout: { ref: { branch: main } }
    commit:
      author: { name: fluxbot, email: flux@example.com }
      messageTemplate: "{{range .Changed.Changes}}{{end}}"
    push: { branch: image-updates }
  update: { path: ./clusters/prod, strategy: Setters }
`,
    );
    const { config, warnings } = loadRepoConfig([auto]);
    expect(config.update).toMatchObject({
      strategy: 'pull-request',
      branch: 'image-updates',
      path: './clusters/prod',
      author: { name: 'fluxbot', email: 'flux@example.com' },
      // Flux pushes all the automation's changes in one commit to push.branch: one PR from that branch.
      group: 'all',
    });
    expect(warnings.map((w) => w.code)).toEqual(['message-template-ignored']);
    expect(warnings[0]?.message).toContain('spec.git.commit.messageTemplate');
  });

  it('every ImageUpdateAutomation counts: its path, push branch, author and the policies it selects', () => {
    const doc = (name: string, path: string, extra = '') =>
      `apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: { name: ${name}, namespace: flux-system }\nspec:\n  git:\n    checkout: { ref: { branch: main } }\n    push: { branch: flux/${name} }\n  update: { path: ${path} }\n${extra}`;
    const policy = (name: string, labels: string) =>
      `---\napiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: { name: ${name}, namespace: flux-system, labels: ${labels} }\nspec:\n  imageRepositoryRef: { name: repo }\n  policy: { semver: { range: ">=1.0.0" } }\n`;
    const { config, warnings } = loadRepoConfig([
      f(
        'clusters/prod/auto.yaml',
        doc('prod', './clusters/prod', '  policySelector:\n    matchLabels: { env: prod }\n'),
      ),
      f(
        'clusters/staging/auto.yaml',
        doc(
          'staging',
          './clusters/staging',
          '  policySelector:\n    matchExpressions:\n      - { key: env, operator: In, values: [staging, dev] }\n',
        ),
      ),
      f(
        'flux/policies.yaml',
        `apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata: { name: repo, namespace: flux-system }\nspec: { image: ghcr.io/acme/app }\n${policy('app-prod', '{ env: prod }')}${policy('app-staging', '{ env: staging }')}${policy('app-lost', '{ env: qa }')}`,
      ),
    ]);
    expect(config.update).toMatchObject({ strategy: 'pull-request', path: './clusters', group: 'all' });
    expect(config.automations?.map((a) => [a.id, a.path, a.pushBranch, a.policies])).toEqual([
      ['flux-system/prod', './clusters/prod', 'flux/prod', ['flux-system:app-prod']],
      ['flux-system/staging', './clusters/staging', 'flux/staging', ['flux-system:app-staging']],
    ]);
    expect(warnings.map((w) => w.code)).toEqual(['policy-unselected']);
    expect(warnings[0]?.message).toContain(
      'flux-system:app-lost: no ImageUpdateAutomation selects this policy',
    );
  });

  it('a bad policySelector is a configuration error naming the automation', () => {
    const { errors } = loadRepoConfig([
      f(
        'auto.yaml',
        'apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: { name: a }\nspec:\n  policySelector:\n    matchExpressions:\n      - { key: env, operator: Equals }\n',
      ),
    ]);
    expect(errors.map((e) => e.text)).toEqual([
      'auto.yaml:7: ImageUpdateAutomation flux-system/a spec.policySelector.matchExpressions[0]: expected { key, operator: In | NotIn | Exists | DoesNotExist, values }',
    ]);
  });

  it('push branch equal to the checkout branch means push mode', () => {
    const auto = f(
      'a.yaml',
      'apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageUpdateAutomation\nmetadata: {name: a}\nspec:\n  git:\n    checkout: {ref: {branch: main}}\n    push: {branch: main}\n',
    );
    expect(loadRepoConfig([auto]).config.update.strategy).toBe('push');
  });
});

describe('.github/tidemark.yml', () => {
  const native = (text: string) => loadRepoConfig([f('.github/tidemark.yml', text)]);

  it('loads native policies and update settings', () => {
    const { config, errors } = native(`defaultNamespace: apps
policies:
  - name: web
    image: ghcr.io/acme/web
    policy: { semver: { range: ^1.2 } }
  - name: backend
    namespace: backend
    image: registry.example.com/acme/backend
    filterTags: { pattern: '^production-(?P<n>\\d+)$', extract: '$n' }
    policy: { numerical: { order: asc } }
update:
  strategy: push
  group: all
  labels: [dependencies]
`);
    expect(errors).toEqual([]);
    expect(config.policies.map((p) => `${p.namespace}:${p.name}`)).toEqual(['apps:web', 'backend:backend']);
    expect(config.update).toMatchObject({
      strategy: 'push',
      group: 'all',
      labels: ['dependencies'],
      path: '.',
    });
  });

  it.each([
    [
      'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    filtertags: {pattern: x}\n    policy: {semver: {range: "1"}}\n',
      '.github/tidemark.yml:4: policies[0].filtertags: unknown field; did you mean "filterTags"?',
    ],
    [
      'update:\n  stratgey: push\n',
      '.github/tidemark.yml:2: update.stratgey: unknown field; did you mean "strategy"?',
    ],
    [
      'update:\n  strategy: merge\n',
      '.github/tidemark.yml:2: update.strategy: expected one of "pull-request", "push"',
    ],
    [
      'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    policy: {semver: {range: "^1.x.y"}}\n',
      '.github/tidemark.yml:4: policies[0].policy.semver.range: invalid range "^1.x.y"',
    ],
    [
      'policies:\n  - name: web\n    image: ghcr.io/acme/web:1.0\n    policy: {alphabetical: {}}\n',
      '.github/tidemark.yml:3: policies[0].image: name the repository without a tag or digest ("ghcr.io/acme/web:1.0")',
    ],
    [
      'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    filterTags: {pattern: "(?=x)"}\n    policy: {alphabetical: {}}\n',
      '.github/tidemark.yml:4: policies[0].filterTags.pattern: invalid RE2 regular expression "(?=x)": invalid or unsupported Perl syntax: `(?=`',
    ],
    [
      'update:\n  path: ../other\n',
      '.github/tidemark.yml: update.path: "../other" must stay inside the repository',
    ],
    ['policies: [\n', null],
  ])('reports %j precisely', (text, expected) => {
    const { errors } = native(text);
    if (expected === null) expect(errors[0]?.text).toMatch(/^\.github\/tidemark\.yml:\d+: not valid YAML/);
    else expect(errors.map((e) => e.text)).toContain(expected);
  });

  it('a bad policy does not stop the good ones', () => {
    const { config, errors } = native(
      'policies:\n  - name: ok\n    image: ghcr.io/acme/ok\n    policy: {semver: {range: "1.x"}}\n  - name: bad\n    image: ghcr.io/acme/bad\n    policy: {semver: {range: "nope"}}\n',
    );
    expect(config.policies.map((p) => p.name)).toEqual(['ok']);
    expect(errors).toHaveLength(1);
  });

  it('the same key defined by Flux and native config is an error naming both places', () => {
    const { errors } = loadRepoConfig([
      repo('web', 'flux-system', 'ghcr.io/acme/web', 'a'),
      f(
        '.github/tidemark.yml',
        'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    policy: {semver: {range: "1.x"}}\n',
      ),
    ]);
    expect(errors.map(formatProblem)).toEqual([
      '.github/tidemark.yml:2: policy "flux-system:web" is defined twice (also at a/image-automation.yaml:9); rename one of them',
    ]);
  });

  it('policies/tidemark.schema.json is the published copy of the schema', () => {
    const published = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'policies', 'tidemark.schema.json'), 'utf8'),
    );
    expect(published).toEqual(TIDEMARK_CONFIG_SCHEMA);
  });

  it('the precompiled validator is compiled from the schema as it is now (npx tsx scripts/write-schema.ts)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', '..', NATIVE_VALIDATOR_PATH), 'utf8');
    expect(committed === nativeValidatorModule()).toBe(true);
  });

  it('a config with 100,000 unknown keys: the first 50 are named and the rest counted (bounded work, linear load)', () => {
    const text = `policies: []\n${Array.from({ length: 100_000 }, (_, i) => `k${i}: ${i}`).join('\n')}\n`;
    const { errors } = loadRepoConfig([{ path: '.github/tidemark.yml', text }]);
    expect(errors).toHaveLength(51);
    expect(errors[0]!.text).toBe('.github/tidemark.yml:2: k0: unknown field');
    expect(errors[50]!.text).toBe(
      '.github/tidemark.yml: and 99950 more problems like these (the first 50 are shown)',
    );
  });

  it('a key twice in one map is a YAML error with its line (found in one pass)', () => {
    const { errors } = loadRepoConfig([
      {
        path: '.github/tidemark.yml',
        text: 'policies: []\nupdate:\n  strategy: push\n  strategy: pull-request\n',
      },
    ]);
    expect(errors.map((e) => e.text)).toEqual([
      '.github/tidemark.yml:4: not valid YAML: the key "strategy" appears twice in one map; keep one',
    ]);
  });
});
