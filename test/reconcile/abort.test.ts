/** The queue's abort signal reaches the registry calls, and a run aborted mid-way plans nothing. */
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../src/core/config/repo-config.js';
import type { RegistryClient } from '../../src/registry/types.js';
import { reconcile } from '../../src/run/reconcile.js';
import { gate } from '../support/wait.js';

const config = loadRepoConfig([
  {
    path: '.github/tidemark.yml',
    text: 'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    policy: { semver: { range: "^1.0.0" } }\n',
  },
]).config;
const files = [
  { path: 'a.yaml', text: 'image: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n' },
];

describe('reconcile honours the abort signal', () => {
  it('hands the signal to the registry and stops before planning once it is aborted', async () => {
    const listing = gate();
    const release = gate();
    const signals: (AbortSignal | undefined)[] = [];
    let digests = 0;
    const registry: RegistryClient = {
      async listTags(_image, o) {
        signals.push(o?.signal);
        listing.open();
        await release.promise;
        return ['1.0.0', '1.1.0'];
      },
      async resolveDigest() {
        digests++;
        return `sha256:${'a'.repeat(64)}`;
      },
    };
    const ac = new AbortController();
    const run = reconcile({ registry }, { config, files, signal: ac.signal });
    await listing.promise; // the run is inside the registry call
    ac.abort(new Error('shutting down'));
    release.open();
    await expect(run).rejects.toThrow('shutting down');
    expect(signals).toEqual([ac.signal]);
    expect(digests).toBe(0);
  });

  it('without an abort, the same run plans the bump (the test above can fail)', async () => {
    const registry: RegistryClient = {
      listTags: async () => ['1.0.0', '1.1.0'],
      resolveDigest: async () => `sha256:${'a'.repeat(64)}`,
    };
    const plan = await reconcile({ registry }, { config, files, signal: new AbortController().signal });
    expect(plan.updates.map((u) => u.newTag)).toEqual(['1.1.0']);
  });
});

describe('which tag lists are read fresh', () => {
  const recording = () => {
    const fresh: (boolean | undefined)[] = [];
    const registry: RegistryClient = {
      async listTags(_image, o) {
        fresh.push(o?.fresh);
        return ['1.0.0'];
      },
      resolveDigest: async () => `sha256:${'a'.repeat(64)}`,
    };
    return { fresh, registry };
  };

  it('a periodic run (freshTags) reads every image fresh: a push whose webhook never came is seen', async () => {
    const r = recording();
    await reconcile({ registry: r.registry }, { config, files, freshTags: true });
    expect(r.fresh).toEqual([true]);
  });

  it('otherwise only the images a triggering event names are read fresh', async () => {
    const r = recording();
    await reconcile({ registry: r.registry }, { config, files });
    expect(r.fresh).toEqual([false]);
  });
});
