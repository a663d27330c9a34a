import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../src/core/config/repo-config.js';
import { FixedTagSource } from '../../src/registry/fixed-tags.js';
import { reconcile } from '../../src/run/reconcile.js';

const config = (strategy = 'pull-request', group = 'per-policy') =>
  loadRepoConfig([
    {
      path: '.github/tidemark.yml',
      text: `policies:
  - name: web
    image: ghcr.io/acme/web
    policy: { semver: { range: "^1.0.0" } }
  - name: api
    image: ghcr.io/acme/api
    digestReflectionPolicy: IfNotPresent
    policy: { semver: { range: "^2.0.0" } }
update: { strategy: ${strategy}, group: ${group} }
`,
    },
  ]).config;

const files = [
  {
    path: 'apps/both.yaml',
    text: 'web: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\napi: ghcr.io/acme/api:2.0.0 # {"$imagepolicy": "flux-system:api"}\n',
  },
  { path: 'apps/latest.yaml', text: 'tag: latest # {"$imagepolicy": "flux-system:web:tag"}\n' },
];

const D = (c: string) => `sha256:${c.repeat(64)}`;
const registry = () =>
  new FixedTagSource({
    'ghcr.io/acme/web': ['1.0.0', '1.2.0', '2.0.0', 'latest'],
    'ghcr.io/acme/api': { tags: ['2.0.0', '2.1.0'], digests: { '2.1.0': D('a') } },
  });

describe('reconcile', () => {
  it('selects per policy, resolves digests, and groups one branch per policy', async () => {
    const plan = await reconcile({ registry: registry() }, { config: config(), files });
    expect(plan.perPolicy).toEqual({
      'flux-system:web': {
        status: 'selected',
        tag: '1.2.0',
        previous: '1.0.0',
        markers: 2,
        current: ['1.0.0', 'latest'],
      },
      'flux-system:api': {
        status: 'selected',
        tag: '2.1.0',
        digest: D('a'),
        previous: '2.0.0',
        markers: 1,
        current: ['2.0.0'],
      },
    });
    expect(plan.groups.map((g) => g.branch)).toEqual([
      'tidemark/flux-system-api',
      'tidemark/flux-system-web',
    ]);
    const web = plan.groups.find((g) => g.branch === 'tidemark/flux-system-web')!;
    // A per-policy group changes only its own policy's values.
    expect(web.files[0]!.newText).toContain('api: ghcr.io/acme/api:2.0.0 #');
    expect(web.files[0]!.newText).toContain('web: ghcr.io/acme/web:1.2.0 #');
    expect(plan.changes[0]!.newText).toContain(`api: ghcr.io/acme/api:2.1.0@${D('a')} #`);
  });

  it('group all: one group carrying every update', async () => {
    const plan = await reconcile({ registry: registry() }, { config: config('pull-request', 'all'), files });
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]!.updates.map((u) => u.key).sort()).toEqual(['flux-system:api', 'flux-system:web']);
  });

  it('a declined tag is skipped', async () => {
    const plan = await reconcile(
      { registry: registry() },
      { config: config(), files, skippedTags: new Map([['flux-system:web', new Set(['1.2.0'])]]) },
    );
    expect(plan.perPolicy['flux-system:web']).toMatchObject({ status: 'skipped', tag: '1.2.0' });
    expect(plan.groups.map((g) => g.branch)).toEqual(['tidemark/flux-system-api']);
  });

  it('warns about a marker on a tag the policy cannot order, suggesting pinning', async () => {
    const plan = await reconcile({ registry: registry() }, { config: config(), files });
    expect(plan.warnings.filter((w) => w.code === 'mutable-tag').map((w) => w.message)).toEqual([
      'apps/latest.yaml:1: "latest" uses a tag that policy flux-system:web cannot order; it may change under you — pin a version (or a digest with digestReflectionPolicy)',
    ]);
  });

  it('registry failures are reported per image and do not stop other policies', async () => {
    const plan = await reconcile(
      { registry: new FixedTagSource({ 'ghcr.io/acme/web': ['1.5.0'] }) },
      { config: config(), files },
    );
    expect(plan.perPolicy['flux-system:web']).toMatchObject({ status: 'selected', tag: '1.5.0' });
    expect(plan.perPolicy['flux-system:api']?.status).toBe('registry-error');
    expect(plan.registryErrors.map((e) => e.image)).toEqual(['ghcr.io/acme/api']);
  });
});
