/**
 * Every ImageUpdateAutomation counts, as in Flux: two automations (prod and staging), each with its own
 * `update.path`, `push.branch` and `policySelector`. One registry push → one PR per automation, from its push
 * branch, each changing only the files under its path for the policies it selects; `tidemark plan --json`
 * shows the same two publishes. Asserted after the run for the push has finished.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { repoKeyOf } from '../../src/state/policy-index.js';
import { captureIO } from '../cli/capture-io.js';
import { pushImage } from '../support/images.js';
import { type Env, hasReason, startEnv } from './harness.js';

describe('several ImageUpdateAutomations', () => {
  let env: Env;
  let installationId: number;
  beforeAll(async () => {
    env = await startEnv(async (double) => {
      installationId = double.addInstallation('acme');
    });
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  it('one PR per automation, from its push branch, with only its path and its policies', async () => {
    const { gh, reg } = env;
    const image = `${reg.host}/acme/multi`;
    const automation = (name: string, env_: string) =>
      `apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: { name: ${name}, namespace: flux-system }\nspec:\n  git:\n    checkout: { ref: { branch: main } }\n    push: { branch: flux/${name}-updates }\n  update: { path: ./clusters/${name}, strategy: Setters }\n  policySelector:\n    matchLabels: { env: ${env_} }\n`;
    const policy = (name: string, env_: string, range: string) =>
      `---\napiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: { name: ${name}, namespace: flux-system, labels: { env: ${env_} } }\nspec:\n  imageRepositoryRef: { name: multi }\n  policy: { semver: { range: "${range}" } }\n`;
    const deployment = (policyName: string, tag: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ${image}:${tag} # {"$imagepolicy": "flux-system:${policyName}"}\n`;
    const files = {
      'flux/automations.yaml': `${automation('prod', 'prod')}---\n${automation('staging', 'staging')}`,
      'flux/policies.yaml': `apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata: { name: multi, namespace: flux-system }\nspec: { image: ${image} }\n${policy('app-prod', 'prod', '~1.0.0')}${policy('app-staging', 'staging', '>=1.0.0-0')}`,
      'clusters/prod/app.yaml': deployment('app-prod', '1.0.0'),
      'clusters/staging/app.yaml': deployment('app-staging', '1.0.0'),
    };
    await env.seedRepo({ installationId, owner: 'acme', name: 'multi', files }, 'acme/multi', '1.0.0');
    const key = repoKeyOf({ installationId, owner: 'acme', repo: 'multi' });

    // Two pushes, each run to its end: the second run finds the PRs the first opened on the automations'
    // own branches (flux/…-updates, not tidemark/…) and updates them instead of opening them again.
    const first = env.jobs.length;
    await pushImage(reg, 'acme/multi', '1.0.1', { seed: 'multi-1.0.1' });
    await env.waitForJob(
      'the run for 1.0.1',
      (j) => j.repo === key && hasReason('registry-push', `${image}:1.0.1`)(j) && j.outcome === 'succeeded',
      first,
    );
    await env.idle();
    expect(
      gh
        .pulls('acme', 'multi')
        .filter((p) => p.state === 'open')
        .map((p) => p.head.ref)
        .sort(),
    ).toEqual(['flux/prod-updates', 'flux/staging-updates']);
    const since = env.jobs.length;
    await pushImage(reg, 'acme/multi', '1.1.0-rc.1', { seed: 'multi-rc' });
    await env.waitForJob(
      'the run for 1.1.0-rc.1',
      (j) =>
        j.repo === key && hasReason('registry-push', `${image}:1.1.0-rc.1`)(j) && j.outcome === 'succeeded',
      since,
    );
    await env.idle();

    const pulls = gh.pulls('acme', 'multi').filter((p) => p.state === 'open');
    expect(pulls.map((p) => p.head.ref).sort()).toEqual(['flux/prod-updates', 'flux/staging-updates']);
    // Every run of the repo succeeded the first time: no "A pull request already exists" retried.
    expect(env.jobs.slice(first).filter((j) => j.repo === key && j.outcome !== 'succeeded')).toEqual([]);
    const read = (ref: string, path: string) => gh.readFile('acme', 'multi', ref, path);
    expect(await read('flux/prod-updates', 'clusters/prod/app.yaml')).toBe(deployment('app-prod', '1.0.1'));
    expect(await read('flux/prod-updates', 'clusters/staging/app.yaml')).toBe(
      deployment('app-staging', '1.0.0'),
    );
    expect(await read('flux/staging-updates', 'clusters/staging/app.yaml')).toBe(
      deployment('app-staging', '1.1.0-rc.1'),
    );
    expect(await read('flux/staging-updates', 'clusters/prod/app.yaml')).toBe(
      deployment('app-prod', '1.0.0'),
    );

    // The CLI plans the same two publishes from a copy of the repo as it was.
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-multi-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const io = captureIO();
    expect(await main(['plan', '--dir', dir, '--json'], io)).toBe(0);
    const json = JSON.parse(io.out) as { publishing: { actions: { kind: string; branch?: string }[] } };
    expect(
      json.publishing.actions
        .filter((a) => a.kind === 'open-pr')
        .map((a) => a.branch)
        .sort(),
    ).toEqual(['flux/prod-updates', 'flux/staging-updates']);
  });
});
