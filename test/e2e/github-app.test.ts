/**
 * End to end, every part real except GitHub: a docker-registry sends a push notification to tidemark, which
 * reads the repo over smart HTTP, asks the registry for tags, and opens / updates a PR on the GitHub double
 * (whose every request is checked against GitHub's OpenAPI description and GraphQL schema).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { startTidemark, type Tidemark } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { parsePrMetadata } from '../../src/plan/messages.js';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';

const NOTIFY_SECRET = 'registry-notify-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => T | Promise<T>, ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

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
  let gh: GitHubDouble;
  let reg: Registry;
  let app: Tidemark;
  let workDir: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    gh = await startGitHubDouble();
    reg = await startRegistry();
    await pushImage(reg, 'acme/web', '1.0.0', { seed: '1.0.0' });
    const inst = gh.addInstallation('acme');
    await gh.addRepo({
      installationId: inst,
      owner: 'acme',
      name: 'config',
      files: {
        'apps/web/deployment.yaml': deployment(reg.host, '1.0.0'),
        '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1.0.0" } }\n`,
      },
    });
    workDir = await mkdtemp(join(tmpdir(), 'tidemark-e2e-'));
    const env = readEnv(
      {
        APP_ID: String(gh.appId),
        PRIVATE_KEY: gh.privateKey,
        WEBHOOK_SECRET: gh.webhookSecret,
        GITHUB_API_URL: gh.url,
        HOST: '127.0.0.1',
        PORT: '0',
        TIDEMARK_WORKDIR: workDir,
        TIDEMARK_SETTLE: '200ms',
        TIDEMARK_REGISTRY_ENDPOINTS_JSON: JSON.stringify({
          endpoints: [
            {
              id: 'local',
              provider: 'distribution',
              secretsEnv: ['NOTIFY_SECRET'],
              allowedImages: [`${reg.host}/acme/`],
            },
          ],
        }),
      },
      { workDir },
    );
    if (!env.ok) throw new Error(env.problems.join('\n'));
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logLines.push(String(chunk));
        cb();
      },
    });
    app = await startTidemark(env.env, {
      processEnv: { NOTIFY_SECRET },
      githubThrottle: false,
      log: createLogger({ level: 'debug', destination: sink }),
    });
    gh.setWebhookUrl(`${app.url}/api/github/webhooks`);
    await reg.setNotifyUrl(`${app.url}/registry/distribution/local`, {
      Authorization: [`Bearer ${NOTIFY_SECRET}`],
    });
    // The start-up reconcile reads the repo's policies (and finds it up to date).
    await until('the first reconcile', async () => (await app.queue.stats()).completed >= 1).catch((e) => {
      console.log(logLines.join('').slice(-6000));
      console.log(
        gh.validationErrors,
        gh.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
      );
      throw e;
    });
  });

  afterEach(() => gh.assertNoValidationErrors());
  afterAll(async () => {
    await app?.close();
    await reg?.stop();
    await gh?.stop();
    await rm(workDir, { recursive: true, force: true });
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
    // Listing installations and their repos, plus one fresh PR listing for the manual run.
    expect(gh.apiCalls() - before).toBeLessThanOrEqual(3);
  });

  it('no secret reaches the logs', () => {
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [NOTIFY_SECRET, gh.webhookSecret, gh.privateKey.split('\n')[1]!])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/ghs_[0-9a-f]{36}/);
  });
});
