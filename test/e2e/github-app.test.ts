/**
 * End to end, every part real except GitHub: a docker-registry sends a push notification to tidemark, which
 * reads the repo over smart HTTP, asks the registry for tags, and opens / updates a PR on the GitHub double
 * (whose every request is checked against GitHub's OpenAPI description and GraphQL schema).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Tidemark } from '../../src/main.js';
import { parsePrMetadata } from '../../src/plan/messages.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import type { Registry } from '../support/registry.js';
import { type Env, NOTIFY_SECRET, sleep, startEnv, until } from './harness.js';

const deployment = (host: string, tag: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: web
          image: ${host}/acme/web:${tag} # {"$imagepolicy": "flux-system:web"}
`;

describe('GitHub App end to end', () => {
  let env: Env;
  let gh: GitHubDouble;
  let reg: Registry;
  let app: Tidemark;
  let logLines: string[];

  beforeAll(async () => {
    env = await startEnv(async (double, registry) => {
      await pushImage(registry, 'acme/web', '1.0.0', { seed: '1.0.0' });
      const inst = double.addInstallation('acme');
      await double.addRepo({
        installationId: inst,
        owner: 'acme',
        name: 'config',
        files: {
          'apps/web/deployment.yaml': deployment(registry.host, '1.0.0'),
          '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${registry.host}/acme/web\n    policy: { semver: { range: "^1.0.0" } }\n`,
        },
      });
    });
    ({ gh, reg, app, logLines } = env);
  });

  afterEach(() => gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  it('nothing to do at start: no PR, no API call beyond listing', async () => {
    expect(gh.pulls('acme', 'config')).toHaveLength(0);
  });

  it('a tag pushed to the registry becomes a PR with exactly the expected diff, in ≤ 4 API calls', async () => {
    const before = gh.apiCalls();
    const start = gh.requests.length;
    await pushImage(reg, 'acme/web', '1.1.0', { seed: '1.1.0' });
    const pr = await until('a PR', () => gh.pulls('acme', 'config')[0]);
    expect(pr.head.ref).toBe('tidemark/flux-system-web');
    expect(pr.title).toBe(`chore(deps): update ${reg.host}/acme/web to 1.1.0`);
    expect(await gh.readFile('acme', 'config', pr.head.ref, 'apps/web/deployment.yaml')).toBe(
      deployment(reg.host, '1.1.0'),
    );
    expect(await gh.readFile('acme', 'config', 'main', 'apps/web/deployment.yaml')).toBe(
      deployment(reg.host, '1.0.0'),
    );
    expect(parsePrMetadata(pr.body)?.policies).toEqual([{ key: 'flux-system:web', tag: '1.1.0' }]);
    await sleep(300);
    console.log(
      `figure: API calls to open a PR: ${gh.apiCalls() - before} (${gh.requests
        .slice(start)
        .map((r) => r.operation ?? r.path)
        .join(', ')})`,
    );
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(4);
  });

  it('the same delivery three times: still one PR and one commit, and no API call', async () => {
    const head = await gh.branchHead('acme', 'config', 'tidemark/flux-system-web');
    const before = gh.apiCalls();
    const digest = (
      await fetch(`${reg.url}/v2/acme/web/manifests/1.1.0`, {
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
            repository: 'acme/web',
            tag: '1.1.0',
            digest,
          },
          request: { host: reg.host },
        },
      ],
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/registry/distribution/local`, {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
          authorization: `Bearer ${NOTIFY_SECRET}`,
        },
        body,
      });
      expect([200, 202]).toContain(res.status);
    }
    await sleep(800);
    expect(gh.pulls('acme', 'config')).toHaveLength(1);
    expect(await gh.branchHead('acme', 'config', 'tidemark/flux-system-web')).toBe(head);
    expect(gh.apiCalls() - before).toBe(0);
  });

  it('a newer tag while the PR is open updates the same PR, title and body too, in ≤ 3 API calls', async () => {
    const before = gh.apiCalls();
    const start = gh.requests.length;
    await pushImage(reg, 'acme/web', '1.2.0', { seed: '1.2.0' });
    await until('the PR to move to 1.2.0', () => gh.pulls('acme', 'config')[0]?.title.endsWith('1.2.0'));
    const prs = gh.pulls('acme', 'config');
    expect(prs).toHaveLength(1);
    expect(parsePrMetadata(prs[0]!.body)?.policies).toEqual([{ key: 'flux-system:web', tag: '1.2.0' }]);
    expect(await gh.readFile('acme', 'config', 'tidemark/flux-system-web', 'apps/web/deployment.yaml')).toBe(
      deployment(reg.host, '1.2.0'),
    );
    await sleep(300);
    console.log(
      `figure: API calls to update a PR: ${gh.apiCalls() - before} (${gh.requests
        .slice(start)
        .map((r) => r.operation ?? r.path)
        .join(', ')})`,
    );
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(3);
  });

  it('a PR closed unmerged skips that tag; a newer tag is proposed again', async () => {
    const pr = gh.pulls('acme', 'config')[0]!;
    await gh.closePull('acme', 'config', pr.number);
    await sleep(1000);
    expect(gh.pulls('acme', 'config').filter((p) => p.state === 'open')).toHaveLength(0);
    await pushImage(reg, 'acme/web', '1.3.0', { seed: '1.3.0' });
    const next = await until('a new PR for 1.3.0', () =>
      gh.pulls('acme', 'config').find((p) => p.state === 'open'),
    );
    expect(next.title.endsWith('1.3.0')).toBe(true);
    expect(next.number).not.toBe(pr.number);
  });

  it('merging the PR lands the change on main; the next run changes nothing', async () => {
    const pr = gh.pulls('acme', 'config').find((p) => p.state === 'open')!;
    await gh.mergePull('acme', 'config', pr.number);
    expect(await gh.readFile('acme', 'config', 'main', 'apps/web/deployment.yaml')).toBe(
      deployment(reg.host, '1.3.0'),
    );
    await sleep(1000);
    const before = gh.apiCalls();
    await app.reconcileAll('manual');
    await sleep(1500);
    expect(gh.pulls('acme', 'config').filter((p) => p.state === 'open')).toHaveLength(0);
    expect(await gh.branchHead('acme', 'config', pr.head.ref)).toBeNull();
    // Listing installations and their repos, plus one fresh PR listing for the manual run.
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(3);
  });

  it('a person pushing to the PR branch freezes it: tidemark comments once and stops updating it', async () => {
    await pushImage(reg, 'acme/web', '1.4.0', { seed: '1.4.0' });
    const pr = await until('a PR for 1.4.0', () =>
      gh.pulls('acme', 'config').find((p) => p.state === 'open'),
    );
    const human = await gh.pushAsUser(
      'acme',
      'config',
      pr.head.ref,
      { 'NOTES.md': 'hand edit\n' },
      'hand edit',
    );
    await pushImage(reg, 'acme/web', '1.5.0', { seed: '1.5.0' });
    await until(
      'the comment',
      () => gh.pulls('acme', 'config').find((p) => p.number === pr.number)?.comments.length,
    );
    await sleep(800);
    const after = gh.pulls('acme', 'config').find((p) => p.number === pr.number)!;
    expect(await gh.branchHead('acme', 'config', pr.head.ref)).toBe(human);
    expect(after.comments).toHaveLength(1);
    expect(after.comments[0]).toContain('stopped updating this branch');
    expect(parsePrMetadata(after.body)?.frozen).toBe(true);
  });

  it('/metrics reports webhooks, jobs, bumps and GitHub calls; /healthz and /readyz answer', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
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
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${app.url}/readyz`)).json()).toMatchObject({ ok: true });
  });

  it('no secret reaches the logs', () => {
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [NOTIFY_SECRET, gh.webhookSecret, gh.privateKey.split('\n')[1]!])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/ghs_[0-9a-f]{36}/);
  });
});
