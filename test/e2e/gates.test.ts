/**
 * Trust gates end to end, with a real registry and real pushes: a fresh tag waits for its minimum age (the
 * dashboard says when; the clock moved forward fires the run that proposes it), an index missing a platform
 * waits until the platform is pushed, a freeze holds a bump until it ends. Time that must not be waited for
 * (72 h) is jumped with a ShiftClock; every absence is asserted after the run for its input has finished.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoKeyOf } from '../../src/state/policy-index.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { pushImage, pushIndex } from '../support/images.js';
import type { Registry } from '../support/registry.js';
import { ShiftClock } from '../support/shift-clock.js';
import { type Env, hasReason, startEnv } from './harness.js';

const H = 3_600_000;

const deployment = (host: string, image: string, tag: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${host}/${image}:${tag} # {"$imagepolicy": "flux-system:web"}\n`;

describe('trust gates', () => {
  let env: Env;
  let gh: GitHubDouble;
  let reg: Registry;
  let installationId: number;
  const clock = new ShiftClock();

  beforeAll(async () => {
    env = await startEnv(
      async (double) => {
        installationId = double.addInstallation('acme');
      },
      undefined,
      { clock },
    );
    ({ gh, reg } = env);
  });
  afterEach(() => gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  async function scenario(name: string, policyExtra: string) {
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^1.0.0" } }\n${policyExtra}`,
        },
      },
      image,
      '1.0.0',
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    /** Waits for the run a registry push caused. */
    async function pushed(tag: string, doPush: () => Promise<unknown>) {
      const since = env.jobs.length;
      await doPush();
      const job = await env.waitForJob(
        `the run for ${image}:${tag}`,
        (j) => j.repo === key && hasReason('registry-push', `${reg.host}/${image}:${tag}`)(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
      await env.idle();
    }
    const push = (tag: string) => pushed(tag, () => pushImage(reg, image, tag, { seed: `${name}-${tag}` }));
    /** Moves the clock forward and waits for the run a gate's timer started. */
    async function advance(ms: number) {
      const since = env.jobs.length;
      clock.advance(ms);
      const job = await env.waitForJob(
        'the gate-due run',
        (j) => j.repo === key && hasReason('gate-due')(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
      await env.idle();
    }
    /** Waits for the run a GitHub webhook caused (after `act`). */
    async function after(what: string, kind: string, act: () => Promise<unknown>) {
      const since = env.jobs.length;
      await act();
      const job = await env.waitForJob(what, (j) => j.repo === key && hasReason(kind)(j), since);
      expect(job.outcome).toBe('succeeded');
      await env.idle();
    }
    const openPulls = () => gh.pulls('acme', name).filter((p) => p.state === 'open');
    const dashboard = () => gh.issues('acme', name)[0]?.body ?? '';
    const lastCheck = () =>
      gh
        .checkRuns('acme', name)
        .filter((c) => c.name === 'tidemark')
        .at(-1);
    return { image, key, push, pushed, advance, after, openPulls, dashboard, lastCheck };
  }

  it('minAge: a fresh tag waits and the dashboard says when; it matures → PR; a fresher one does not displace it', async () => {
    const s = await scenario('min-age', '    minAge: 72h\n');
    await s.push('1.1.0');
    expect(s.openPulls()).toHaveLength(0);
    expect(s.dashboard()).toMatch(/`1\.1\.0`[^\n]*matures at \d{4}-\d\d-\d\dT/);
    expect(s.lastCheck()?.output?.text).toContain('waiting: 1.1.0: minAge');

    await s.advance(72 * H + 60_000);
    const [pr] = s.openPulls();
    expect(pr?.title).toMatch(/1\.1\.0$/);
    // The digest the gate judged is not pinned: this policy does not reflect digests.
    expect(await gh.readFile('acme', 'min-age', pr!.head.ref, 'apps/web/deployment.yaml')).toContain(
      'min-age:1.1.0 #',
    );
    expect(pr?.body).toMatch(
      /### Trust gates\n\n- ✅ \*\*minAge\*\*: 1\.1\.0 \(sha256:[0-9a-f]{12}…\) first seen by tidemark at /,
    );
    const gates = gh.checkRuns('acme', 'min-age').filter((c) => c.name === 'tidemark/gates');
    expect(gates).toHaveLength(1);
    expect(gates[0]!.head_sha).toBe(await gh.branchHead('acme', 'min-age', pr!.head.ref));
    expect(gates[0]!.output?.title).toBe('1 gate passed');

    // 1.2.0 is fresh: the mature 1.1.0 stays proposed, and the dashboard lists 1.2.0 as waiting.
    await s.push('1.2.0');
    expect(s.openPulls().map((p) => p.title.slice(-5))).toEqual(['1.1.0']);
    expect(s.dashboard()).toMatch(/`1\.2\.0` waits: minAge: first seen/);
  });

  it('platforms: an index without linux/arm64 waits; the same tag re-pushed with it → PR', async () => {
    const s = await scenario('platforms', '    platforms: [linux/amd64, linux/arm64]\n');
    await s.pushed('1.1.0', () => pushIndex(reg, s.image, '1.1.0', ['linux/amd64'], { seed: 'p1' }));
    expect(s.openPulls()).toHaveLength(0);
    expect(s.dashboard()).toContain('missing linux/arm64 (found linux/amd64)');

    await s.pushed('1.1.0', () =>
      pushIndex(reg, s.image, '1.1.0', ['linux/amd64', 'linux/arm64/v8'], { seed: 'p2' }),
    );
    const [pr] = s.openPulls();
    expect(pr?.title).toMatch(/1\.1\.0$/);
    expect(s.dashboard()).toContain('Nothing waits.');
  });

  it('freeze: nothing is opened during it; when it ends the bump is proposed', async () => {
    const now = clock.now();
    const from = new Date(now - H).toISOString();
    const to = new Date(now + 2 * H).toISOString();
    const s = await scenario(
      'freeze',
      `    freeze:\n      - { from: "${from}", to: "${to}", reason: release week }\n`,
    );
    await s.push('1.1.0');
    expect(s.openPulls()).toHaveLength(0);
    expect(s.dashboard()).toContain('change freeze (release week) until');

    await s.advance(2 * H + 1000);
    expect(s.openPulls().map((p) => p.title.slice(-5))).toEqual(['1.1.0']);
  });

  it('freeze: a PR armed for auto-merge before it is disarmed by the first run inside it, re-armed after', async () => {
    const now = clock.now();
    const from = new Date(now + H).toISOString();
    const to = new Date(now + 3 * H).toISOString();
    const s = await scenario(
      'freeze-armed',
      `    autoMerge: true\n    freeze:\n      - { from: "${from}", to: "${to}", reason: release week }\n`,
    );
    await s.push('1.1.0');
    expect(s.openPulls().map((p) => [p.title.slice(-5), p.autoMerge])).toEqual([['1.1.0', 'SQUASH']]);

    clock.advance(1.5 * H); // inside the freeze; the next run is the next push
    await s.push('1.2.0');
    expect(s.openPulls().map((p) => [p.title.slice(-5), p.autoMerge])).toEqual([['1.1.0', undefined]]);

    await s.advance(2 * H); // past the freeze's end: its timer runs the repo
    expect(s.openPulls().map((p) => [p.title.slice(-5), p.autoMerge])).toEqual([['1.2.0', 'SQUASH']]);
  });

  async function rolledBack(name: string) {
    const s = await scenario(name, '');
    await s.push('1.1.0');
    const [pr] = s.openPulls();
    expect(pr?.title).toMatch(/1\.1\.0$/);
    await s.after('the run after the merge', 'pull-request-closed', () =>
      gh.mergePull('acme', name, pr!.number),
    );
    expect(await gh.readFile('acme', name, 'main', 'apps/web/deployment.yaml')).toContain(':1.1.0 #');
    // A person rolls back: the marked value goes back to 1.0.0 on main.
    await s.after('the run after the rollback', 'github-push', () =>
      gh.pushAsUser(
        'acme',
        name,
        'main',
        { 'apps/web/deployment.yaml': deployment(reg.host, s.image, '1.0.0') },
        'Roll back web to 1.0.0',
      ),
    );
    expect(s.openPulls()).toHaveLength(0);
    expect(s.dashboard()).toMatch(
      /flux-system:web rolled back to `1\.0\.0` \(from `1\.1\.0`\) by .* held — tick/,
    );
    expect(s.lastCheck()?.output?.text).toContain('waiting: rolled back to 1.0.0');
    return s;
  }

  it('rollback means hold: no PR for the rolled-back tag; a tag newer than it → PR again', async () => {
    const s = await rolledBack('rollback-newer');
    // A periodic run changes nothing: the hold comes from git history, not memory.
    await s.after('a manual run', 'manual', () => env.app.reconcileAll('manual'));
    expect(s.openPulls()).toHaveLength(0);
    await s.push('1.2.0');
    expect(s.openPulls().map((p) => p.title.slice(-5))).toEqual(['1.2.0']);
  });

  it('rollback released on the dashboard by someone with write access → the PR comes back', async () => {
    const s = await rolledBack('rollback-release');
    gh.setPermission('acme', 'rollback-release', 'alice', 'write');
    gh.setPermission('acme', 'rollback-release', 'rita', 'read');
    const [issue] = gh.issues('acme', 'rollback-release');
    const tick = (body: string) => body.replace(/- \[ \] (<!-- tidemark-box: release:)/, '- [x] $1');
    await s.after("the run for rita's tick", 'dashboard-edit', () =>
      gh.editIssueAsUser('acme', 'rollback-release', issue!.number, 'rita', tick(issue!.body)),
    );
    expect(s.openPulls()).toHaveLength(0);
    const [again] = gh.issues('acme', 'rollback-release');
    await s.after("the run for alice's tick", 'dashboard-edit', () =>
      gh.editIssueAsUser('acme', 'rollback-release', again!.number, 'alice', tick(again!.body)),
    );
    expect(s.openPulls().map((p) => p.title.slice(-5))).toEqual(['1.1.0']);
    expect(s.dashboard()).toContain('released by `@alice`');
  });
});
