/**
 * The onboarding PR end to end: a repo installed with no policies and no markers gets one PR on
 * `tidemark/onboarding` (config + markers, values untouched); merging it turns tidemark on; closing it unmerged
 * means "not now" — no new onboarding PR after a reconcile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrMetadata } from '../../src/core/plan/messages.js';
import { repoKeyOf } from '../../src/state/policy-index.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import type { Registry } from '../support/registry.js';
import { type Env, hasReason, startEnv } from './harness.js';

const deployment = (host: string, image: string, tag: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${host}/${image}:${tag}\n`;

describe('onboarding PR', () => {
  let env: Env;
  let gh: GitHubDouble;
  let reg: Registry;
  let installationId: number;

  beforeAll(async () => {
    env = await startEnv(async (double) => {
      installationId = double.addInstallation('acme');
    });
    ({ gh, reg } = env);
  });
  afterEach(() => gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  async function unmarkedRepo(name: string) {
    const image = `acme/${name}`;
    await pushImage(reg, image, '1.1.0', { seed: `${name}-1.1.0` });
    await env.waitForLog(`/${image}"`, '"tag":"1.1.0"', 'no policy watches this image');
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: { 'apps/web.yaml': deployment(reg.host, image, '1.0.0') },
      },
      image,
      '1.0.0',
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    return { image, key };
  }

  it('one onboarding PR with config and markers; merged, it turns tidemark on', async () => {
    const { image, key } = await unmarkedRepo('onb');
    const [pr, ...more] = gh.pulls('acme', 'onb');
    expect(more).toEqual([]);
    expect(pr!.head.ref).toBe('tidemark/onboarding');
    expect(pr!.title).toBe('chore(tidemark): keep container images up to date');
    expect(pr!.body).toContain(
      `| \`apps/web.yaml:10\` | \`${reg.host}/${image}\` | \`flux-system:onb\` (semver) | \`1.0.0\` → \`1.1.0\` |`,
    );
    expect(parsePrMetadata(pr!.body)).toMatchObject({ onboarding: true, branch: 'tidemark/onboarding' });
    // The values are untouched: only the marker is added, and the config file is new.
    expect(await gh.readFile('acme', 'onb', pr!.head.ref, 'apps/web.yaml')).toBe(
      deployment(reg.host, image, '1.0.0').replace(
        ':1.0.0\n',
        ':1.0.0 # {"$imagepolicy": "flux-system:onb"}\n',
      ),
    );
    expect(await gh.readFile('acme', 'onb', pr!.head.ref, '.github/tidemark.yml')).toContain(
      `  - name: onb\n    image: ${reg.host}/${image}\n    policy: { semver: { range: ">=1.0.0 <2.0.0" } }\n`,
    );

    // A second run of the same repo changes nothing (no second PR, no new commit).
    const head = await gh.branchHead('acme', 'onb', 'tidemark/onboarding');
    const since = env.jobs.length;
    await env.app.queue.enqueue({
      repoKey: key,
      target: { installationId, owner: 'acme', repo: 'onb', cloneUrl: '', defaultBranch: '' },
      reasons: [{ kind: 'manual' }],
    });
    await env.waitForJob('the manual run', (j) => j.repo === key && hasReason('manual')(j), since);
    expect(gh.pulls('acme', 'onb')).toHaveLength(1);
    expect(await gh.branchHead('acme', 'onb', 'tidemark/onboarding')).toBe(head);

    // Merged: the push to main runs the repo with its new policy, which bumps to the newest allowed tag.
    const merged = env.jobs.length;
    await gh.mergePull('acme', 'onb', pr!.number);
    await env.waitForJob(
      'the run after the merge',
      (j) => j.repo === key && hasReason('github-push')(j),
      merged,
    );
    await env.idle();
    const bump = gh.pulls('acme', 'onb').find((p) => p.state === 'open');
    expect(bump?.head.ref).toBe('tidemark/flux-system-onb');
    expect(bump?.title.endsWith('1.1.0')).toBe(true);
  });

  it('closed without merging means not now: no new onboarding PR after a reconcile', async () => {
    const { key } = await unmarkedRepo('later');
    const pr = gh.pulls('acme', 'later')[0]!;
    const closed = env.jobs.length;
    await gh.closePull('acme', 'later', pr.number);
    await env.waitForJob(
      'the run after closing',
      (j) => j.repo === key && hasReason('pull-request-closed')(j),
      closed,
    );
    const since = env.jobs.length;
    await env.app.queue.enqueue({
      repoKey: key,
      target: { installationId, owner: 'acme', repo: 'later', cloneUrl: '', defaultBranch: '' },
      reasons: [{ kind: 'periodic' }],
    });
    await env.waitForJob('the periodic run', (j) => j.repo === key && hasReason('periodic')(j), since);
    expect(gh.pulls('acme', 'later')).toHaveLength(1);
    expect(gh.pulls('acme', 'later')[0]!.state).toBe('closed');
  });
});
