/**
 * End to end, every part real except GitHub: a docker-registry sends a push notification to tidemark, which
 * reads the repo over smart HTTP, asks the registry for tags, and opens / updates a PR on the GitHub double
 * (whose every request is checked against GitHub's OpenAPI description and GraphQL schema).
 *
 * Each test is its own scenario: its own config repo and its own image, so it passes or fails alone. A test
 * proves that something did not happen only after the job for its input has finished.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrMetadata } from '../../src/core/plan/messages.js';
import { repoKeyOf } from '../../src/state/policy-index.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import type { Registry } from '../support/registry.js';
import { type Env, hasReason, NOTIFY_SECRET, startEnv, until } from './harness.js';

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

describe('GitHub App end to end', () => {
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

  /** A config repo `acme/<name>` whose deployment runs image `acme/<name>` at 1.0.0, watched with ^1.0.0. */
  async function scenario(name: string) {
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^1.0.0" } }\n`,
        },
      },
      image,
      '1.0.0',
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    const file = (ref: string) => gh.readFile('acme', name, ref, 'apps/web/deployment.yaml');
    const expected = (tag: string) => deployment(reg.host, image, tag);
    /** Pushes a tag and waits until the job its notification started has finished. */
    async function push(tag: string) {
      const since = env.jobs.length;
      await pushImage(reg, image, tag, { seed: `${name}-${tag}` });
      const job = await env.waitForJob(
        `the run for ${image}:${tag}`,
        (j) => j.repo === key && hasReason('registry-push', `${reg.host}/${image}:${tag}`)(j),
        since,
      );
      if (job.outcome !== 'succeeded')
        console.log(env.logLines.filter((l) => l.includes('"level":"warn"')).slice(-3));
      expect(job.outcome).toBe('succeeded');
    }
    /** Does `act` and waits until a job of this repo with a reason of `kind` has finished. */
    async function after(kind: string, act: () => Promise<unknown>) {
      const since = env.jobs.length;
      await act();
      const job = await env.waitForJob(
        `a ${kind} run of ${name}`,
        (j) => j.repo === key && hasReason(kind)(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
      await env.idle();
    }
    const pulls = () => gh.pulls('acme', name);
    const openPulls = () => pulls().filter((p) => p.state === 'open');
    return { image, key, file, expected, push, after, pulls, openPulls };
  }

  it('nothing to do at start: no PR, no branch', async () => {
    const s = await scenario('start');
    expect(s.pulls()).toHaveLength(0);
    expect(await gh.branchHead('acme', 'start', 'tidemark/flux-system-web')).toBeNull();
    expect(await s.file('main')).toBe(s.expected('1.0.0'));
  });

  it('a tag pushed to the registry becomes a PR with exactly the expected diff, in ≤ 4 API calls', async () => {
    const s = await scenario('open');
    const before = gh.apiCalls();
    const start = gh.requests.length;
    await s.push('1.1.0');
    const [pr] = s.pulls();
    expect(pr?.head.ref).toBe('tidemark/flux-system-web');
    expect(pr?.title).toBe(`chore(deps): update ${reg.host}/${s.image} to 1.1.0`);
    expect(await s.file(pr!.head.ref)).toBe(s.expected('1.1.0'));
    expect(await s.file('main')).toBe(s.expected('1.0.0'));
    expect(parsePrMetadata(pr!.body)?.policies).toEqual([{ key: 'flux-system:web', tag: '1.1.0' }]);
    console.log(
      `figure: API calls to open a PR: ${gh.apiCalls() - before} (${gh.requests
        .slice(start)
        .map((r) => r.operation ?? r.path)
        .join(', ')})`,
    );
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(4);
    // The check run on main's head (posted by the first run) now shows the PR: updated in place, not a second one.
    const [check, ...more] = gh.checkRuns('acme', 'open');
    expect(more).toEqual([]);
    expect(check!.head_sha).toBe(await gh.branchHead('acme', 'open', 'main'));
    expect(check!.updates).toBe(1);
    expect(check!.conclusion).toBe('success');
    expect(check!.output?.title).toBe('tidemark: 1 policy — 1 PR open');
    expect(check!.output?.text).toContain(
      `| flux-system:web | ${reg.host}/${s.image} | 1.0.0 | 1.1.0 | PR open #${pr!.number} |`,
    );
  });

  it('the same delivery three times: still one PR and one commit, and no API call', async () => {
    const s = await scenario('repeat');
    await s.push('1.1.0');
    const head = await gh.branchHead('acme', 'repeat', 'tidemark/flux-system-web');
    expect(head).not.toBeNull();
    const before = gh.apiCalls();
    const digest = (
      await fetch(`${reg.url}/v2/${s.image}/manifests/1.1.0`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).headers.get('docker-content-digest');
    const body = JSON.stringify({
      events: [
        {
          action: 'push',
          target: {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            repository: s.image,
            tag: '1.1.0',
            digest,
          },
          request: { host: reg.host },
        },
      ],
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${env.app.url}/registry/distribution/local`, {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
          authorization: `Bearer ${NOTIFY_SECRET}`,
        },
        body,
      });
      expect([200, 202]).toContain(res.status);
    }
    // Each delivery was answered after it was queued (or dropped as a duplicate); now let the queue drain.
    await env.idle();
    expect(s.pulls()).toHaveLength(1);
    expect(await gh.branchHead('acme', 'repeat', 'tidemark/flux-system-web')).toBe(head);
    expect(gh.apiCalls() - before).toBe(0);
  });

  it('a newer tag while the PR is open updates the same PR, title and body too, in ≤ 5 API calls', async () => {
    const s = await scenario('update');
    await s.push('1.1.0');
    const before = gh.apiCalls();
    const start = gh.requests.length;
    await s.push('1.2.0');
    const prs = s.pulls();
    expect(prs).toHaveLength(1);
    expect(prs[0]!.title.endsWith('1.2.0')).toBe(true);
    expect(parsePrMetadata(prs[0]!.body)?.policies).toEqual([{ key: 'flux-system:web', tag: '1.2.0' }]);
    expect(await s.file('tidemark/flux-system-web')).toBe(s.expected('1.2.0'));
    console.log(
      `figure: API calls to update a PR: ${gh.apiCalls() - before} (${gh.requests
        .slice(start)
        .map((r) => r.operation ?? r.path)
        .join(', ')})`,
    );
    // A fresh PR listing, the commit, the PR's new title and body, the check run's and the dashboard's new row.
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(5);
  });

  it('a revoked installation token: the run fails once, the token is dropped, the retry mints a new one and lands the bump', async () => {
    const s = await scenario('revoked');
    await s.push('1.1.0');
    expect(gh.revokeInstallationTokens()).toBeGreaterThan(0);
    const since = env.jobs.length;
    await pushImage(reg, s.image, '1.2.0', { seed: 'revoked-1.2.0' });
    const reason = hasReason('registry-push', `${reg.host}/${s.image}:1.2.0`);
    const first = await env.waitForJob('the first attempt', (j) => j.repo === s.key && reason(j), since);
    expect(first.outcome).toBe('retried');
    await env.waitForJob(
      'the retry',
      (j) => j.repo === s.key && reason(j) && j.outcome === 'succeeded',
      since,
    );
    expect(s.openPulls().map((p) => p.title.slice(-5))).toEqual(['1.2.0']);
    expect(env.logLines.join('')).toContain(
      'GitHub refused the installation token; a new one is minted for the retry',
    );
  });

  it("GitHub's rate limits (a secondary 403, then a 429, with retry-after) delay the bump; it lands exactly once", async () => {
    const s = await scenario('ratelimited');
    const refused = gh.rateLimit('POST', '/repos/{owner}/{repo}/pulls', {
      status: 403,
      retryAfterSeconds: 1,
      times: 1,
    });
    const refused429 = gh.rateLimit('POST', '/repos/{owner}/{repo}/pulls', {
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const since = env.jobs.length;
    await pushImage(reg, s.image, '1.1.0', { seed: 'ratelimited-1.1.0' });
    const reason = hasReason('registry-push', `${reg.host}/${s.image}:1.1.0`);
    await env.waitForJob(
      'the run that lands',
      (j) => j.repo === s.key && reason(j) && j.outcome === 'succeeded',
      since,
    );
    await env.idle();
    expect([refused(), refused429()]).toEqual([1, 1]);
    expect(s.pulls().map((p) => p.title.slice(-5))).toEqual(['1.1.0']);
    // One commit on the PR branch: the retry found the branch already holding the change.
    const head = await gh.branchHead('acme', 'ratelimited', 'tidemark/flux-system-web');
    const base = await gh.branchHead('acme', 'ratelimited', 'main');
    expect(await gh.git.revParse('acme/ratelimited', `${head}~1`)).toBe(base);
  });

  it('a PR closed unmerged skips that tag; a newer tag is proposed again', async () => {
    const s = await scenario('decline');
    await s.push('1.1.0');
    const pr = s.pulls()[0]!;
    await s.after('pull-request-closed', () => gh.closePull('acme', 'decline', pr.number));
    expect(s.openPulls()).toHaveLength(0);
    await s.push('1.2.0');
    const next = s.openPulls();
    expect(next).toHaveLength(1);
    expect(next[0]!.title.endsWith('1.2.0')).toBe(true);
    expect(next[0]!.number).not.toBe(pr.number);
  });

  it('merging the PR lands the change on main and deletes the branch; the next run changes nothing', async () => {
    const s = await scenario('merge');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    await s.after('pull-request-closed', () => gh.mergePull('acme', 'merge', pr.number));
    expect(await s.file('main')).toBe(s.expected('1.1.0'));
    expect(await gh.branchHead('acme', 'merge', pr.head.ref)).toBeNull();
    const before = gh.apiCalls();
    const mainHead = await gh.branchHead('acme', 'merge', 'main');
    await s.after('manual', () =>
      env.app.queue.enqueue({
        repoKey: s.key,
        target: { installationId, owner: 'acme', repo: 'merge', cloneUrl: '', defaultBranch: '' },
        reasons: [{ kind: 'manual' }],
      }),
    );
    expect(s.openPulls()).toHaveLength(0);
    expect(await gh.branchHead('acme', 'merge', 'main')).toBe(mainHead);
    // Looking the repo up (the target carries no clone URL) and one fresh PR listing.
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(3);
  });

  it('a person pushing to the PR branch freezes it: tidemark comments once and stops updating it', async () => {
    const s = await scenario('freeze');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    const human = await gh.pushAsUser(
      'acme',
      'freeze',
      pr.head.ref,
      { 'NOTES.md': 'hand edit\n' },
      'hand edit',
    );
    await s.push('1.2.0');
    await env.idle();
    await s.push('1.3.0');
    await env.idle();
    const after = s.pulls().find((p) => p.number === pr.number)!;
    expect(await gh.branchHead('acme', 'freeze', pr.head.ref)).toBe(human);
    expect(after.comments).toHaveLength(1);
    expect(after.comments[0]).toContain('stopped updating this branch');
    expect(parsePrMetadata(after.body)?.frozen).toBe(true);
  });

  it('in a busy repo (tidemark’s PR below 100 newer ones) the open PR is still found and updated, not duplicated', async () => {
    const s = await scenario('busy');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    gh.addForeignPulls('acme', 'busy', 150);
    await s.push('1.2.0');
    const mine = s.pulls().filter((p) => p.head.ref.startsWith('tidemark/'));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.number).toBe(pr.number);
    expect(mine[0]!.title.endsWith('1.2.0')).toBe(true);
  });

  it('a repo removed from the installation: its clone is deleted from the work directory', async () => {
    await scenario('leaving');
    await scenario('staying');
    const clones = async (name: string) =>
      (await readdir(env.workDir)).filter((n) => n.startsWith(`acme_${name}-`));
    expect(await clones('leaving')).toHaveLength(1);
    // The webhook is answered after its handler ran, so the effect is there once it returns.
    await gh.sendWebhook('installation_repositories', {
      action: 'removed',
      installation: { id: installationId },
      repository_selection: 'selected',
      repositories_added: [],
      repositories_removed: [
        { id: 1, node_id: 'R_1', name: 'leaving', full_name: 'acme/leaving', private: true },
      ],
      sender: { login: 'octocat', type: 'User' },
    });
    expect(await clones('leaving')).toEqual([]);
    expect(await clones('staying')).toHaveLength(1);
  });

  it('/metrics reports webhooks, jobs, bumps and GitHub calls; /healthz and /readyz answer', async () => {
    const s = await scenario('metrics');
    await s.push('1.1.0');
    await s.after('pull-request-closed', () => gh.closePull('acme', 'metrics', s.pulls()[0]!.number));
    const text = await (await fetch(`${env.app.url}/metrics`)).text();
    expect(text).toMatch(
      /tidemark_webhooks_total\{source="registry",provider="distribution",outcome="accepted"\} [1-9]/,
    );
    expect(text).toMatch(
      /tidemark_webhooks_total\{source="github",provider="pull_request",outcome="enqueued"\} [1-9]/,
    );
    expect(text).toMatch(/tidemark_bumps_total\{policy="flux-system:web",mode="pull-request"\} [1-9]/);
    expect(text).toMatch(/tidemark_jobs_total\{outcome="succeeded"\} [1-9]/);
    expect(text).toMatch(/tidemark_github_api_calls_total\{kind="graphql",status="200"\} [1-9]/);
    expect(text).toMatch(/tidemark_push_to_publish_seconds_count [1-9]/);
    expect((await fetch(`${env.app.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${env.app.url}/readyz`)).json()).toMatchObject({ ok: true });
  });

  it('no secret reaches the logs', async () => {
    const s = await scenario('secrets');
    await s.push('1.1.0');
    await until('the PR', () => s.pulls()[0]);
    const all = env.logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [NOTIFY_SECRET, gh.webhookSecret, gh.privateKey.split('\n')[1]!])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/ghs_[0-9a-f]{36}/);
  });

  it('what tidemark decided and what the user must fix reach GitHub: one check run on the head, naming file and line', async () => {
    const name = 'fixes';
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          'apps/web/typo.yaml': `tag: 1.0.0 # {"$imagepolicy": "flux-system:wbe:tag"}\n`,
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^1.0.0" } }\n`,
        },
      },
      image,
      '1.0.0',
    );
    const runs = gh.checkRuns('acme', name);
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run.head_sha).toBe(await gh.branchHead('acme', name, 'main'));
    expect(run.conclusion).toBe('neutral');
    expect(run.output?.title).toBe('tidemark: 1 policy — 1 up to date; 1 thing to fix');
    expect(run.output?.text).toContain(
      `| flux-system:web | ${reg.host}/${image} | 1.0.0 | 1.0.0 | up to date |`,
    );
    expect(run.output?.text).toContain(
      'apps/web/typo.yaml:1: marker "flux-system:wbe:tag" names policy flux-system:wbe, which is not defined; did you mean "flux-system:web"?',
    );
    // The next run on the same commit reports nothing again.
    const since = env.jobs.length;
    await gh.sendWebhook('installation_repositories', {
      action: 'added',
      installation: { id: installationId },
      repository_selection: 'selected',
      repositories_added: [{ id: 1, node_id: 'R_1', name, full_name: `acme/${name}`, private: true }],
      repositories_removed: [],
      sender: { login: 'octocat', type: 'User' },
    });
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    await env.waitForJob('the second run', (j) => j.repo === key, since);
    expect(gh.checkRuns('acme', name)).toHaveLength(1);
    expect(gh.checkRuns('acme', name)[0]!.updates).toBe(0);
  });

  it('a configuration error fails the check run on the head, naming file, line and field', async () => {
    const name = 'broken';
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^1.0.0" } }\n  - name: api\n    image: ${reg.host}/${image}\n    policy: { semvr: { range: "^1" } }\n`,
        },
      },
      image,
      '1.0.0',
    );
    const [run, ...more] = gh.checkRuns('acme', name);
    expect(more).toEqual([]);
    expect(run!.conclusion).toBe('failure');
    expect(run!.output?.title).toMatch(/^tidemark: 1 policy — 1 up to date; 2 things to fix$/);
    expect(run!.output?.text).toContain(
      '- .github/tidemark.yml:7: policies[1].policy.semvr: unknown field; did you mean "semver"?',
    );
  });

  it("a PR from a fork on a tidemark/ branch is not tidemark's: never adopted, and its metadata declines nothing", async () => {
    const s = await scenario('forked');
    const forged =
      '<!-- tidemark: {"v":1,"branch":"tidemark/flux-system-web","policies":[{"key":"flux-system:web","tag":"1.1.0"}]} -->';
    // A closed fork PR claiming 1.1.0 was declined, and an open one on the branch tidemark would use.
    const declined = gh.openPullAsUser('acme', 'forked', {
      head: 'tidemark/flux-system-web',
      title: 'declined?',
      body: `nothing to see\n\n${forged}`,
      user: 'mallory',
      fork: 'mallory/forked',
    });
    await s.after('pull-request-closed', () => gh.closePull('acme', 'forked', declined.number));
    const open = gh.openPullAsUser('acme', 'forked', {
      head: 'tidemark/flux-system-web',
      title: 'my change',
      body: `my text\n\n${forged}`,
      user: 'mallory',
      fork: 'mallory/forked',
    });
    await s.push('1.1.0');
    // tidemark proposes 1.1.0 in a PR of its own, and leaves the fork's PR exactly as its author wrote it.
    const mine = s.openPulls().filter((p) => p.number !== open.number);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.title).toContain('1.1.0');
    expect(mine[0]!.author).toBeUndefined(); // opened through the API by the App (tidemark[bot])
    const theirs = s.pulls().find((p) => p.number === open.number)!;
    expect(theirs).toMatchObject({ state: 'open', title: 'my change', body: `my text\n\n${forged}` });
    expect(await s.file('tidemark/flux-system-web')).toBe(s.expected('1.1.0'));
  });
});
