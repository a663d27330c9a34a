/**
 * `tidemark plan` is a dry run of the App: on one repo, the App (over the GitHub double, a real registry that
 * demands credentials, real git) and the CLI (on the same files, the same environment) collect the same facts,
 * read the registry with the same credentials (named by the repo's `registries:` block), and plan the same
 * pull requests with the same titles, labels and file contents.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { captureIO } from '../cli/capture-io.js';
import { pushImage } from '../support/images.js';
import { type Env, startEnv } from './harness.js';

const USER = 'agree-bot';
const PASS = 'agree-s3cret-42';

describe('the App and tidemark plan agree on one repo', () => {
  let env: Env;
  let files: Record<string, string>;

  beforeAll(async () => {
    env = await startEnv(
      async (gh, reg) => {
        const installationId = gh.addInstallation('acme');
        for (const [image, tags] of [
          ['acme/agree-web', ['1.0.0', '1.2.0', '2.0.0']],
          ['acme/agree-api', ['3.1.0', '3.4.1']],
        ] as const) {
          for (const tag of tags) await pushImage(reg, image, tag, { seed: `${image}-${tag}` });
        }
        const host = reg.host;
        files = {
          'apps/web.yaml': `image: ${host}/acme/agree-web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
          'apps/api.yaml': `api:\n  tag: "3.1.0" # {"$imagepolicy": "flux-system:api:tag"}\n`,
          '.github/tidemark.yml': `policies:
  - name: web
    image: ${host}/acme/agree-web
    policy: { semver: { range: "^1.0.0" } }
  - name: api
    image: ${host}/acme/agree-api
    policy: { semver: { range: ">=3.0.0" } }
update:
  labels: [dependencies]
registries:
  "${host}":
    credentials: { usernameEnv: AGREE_USER, passwordEnv: AGREE_PASS }
`,
        };
        await gh.addRepo({ installationId, owner: 'acme', name: 'agree', files });
      },
      () => ({}),
      {
        registry: { auth: 'basic', users: [{ user: USER, pass: PASS }] },
        processEnv: { AGREE_USER: USER, AGREE_PASS: PASS },
      },
    );
  });

  afterAll(async () => {
    await env?.stop();
  });

  async function checkout(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-agree-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('opens the pull requests the CLI plans, with the same titles, labels and files', async () => {
    // The App ran the repo once at start (the harness waited for that run): its PRs are open.
    const pulls = env.gh.pulls('acme', 'agree').filter((p) => p.state === 'open');
    const app = pulls
      .map((p) => ({
        branch: p.head.ref,
        base: p.base.ref,
        title: p.title,
        labels: p.labels.map((l) => l.name),
      }))
      .sort((a, b) => (a.branch < b.branch ? -1 : 1));
    expect(app.map((p) => p.branch)).toEqual(['tidemark/flux-system-api', 'tidemark/flux-system-web']);

    const dir = await checkout();
    try {
      // No DOCKER_CONFIG credentials: the registry answers only to the credentials the repo's block names.
      const processEnv = { AGREE_USER: USER, AGREE_PASS: PASS, DOCKER_CONFIG: dir };
      const io = captureIO({ env: processEnv });
      expect(await main(['plan', '--dir', dir, '--json', '--base', 'main'], io), io.err).toBe(0);
      const plan = JSON.parse(io.out) as {
        perPolicy: Record<string, { status: string; tag?: string }>;
        publishing: {
          actions: { kind: string; branch: string; base?: string; title?: string; labels?: string[] }[];
        };
      };
      expect(plan.perPolicy['flux-system:web']).toMatchObject({ status: 'selected', tag: '1.2.0' });
      expect(plan.perPolicy['flux-system:api']).toMatchObject({ status: 'selected', tag: '3.4.1' });
      const cli = plan.publishing.actions
        .filter((a) => a.kind === 'open-pr')
        .map((a) => ({ branch: a.branch, base: a.base, title: a.title, labels: a.labels }))
        .sort((a, b) => (a.branch < b.branch ? -1 : 1));
      expect(cli).toEqual(app);

      // The files: the CLI's --write leaves each file as the App's PR branch for its policy holds it.
      const write = captureIO({ env: processEnv });
      expect(await main(['plan', '--dir', dir, '--write'], write), write.err).toBe(0);
      for (const [branch, path] of [
        ['tidemark/flux-system-web', 'apps/web.yaml'],
        ['tidemark/flux-system-api', 'apps/api.yaml'],
      ] as const) {
        const onBranch = await env.gh.readFile('acme', 'agree', branch, path);
        expect(onBranch, `${path} on ${branch}`).toBe(await readFile(join(dir, path), 'utf8'));
        expect(onBranch).not.toBe(files[path]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without the variables the repo names, the CLI cannot read the registry (so the App used them)', async () => {
    const dir = await checkout();
    try {
      const io = captureIO({ env: { DOCKER_CONFIG: dir } });
      expect(await main(['plan', '--dir', dir], io)).toBe(3);
      expect(io.err).toMatch(/registry error: .*agree-(web|api)/);
      expect(io.err).toContain('AGREE_USER, AGREE_PASS are not set');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
