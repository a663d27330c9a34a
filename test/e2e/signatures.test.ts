/**
 * The keyless signature gate in the running App: a private Sigstore (@sigstore/mock: signing CA, CT log, Rekor)
 * and a trusted root made for it (TIDEMARK_TRUSTED_ROOT), cosign `.sig` signatures stored in the real
 * registry. A tag signed by the expected workflow is proposed; a newer one signed by someone else is not, and
 * the dashboard says who signed it. Each push is asserted after the run for it has finished.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoKeyOf } from '../../src/state/policy-index.js';
import { distributionStore, type OciStore, pushSigTag, pushTestImage } from '../registry/trust/oci-store.js';
import {
  GITHUB_ISSUER,
  type Identity,
  type Sigstore,
  simpleSigningPayload,
  startSigstore,
} from '../registry/trust/sigstore-kit.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { ShiftClock } from '../support/shift-clock.js';
import { type Env, hasReason, startEnv } from './harness.js';

/** Puts the manifest at `from` under the tag `to` as well (same bytes, same digest). */
async function retag(url: string, repo: string, from: string, to: string): Promise<void> {
  const got = await fetch(`${url}/v2/${repo}/manifests/${from}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (!got.ok) throw new Error(`GET ${repo}:${from}: HTTP ${got.status}`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await fetch(`${url}/v2/${repo}/manifests/${to}`, {
    method: 'PUT',
    headers: {
      'content-type': got.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json',
    },
    body,
  });
  if (!put.ok) throw new Error(`PUT ${repo}:${to}: HTTP ${put.status} ${await put.text()}`);
}

const RELEASE = 'https://github.com/acme/signed/.github/workflows/release.yml@refs/heads/main';
const EVIL = 'https://github.com/evil/x/.github/workflows/release.yml@refs/heads/main';

describe('signature gate', () => {
  let env: Env;
  let gh: GitHubDouble;
  let store: OciStore;
  let sigstore: Sigstore;
  let installationId: number;
  const clock = new ShiftClock();

  beforeAll(async () => {
    sigstore = await startSigstore();
    const rootFile = join(tmpdir(), `tidemark-trusted-root-${process.pid}.json`);
    await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
    env = await startEnv(
      async (double) => {
        installationId = double.addInstallation('acme');
      },
      () => ({ TIDEMARK_TRUSTED_ROOT: rootFile }),
      { clock },
    );
    gh = env.gh;
    store = distributionStore(env.reg.url);
  });
  afterEach(() => gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  it('a tag signed by the release workflow is proposed; a newer one signed by another identity is blocked, with the signer named', async () => {
    const name = 'signed';
    const repo = `acme/${name}`;
    const image = `${store.host}/${repo}`;
    const v100 = await pushTestImage(store, repo, '1.0.0', 'signed-1.0.0');
    expect(v100.digest).toMatch(/^sha256:/);
    await env.addRepo({
      installationId,
      owner: 'acme',
      name,
      files: {
        'apps/web/deployment.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${image}:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
        '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${image}\n    policy: { semver: { range: "^1.0.0" } }\n    signature:\n      issuer: ${GITHUB_ISSUER}\n      subject: ${RELEASE}\n`,
      },
    });
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });

    /**
     * Pushes an image under a build tag, its cosign signature by `who`, then the same manifest as `tag` (a
     * release promoted after signing); waits for the run that push caused.
     */
    async function pushSigned(tag: string, who: Identity) {
      const img = await pushTestImage(store, repo, `build-${tag}`, `signed-${tag}`);
      const layer = await sigstore.legacySignature(simpleSigningPayload(image, img.digest), who);
      await pushSigTag(store, repo, img.digest, [layer]);
      const since = env.jobs.length;
      await retag(env.reg.url, repo, `build-${tag}`, tag);
      const job = await env.waitForJob(
        `the run for ${image}:${tag}`,
        (j) => j.repo === key && hasReason('registry-push', `${image}:${tag}`)(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
      await env.idle();
    }
    const openPulls = () => gh.pulls('acme', name).filter((p) => p.state === 'open');
    const dashboard = () => gh.issues('acme', name)[0]?.body ?? '';

    await pushSigned('1.1.0', { subject: RELEASE, issuer: GITHUB_ISSUER });
    const [pr] = openPulls();
    expect(pr?.title).toMatch(/1\.1\.0$/);
    expect(pr?.body).toMatch(
      /✅ \*\*signature\*\*: signed by https:\/\/github\.com\/acme\/signed\/.*Rekor log index \d+/,
    );
    const gates = gh.checkRuns('acme', name).filter((c) => c.name === 'tidemark/gates');
    expect(gates.at(-1)?.output?.text).toContain('signature');

    await pushSigned('1.2.0', { subject: EVIL, issuer: GITHUB_ISSUER });
    expect(openPulls().map((p) => p.title.slice(-5))).toEqual(['1.1.0']);
    // Fresh: looked at again for a while (a signature often follows its image), then blocked.
    expect(dashboard()).toMatch(
      /`1\.2\.0` waits: signature: .*signed by https:\/\/github\.com\/evil\/x.*looked at again until/,
    );
    const since = env.jobs.length;
    clock.advance(16 * 60_000);
    await env.waitForJob('a gate-due run', (j) => j.repo === key && hasReason('gate-due')(j), since);
    await env.idle();
    expect(openPulls().map((p) => p.title.slice(-5))).toEqual(['1.1.0']);
    expect(dashboard()).toMatch(/`1\.2\.0` blocked: signature: .*signed by https:\/\/github\.com\/evil\/x/);
  });
});
