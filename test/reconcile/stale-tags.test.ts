/**
 * A worker's tag cache may be older than what another worker already proposed (several workers share one
 * queue; each caches tag lists for itself). Found by `npm run bench -- scale`: worker 1 opened a PR for 1.2.0,
 * worker 2 updated it to 1.5.0, then worker 1 (its cached list still ending at 1.2.0) set it back to 1.2.0.
 * A cached list that lacks a tag an open PR proposes, or a tag the files hold, is listed again fresh.
 */
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../src/core/config/repo-config.js';
import type { RegistryClient } from '../../src/registry/types.js';
import { reconcile } from '../../src/run/reconcile.js';

const config = loadRepoConfig([
  {
    path: '.github/tidemark.yml',
    text: 'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    policy: { semver: { range: "^1" } }\n',
  },
]).config;
const files = (tag: string) => [
  { path: 'values.yaml', text: `tag: ${tag} # {"$imagepolicy": "flux-system:web:tag"}\n` },
];

/** The cache holds what was listed at 1.2.0; the registry has 1.5.0 since. */
function cachedRegistry() {
  const calls: { fresh: boolean }[] = [];
  const registry: RegistryClient = {
    async listTags(_image, o) {
      calls.push({ fresh: o?.fresh === true });
      return o?.fresh ? ['1.0.0', '1.2.0', '1.5.0'] : ['1.0.0', '1.2.0'];
    },
    async resolveDigest() {
      throw new Error('not needed');
    },
  };
  return { registry, calls };
}

describe('a stale cached tag list', () => {
  it('is listed again fresh when an open PR proposes a tag it lacks: no step back to an older tag', async () => {
    const { registry, calls } = cachedRegistry();
    const plan = await reconcile(
      { registry },
      { config, files: files('1.0.0'), knownTags: new Map([['flux-system:web', new Set(['1.5.0'])]]) },
    );
    expect(plan.perPolicy['flux-system:web']).toMatchObject({ status: 'selected', tag: '1.5.0' });
    expect(calls).toEqual([{ fresh: false }, { fresh: true }]);
  });

  it('is listed again fresh when the files hold a tag it lacks', async () => {
    const { registry, calls } = cachedRegistry();
    const plan = await reconcile({ registry }, { config, files: files('1.5.0') });
    expect(plan.perPolicy['flux-system:web']).toMatchObject({ tag: '1.5.0' });
    expect(plan.updates).toEqual([]);
    expect(calls).toEqual([{ fresh: false }, { fresh: true }]);
  });

  it('is used as it is when it has every known tag (one listing)', async () => {
    const { registry, calls } = cachedRegistry();
    const plan = await reconcile(
      { registry },
      { config, files: files('1.0.0'), knownTags: new Map([['flux-system:web', new Set(['1.2.0'])]]) },
    );
    expect(plan.perPolicy['flux-system:web']).toMatchObject({ tag: '1.2.0' });
    expect(calls).toEqual([{ fresh: false }]);
  });
});
