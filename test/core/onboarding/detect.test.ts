import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectImages } from '../../../src/core/onboarding/detect.js';
import { inferPolicy } from '../../../src/core/onboarding/infer.js';
import { propose } from '../../../src/core/onboarding/propose.js';

const one = (path: string, text: string) => detectImages([{ path, text }]);
const spanText = (text: string, v: { start: number; end: number }) => text.slice(v.start, v.end);

describe('detectImages', () => {
  it('containers and init containers of a workload, with the exact span of each value', () => {
    const text = `kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n            - name: a\n              image: "ghcr.io/acme/init:1.0.0"\n          containers:\n            - name: b\n              image: ghcr.io/acme/job:2.3.4@sha256:${'a'.repeat(64)}\n`;
    const { images } = one('job.yaml', text);
    expect(images.map((i) => [i.repository, i.tag, i.digest?.slice(0, 9), i.values[0]!.field])).toEqual([
      ['ghcr.io/acme/init', '1.0.0', undefined, 'ref'],
      ['ghcr.io/acme/job', '2.3.4', 'sha256:aa', 'ref'],
    ]);
    expect(spanText(text, images[0]!.values[0]!)).toBe('"ghcr.io/acme/init:1.0.0"');
    expect(images[0]!.path).toBe('spec.jobTemplate.spec.template.spec.initContainers[0].image');
  });

  it.each([
    [
      'image: {repository, tag}',
      'image:\n  repository: r.io/a/web\n  tag: 1.2.3\n',
      'r.io/a/web',
      ['name', 'tag'],
    ],
    [
      '{registry, repository, tag}: only the tag',
      'image:\n  registry: r.io\n  repository: a/web\n  tag: "1.2.3"\n',
      'r.io/a/web',
      ['tag'],
    ],
    ['{name, tag}', 'image:\n  name: r.io/a/web\n  tag: 1.2.3\n', 'r.io/a/web', ['name', 'tag']],
    [
      '{repository, tag, digest}',
      `image:\n  repository: r.io/a/web\n  tag: 1.2.3\n  digest: sha256:${'b'.repeat(64)}\n`,
      'r.io/a/web',
      ['name', 'tag', 'digest'],
    ],
    [
      'nested per component',
      'backend:\n  image:\n    repository: r.io/a/api\n    tag: 9.0.1\n',
      'r.io/a/api',
      ['name', 'tag'],
    ],
    [
      'HelmRelease values',
      'kind: HelmRelease\nspec:\n  values:\n    image: { repository: r.io/a/web, tag: production-1 }\n',
      'r.io/a/web',
      ['name', 'tag'],
    ],
  ])('%s', (_what, text, repository, fields) => {
    const { images } = one('values.yaml', text);
    expect(images).toHaveLength(1);
    expect(images[0]!.repository).toBe(repository);
    expect(images[0]!.values.map((v) => v.field)).toEqual(fields);
  });

  it('kustomize images: newName and newTag are marked; a bare name only through newTag', () => {
    const text =
      'images:\n  - name: web\n    newName: r.io/a/web\n    newTag: 1.0.0\n  - name: r.io/a/api\n    newTag: 2.0.0\n';
    const { images } = one('kustomization.yaml', text);
    expect(images.map((i) => [i.repository, i.values.map((v) => v.field)])).toEqual([
      ['r.io/a/web', ['name', 'tag']],
      ['r.io/a/api', ['tag']],
    ]);
  });

  it('helmfile templates: values read line by line; template values and commented lines reported, not touched', () => {
    const text =
      'image:\n  repository: r.io/a/app\n  tag: 0.0.1-rc1-cee9778\nworker:\n  image:\n    repository: r.io/a/w\n    tag: {{ .Values.tag }}\nsidecar:\n  image: r.io/a/s:1.0.0 # pinned on purpose\n';
    const { images, notes } = one('app.yaml.gotmpl', text);
    expect(images.map((i) => [i.repository, i.tag])).toEqual([['r.io/a/app', '0.0.1-rc1-cee9778']]);
    expect(spanText(text, images[0]!.values[1]!)).toBe('0.0.1-rc1-cee9778');
    expect(notes.map((n) => [n.code, n.line])).toEqual([
      ['onboard-template', 7],
      ['onboard-commented', 9],
    ]);
  });

  it('values already marked, images without a tag, and files that do not parse are left out', () => {
    expect(one('a.yaml', 'image: r.io/a/web:1.0.0 # {"$imagepolicy": "ns:web"}\n').images).toEqual([]);
    expect(one('a.yaml', 'image: r.io/a/web\n').images).toEqual([]);
    expect(one('a.yaml', 'image: [unclosed\n').images).toEqual([]);
  });
});

describe('inferPolicy', () => {
  it.each([
    ['1.4.2', ['1.4.2', '1.5.0', '2.0.0', '1.6.0-rc.1'], 'semver', '1.5.0'],
    ['v2.0.1', ['v2.0.1', 'v2.1.0', 'v3.0.0'], 'semver', 'v2.1.0'],
    ['0.0.1-rc1-cee9778', ['0.0.1-rc1-cee9778', '0.0.1-rc2-abc1234'], 'semver', '0.0.1-rc2-abc1234'],
    [
      'production-40672',
      ['production-40672', 'production-40690', 'production-9999', 'staging-50000', 'latest'],
      'numbered',
      'production-40690',
    ],
    [
      'main-0a1b2c3-1700000000',
      ['main-0a1b2c3-1700000000', 'main-ffee001-1700000500', 'feature-x-1800000000'],
      'sha-timestamp',
      'main-ffee001-1700000500',
    ],
    ['20240115', ['20240115', '20240301', 'latest'], 'date', '20240301'],
    ['latest', ['latest', '1.0.0'], 'mutable', 'latest'],
  ])('%s among %j → %s, picks %s', (current, tags, scheme, picks) => {
    const i = inferPolicy('r.io/a/web', current, tags);
    expect(i.scheme).toBe(scheme);
    expect(i.picks).toBe(picks);
    expect(i.evidence.length).toBeGreaterThan(10);
  });
  it('a release tag does not admit prereleases; a moving tag pins its digest', () => {
    expect(inferPolicy('r', '1.4.2', ['1.4.2', '1.6.0-rc.1']).picks).toBe('1.4.2');
    expect(inferPolicy('r', 'latest', ['latest']).digestReflectionPolicy).toBe('Always');
  });
  it('no scheme fits: no guess', () => {
    const i = inferPolicy('r', 'banana', ['banana', 'apple']);
    expect(i.scheme).toBe('none');
    expect(i.policy).toBeUndefined();
  });
});

function proposeFor(files: Record<string, string>, configText = '', tags: string[] = ['1.0.0', '1.1.0']) {
  const list = Object.entries(files).map(([path, text]) => ({ path, text }));
  const { images } = detectImages(list);
  return propose({
    images,
    infer: (img) => inferPolicy(img.repository, img.tag ?? '', tags),
    existingPolicies: new Map(),
    existingNames: new Set(),
    namespace: 'flux-system',
    configText,
    files: new Map(list.map((f) => [f.path, f.text])),
  });
}

describe('propose', () => {
  it('adds only a marker at the end of each value line; CRLF, quoting and indentation kept', () => {
    const text = "spec:\r\n  containers:\r\n    - image: 'r.io/a/web:1.0.0'\r\n      name: web\r\n";
    const p = proposeFor({ 'd.yaml': text });
    expect(p.files[0]!.newText).toBe(
      'spec:\r\n  containers:\r\n    - image: \'r.io/a/web:1.0.0\' # {"$imagepolicy": "flux-system:web"}\r\n      name: web\r\n',
    );
    expect(p.config?.newText).toContain('  - name: web\n    image: r.io/a/web\n');
  });

  it('running it on its own output proposes nothing', () => {
    const p = proposeFor({ 'v.yaml': 'image:\n  repository: r.io/a/web\n  tag: 1.0.0\n' });
    const again = proposeFor({ 'v.yaml': p.files[0]!.newText }, p.config!.newText);
    expect(again.files).toEqual([]);
    expect(again.config).toBeUndefined();
  });

  it('an existing .github/tidemark.yml is extended: its text kept byte for byte', () => {
    const existing =
      '# ours\nupdate:\n  group: all\npolicies:\n  - name: db\n    image: r.io/a/db\n    policy: { semver: { range: "^5" } }\nregistries: {}\n';
    const p = proposeFor({ 'd.yaml': 'image: r.io/a/web:1.0.0\n' }, existing);
    const out = p.config!.newText;
    expect(
      out.startsWith(
        '# ours\nupdate:\n  group: all\npolicies:\n  - name: db\n    image: r.io/a/db\n    policy: { semver: { range: "^5" } }\n',
      ),
    ).toBe(true);
    expect(out.endsWith('registries: {}\n')).toBe(true);
    expect(out).toContain('  - name: web\n');
  });

  it('property: on random YAML with image values, only marker comments are added', () => {
    const seg = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    const tag = fc.oneof(
      fc.tuple(fc.nat(9), fc.nat(9), fc.nat(9)).map(([a, b, c]) => `${a}.${b}.${c}`),
      fc.nat(99999).map((n) => `production-${n}`),
    );
    const entry = fc.tuple(
      seg,
      seg,
      tag,
      fc.constantFrom('', '"', "'"),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), (entries) => {
        const eol = entries[0]![4];
        const text = entries
          .map(([key, name, t, quote, , split], i) =>
            split
              ? `${key}${i}:${eol}  image:${eol}    repository: r.io/${name}/x${i}${eol}    tag: ${quote}${t}${quote}${eol}`
              : `${key}${i}:${eol}  image: ${quote}r.io/${name}/x${i}:${t}${quote}${eol}`,
          )
          .join('');
        const p = proposeFor({ 'f.yaml': text }, '', ['1.0.0', 'production-1', ...entries.map((e) => e[2])]);
        const out = p.files[0]?.newText ?? text;
        // Every image got its marker(s) …
        const markers = out.match(/ # \{"\$imagepolicy": "[^"]+"\}/g) ?? [];
        expect(markers.length).toBe(entries.reduce((n, e) => n + (e[5] ? 2 : 1), 0));
        // Removing every added comment gives back the input, byte for byte.
        expect(out.replace(/ # \{"\$imagepolicy": "[^"]+"\}/g, '')).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});
