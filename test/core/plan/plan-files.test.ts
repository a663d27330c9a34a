/**
 * The file half of the plan, pure: choices from collected tags, rewrites from markers read once, groups.
 */
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../../src/core/config/repo-config.js';
import {
  choose,
  imagesOf,
  type MarkedFile,
  mutableTagWarnings,
  planFiles,
  readMarkedFiles,
  type TagLookup,
  tagOfValue,
  withProvenance,
} from '../../../src/core/plan/plan-files.js';

const config = (group = 'per-policy') =>
  loadRepoConfig([
    {
      path: '.github/tidemark.yml',
      text: `policies:
  - name: web
    image: ghcr.io/acme/web
    policy: { semver: { range: "^1.0.0" } }
  - name: api
    image: ghcr.io/acme/api
    policy: { semver: { range: "^2.0.0" } }
  - name: bad
    image: ghcr.io/acme/bad
    policy: { numerical: { order: asc } }
    filterTags: { pattern: "^(?P<n>[0-9]+)$", extract: "$n" }
update: { group: ${group} }
`,
    },
  ]).config;

const files = readMarkedFiles([
  {
    path: 'apps/both.yaml',
    text: 'web: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\napi: ghcr.io/acme/api:2.0.0 # {"$imagepolicy": "flux-system:api"}\n',
  },
  { path: 'apps/tag.yaml', text: 'tag: "1.0.0" # {"$imagepolicy": "flux-system:web:tag"}\n' },
]);

const tags = (entries: Record<string, readonly string[] | Error>): Map<string, TagLookup> =>
  new Map(
    Object.entries(entries).map(([image, t]) => [image, t instanceof Error ? { error: t } : { tags: t }]),
  );

const allTags = tags({
  'ghcr.io/acme/web': ['1.0.0', '1.2.0', '2.0.0'],
  'ghcr.io/acme/api': ['2.0.0', '2.1.0'],
  'ghcr.io/acme/bad': ['a', 'b'],
});

describe('choose (pure)', () => {
  it('reads each image once and chooses per policy', () => {
    expect(imagesOf(config())).toEqual(['ghcr.io/acme/web', 'ghcr.io/acme/api', 'ghcr.io/acme/bad']);
    const c = choose(config(), allTags);
    expect(c.chosen.map((x) => `${x.key}=${x.tag}`)).toEqual([
      'flux-system:web=1.2.0',
      'flux-system:api=2.1.0',
    ]);
    expect(c.outcomes['flux-system:bad']).toMatchObject({ status: 'none' });
    expect(c.registryErrors).toEqual([]);
  });

  it.each([
    ['a registry error', new Error('503 from ghcr.io'), 'registry-error'],
    ['no tags at all', [] as string[], 'none'],
  ])('%s → the policy is not chosen, with a reason', (_name, webTags, status) => {
    const c = choose(config(), tags({ 'ghcr.io/acme/web': webTags, 'ghcr.io/acme/api': ['2.0.0'] }));
    expect(c.chosen.map((x) => x.key)).toEqual(['flux-system:api']);
    expect(c.outcomes['flux-system:web']?.status).toBe(status);
  });

  it('an image whose tags were not read is a registry error, never a silent skip', () => {
    const c = choose(config(), tags({ 'ghcr.io/acme/web': ['1.0.0'] }));
    expect(c.outcomes['flux-system:api']).toMatchObject({ status: 'registry-error' });
    expect(c.registryErrors.map((e) => e.image)).toContain('ghcr.io/acme/api');
  });

  it('a declined version is skipped, with the reason', () => {
    const c = choose(config(), allTags, new Map([['flux-system:web', new Set(['1.2.0'])]]));
    expect(c.outcomes['flux-system:web']).toEqual({
      status: 'skipped',
      tag: '1.2.0',
      reason: 'a pull request for 1.2.0 was closed without merging',
    });
  });
});

describe('planFiles (pure)', () => {
  const plan = (group: string, f: readonly MarkedFile[] = files) => {
    const c = choose(config(group), allTags);
    return planFiles({ config: config(group), files: f, ...c });
  };

  it('per-policy: one group per policy, each changing only its own markers; changes carry key and field', () => {
    const p = plan('per-policy');
    expect(p.groups.map((g) => g.branch)).toEqual(['tidemark/flux-system-api', 'tidemark/flux-system-web']);
    const web = p.groups[1]!;
    expect(web.files.map((f) => f.file)).toEqual(['apps/both.yaml', 'apps/tag.yaml']);
    expect(web.files[0]!.newText).toBe(
      'web: ghcr.io/acme/web:1.2.0 # {"$imagepolicy": "flux-system:web"}\napi: ghcr.io/acme/api:2.0.0 # {"$imagepolicy": "flux-system:api"}\n',
    );
    expect(web.updates[0]!.changes.map((c) => [c.key, c.field, c.old, c.new])).toEqual([
      ['flux-system:web', 'ref', 'ghcr.io/acme/web:1.0.0', 'ghcr.io/acme/web:1.2.0'],
      ['flux-system:web', 'tag', '1.0.0', '1.2.0'],
    ]);
    expect(p.perPolicy['flux-system:web']).toEqual({
      status: 'selected',
      tag: '1.2.0',
      previous: '1.0.0',
      markers: 2,
      current: ['1.0.0'],
    });
    // All policies together, for push mode.
    expect(p.changes.map((c) => c.file)).toEqual(['apps/both.yaml', 'apps/tag.yaml']);
    expect(p.changes[0]!.newText).toContain('api: ghcr.io/acme/api:2.1.0 #');
  });

  it('group all: one group with every update', () => {
    const p = plan('all');
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]!.branch).toBe('tidemark/all');
    expect(p.groups[0]!.updates.map((u) => u.key)).toEqual(['flux-system:api', 'flux-system:web']);
  });

  it('applies the markers it was given, not a fresh reading of the text (markers are read once per run)', () => {
    const unread = files.map((f) => ({ ...f, markers: [] }));
    const p = plan('per-policy', unread);
    expect(p.changes).toEqual([]);
    expect(p.groups).toEqual([]);
    expect(p.perPolicy['flux-system:web']).toEqual({
      status: 'selected',
      tag: '1.2.0',
      markers: 0,
      current: [],
    });
  });

  it('withProvenance attaches to updates and to the groups that carry them', () => {
    const p = withProvenance(
      plan('per-policy'),
      new Map([['flux-system:web', { new: { source: 'https://github.com/acme/web', revision: 'abc' } }]]),
    );
    expect(p.updates.find((u) => u.key === 'flux-system:web')?.provenance?.new?.revision).toBe('abc');
    expect(p.groups[1]!.updates[0]!.provenance?.new?.revision).toBe('abc');
    expect(p.groups[0]!.updates[0]!.provenance).toBeUndefined();
  });
});

describe('marker values', () => {
  it.each([
    ['ghcr.io/acme/web:1.0.0', 'ref', '1.0.0'],
    ['localhost:5000/web:1.0.0@sha256:abc', 'ref', '1.0.0'],
    ['localhost:5000/web', 'ref', undefined],
    ['1.0.0', 'tag', '1.0.0'],
    ['ghcr.io/acme/web', 'name', undefined],
    ['sha256:abc', 'digest', undefined],
  ] as const)('tagOfValue(%s, %s) = %s', (value, field, tag) => {
    expect(tagOfValue(value, field)).toBe(tag);
  });

  it('warns once per marker whose tag the policy cannot order', () => {
    const f = readMarkedFiles([
      {
        path: 'a.yaml',
        text: 'tag: latest # {"$imagepolicy": "flux-system:web:tag"}\ntag2: 1.0.0 # {"$imagepolicy": "flux-system:web:tag"}\n',
      },
    ]);
    const w = mutableTagWarnings(config().policies, f);
    expect(w.map((x) => [x.code, x.line])).toEqual([['mutable-tag', 1]]);
  });
});
