/**
 * Crash-safe publishing, end to end: a process killed at each step of publishing a PR (the commit, opening the
 * PR, labelling it, arming auto-merge, updating it for a newer tag) leaves GitHub in a state the next attempt
 * converges from — one open PR on the branch, its title and metadata naming the newest tag, the branch holding
 * exactly the planned file on top of main, its labels, auto-merge armed, no duplicate comment or issue.
 *
 * The GitHub double stages the kill: `crashAfter` applies the request and cuts its connection (the worker died
 * after GitHub took the call), `crashBefore` cuts it before anything is applied. What follows is what really
 * happens in the app, nothing simulated:
 * - octokit's retry plugin (on in `main.ts`) sends a request whose connection was cut again, within the run
 *   (after 1 s, then 4 s, 9 s: three retries). A step GitHub applies twice the same way (labels, a PR update,
 *   auto-merge) converges in that run; one it refuses the second time (a commit: `STALE_DATA`; a PR: 422
 *   "already exists") ends the run with `BranchMovedError`.
 * - a run that fails is retried by the queue (the memory queue the harness runs: 5 attempts, backoff from 2 s),
 *   and the retry reads PR state fresh. That is the "next run" here; a worker killed outright (its job lost with
 *   the process) gets the same run from the next webhook or the periodic scan, with the same facts.
 * Every wait is on an event (a job finished, the queue idle); none on the clock.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrMetadata } from '../../src/core/plan/messages.js';
import { repoKeyOf } from '../../src/state/policy-index.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import type { Registry } from '../support/registry.js';
import { type Env, hasReason, startEnv } from './harness.js';

/** octokit's retry plugin's default (`@octokit/plugin-retry`): a cut request is sent this many more times. */
const OCTOKIT_RETRIES = 3;
const BRANCH = 'tidemark/flux-system-web';

const deployment = (host: string, image: string, tag: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: web
          image: ${host}/${image}:${tag} # {"$imagepolicy": "flux-system:web"}
`;

describe('publishing survives a crash at every step', () => {
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

  /**
   * A config repo `acme/<name>` in PR mode running image `acme/<name>` at 1.0.0, watched with ^1.0.0; new PRs
   * are labelled `dependencies` and minor bumps auto-merge.
   */
  async function scenario(name: string) {
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^1.0.0" } }\nupdate:\n  labels: [dependencies]\n  autoMerge: { minor: true }\n`,
        },
      },
      image,
      '1.0.0',
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    /**
     * Pushes a tag and waits until the job its notification started has ended for good (after any retries) and
     * the queue is idle; returns that job's outcomes, one per attempt.
     */
    async function push(tag: string): Promise<string[]> {
      const since = env.jobs.length;
      const reason = hasReason('registry-push', `${reg.host}/${image}:${tag}`);
      await pushImage(reg, image, tag, { seed: `${name}-${tag}` });
      await env.waitForJob(
        `the run for ${image}:${tag}, retries included`,
        (j) => j.repo === key && reason(j) && j.outcome !== 'retried',
        since,
      );
      await env.idle();
      return env.jobs
        .slice(since)
        .filter((j) => j.repo === key && reason(j))
        .map((j) => j.outcome);
    }
    /** The planned state for `tag`, as GitHub and git hold it after the runs. */
    async function expectConverged(tag: string) {
      const pulls = gh.pulls('acme', name).filter((p) => p.head.ref.startsWith('tidemark/'));
      expect(pulls.map((p) => [p.head.ref, p.state])).toEqual([[BRANCH, 'open']]);
      const pr = pulls[0]!;
      expect(pr.title).toBe(`chore(deps): update ${reg.host}/${image} to ${tag}`);
      expect(parsePrMetadata(pr.body)?.policies).toEqual([{ key: 'flux-system:web', tag }]);
      expect(pr.labels).toEqual([{ name: 'dependencies' }]);
      expect(pr.autoMerge).toBe('SQUASH');
      expect(pr.comments).toEqual([]);
      // The branch: exactly one tidemark commit on main, holding the planned file byte for byte.
      const main = await gh.branchHead('acme', name, 'main');
      const head = await gh.branchHead('acme', name, BRANCH);
      expect(await gh.git.revParse(`acme/${name}`, `${head}~1`)).toBe(main);
      expect(await gh.readFile('acme', name, BRANCH, 'apps/web/deployment.yaml')).toBe(
        deployment(reg.host, image, tag),
      );
      expect(await gh.readFile('acme', name, 'main', 'apps/web/deployment.yaml')).toBe(
        deployment(reg.host, image, '1.0.0'),
      );
      // One dashboard issue, however many runs there were.
      expect(gh.issues('acme', name)).toHaveLength(1);
      return pr;
    }
    const logged = (msg: string) =>
      env.logLines.some((l) => l.includes(msg) && l.includes(`"repo":"acme/${name}"`));
    return { push, expectConverged, logged };
  }

  it('the commit, killed before GitHub applies it: octokit sends it again, the run goes on', async () => {
    const s = await scenario('crash-commit-before');
    const taken = gh.crashBefore('POST', '/graphql', { graphql: 'createCommitOnBranch' });
    expect(await s.push('1.1.0')).toEqual(['succeeded']);
    expect(taken()).toBe(1);
    await s.expectConverged('1.1.0');
  });

  it('the commit, killed after GitHub applied it: the resent commit is stale, the retry finds the branch holding it and opens the PR', async () => {
    const s = await scenario('crash-commit-after');
    const taken = gh.crashAfter('POST', '/graphql', { graphql: 'createCommitOnBranch' });
    expect(await s.push('1.1.0')).toEqual(['retried', 'succeeded']);
    expect(taken()).toBe(1);
    await s.expectConverged('1.1.0');
  });

  it('the PR, killed after GitHub opened it: the resend is refused (it exists), the retry adopts it, labels it and arms auto-merge', async () => {
    const s = await scenario('crash-pr-after');
    const taken = gh.crashAfter('POST', '/repos/{owner}/{repo}/pulls');
    expect(await s.push('1.1.0')).toEqual(['retried', 'succeeded']);
    expect(taken()).toBe(1);
    await s.expectConverged('1.1.0');
    expect(s.logged('pull request labelled')).toBe(true);
    expect(s.logged('auto-merge enabled on the open pull request')).toBe(true);
  });

  it('the labels, killed after GitHub added them: the resend adds nothing twice', async () => {
    const s = await scenario('crash-labels-after');
    const taken = gh.crashAfter('POST', '/repos/{owner}/{repo}/issues/{issue_number}/labels');
    expect(await s.push('1.1.0')).toEqual(['succeeded']);
    expect(taken()).toBe(1);
    await s.expectConverged('1.1.0');
  });

  it('auto-merge requested, killed before GitHub applied it: octokit sends it again', async () => {
    const s = await scenario('crash-automerge-before');
    const taken = gh.crashBefore('POST', '/graphql', { graphql: 'enablePullRequestAutoMerge' });
    expect(await s.push('1.1.0')).toEqual(['succeeded']);
    expect(taken()).toBe(1);
    await s.expectConverged('1.1.0');
  });

  it('auto-merge requested, and the process is gone (no resend reaches GitHub): the next run re-arms the open PR', async () => {
    const s = await scenario('crash-automerge-dead');
    // The request and each of octokit's resends are cut before GitHub applies them: the run fails with the PR
    // open and labelled but not armed, as a worker killed between the two requests leaves it.
    const taken = gh.crashBefore('POST', '/graphql', {
      graphql: 'enablePullRequestAutoMerge',
      times: 1 + OCTOKIT_RETRIES,
    });
    expect(await s.push('1.1.0')).toEqual(['retried', 'succeeded']);
    expect(taken()).toBe(1 + OCTOKIT_RETRIES);
    await s.expectConverged('1.1.0');
    expect(s.logged('auto-merge enabled on the open pull request')).toBe(true);
    // Opened once: the retry adopted the PR instead of opening another.
    expect(
      gh.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/crash-automerge-dead/pulls'),
    ).toHaveLength(1);
  });

  it('a newer tag for the open PR, killed after GitHub applied the PR update: the resend changes nothing more', async () => {
    const s = await scenario('crash-update-after');
    expect(await s.push('1.1.0')).toEqual(['succeeded']);
    const opened = await s.expectConverged('1.1.0');
    const taken = gh.crashAfter('PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}');
    expect(await s.push('1.2.0')).toEqual(['succeeded']);
    expect(taken()).toBe(1);
    const updated = await s.expectConverged('1.2.0');
    expect(updated.number).toBe(opened.number);
  });

  it('an armed minor-bump PR that becomes a major bump is disarmed before its new commit is written', async () => {
    const name = 'disarm-major';
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: ">=1.0.0" } }\nupdate:\n  autoMerge: { minor: true }\n`,
        },
      },
      image,
      '1.0.0',
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    const push = async (tag: string) => {
      const since = env.jobs.length;
      await pushImage(reg, image, tag, { seed: `${name}-${tag}` });
      await env.waitForJob(
        `the run for ${image}:${tag}`,
        (j) =>
          j.repo === key &&
          hasReason('registry-push', `${reg.host}/${image}:${tag}`)(j) &&
          j.outcome === 'succeeded',
        since,
      );
      await env.idle();
    };
    await push('1.1.0');
    const pr = () => gh.pulls('acme', name).find((p) => p.head.ref === BRANCH)!;
    expect(pr().autoMerge).toBe('SQUASH');
    const from = gh.requests.length;
    await push('2.0.0');
    expect(pr().title).toContain(' 2.0.0');
    expect(pr().autoMerge).toBeUndefined();
    const ops = gh.requests
      .slice(from)
      .map((r) => r.operation)
      .filter((o) => o === 'disablePullRequestAutoMerge' || o === 'createCommitOnBranch');
    expect(ops).toEqual(['disablePullRequestAutoMerge', 'createCommitOnBranch']);
  });
});
