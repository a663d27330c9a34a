/**
 * `tidemark plan` reads a registry with the workload's cloud identity when the operator turns it on
 * (TIDEMARK_CLOUD_IDENTITY), and honours a Flux ImageRepository's `spec.provider`. The CLI runs as its own
 * process: google-auth-library reads the metadata host from the process environment (GCE_METADATA_HOST).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GarStandIn,
  type MetadataStandIn,
  startGar,
  startMetadataServer,
} from '../support/cloud/gcp.js';
import { pushImage } from '../support/images.js';
import { makeTempDir, type TempDir } from '../support/process.js';
import { type Registry, startRegistry } from '../support/registry.js';

const ROOT = join(import.meta.dirname, '..', '..');

function plan(dir: string, env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'plan', '--dir', dir],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: dir, TIDEMARK_REGISTRY_ALLOW_HOSTS: '127.0.0.1', ...env },
      },
      (err, out, errOut) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

describe('tidemark plan with cloud identity (GCP metadata server stand-in)', () => {
  let home: TempDir;
  let reg: Registry;
  let metadata: MetadataStandIn;
  let gar: GarStandIn;
  let env: Record<string, string>;

  async function repo(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(home.path, name);
    for (const [p, text] of Object.entries(files)) {
      await mkdir(join(dir, p, '..'), { recursive: true });
      await writeFile(join(dir, p), text);
    }
    return dir;
  }
  const deployment = (image: string) =>
    `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${image}:v1.4.0 # {"$imagepolicy": "flux-system:web"}\n`;

  beforeAll(async () => {
    home = await makeTempDir('tidemark-plan-cloud-');
    reg = await startRegistry({ auth: 'token' });
    await pushImage(reg, 'acme-prod/apps/web', 'v1.4.0', { seed: 'a' });
    await pushImage(reg, 'acme-prod/apps/web', 'v1.5.0', { seed: 'b' });
    metadata = await startMetadataServer({ now: () => Date.now() });
    gar = await startGar({ registry: reg, metadata });
    await mkdir(join(home.path, 'docker'), { recursive: true });
    env = {
      TIDEMARK_CLOUD_IDENTITY: 'gcp',
      TIDEMARK_CLOUD_IDENTITY_HOSTS: `${gar.host}=gcp`,
      GCE_METADATA_HOST: metadata.host,
      CLOUDSDK_CONFIG: home.path,
      DOCKER_CONFIG: join(home.path, 'docker'),
    };
  });
  afterAll(async () => {
    await gar?.stop();
    await metadata?.stop();
    await reg?.stop();
    await home?.remove();
  });

  it('lists tags with the metadata server token: no stored credential, the bump is proposed', async () => {
    const image = `${gar.host}/acme-prod/apps/web`;
    const dir = await repo('native', {
      'app.yaml': deployment(image),
      '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${image}\n    policy: { semver: { range: "^1.0.0" } }\n`,
    });
    const r = await plan(dir, env);
    expect(r.err).toBe('flux-system:web v1.4.0 → v1.5.0\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${image}:v1.5.0`);
    expect(metadata.issued.length).toBeGreaterThan(0);
  });

  it('spec.provider: generic keeps the host off cloud identity (the registry then refuses)', async () => {
    const image = `${gar.host}/acme-prod/apps/web`;
    const before = metadata.issued.length;
    const dir = await repo('flux', {
      'app.yaml': deployment(image),
      'policy.yaml': `apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata: { name: web, namespace: flux-system }\nspec:\n  image: ${image}\n  provider: generic\n---\napiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata: { name: web, namespace: flux-system }\nspec:\n  imageRepositoryRef: { name: web }\n  policy: { semver: { range: "^1.0.0" } }\n`,
    });
    const r = await plan(dir, env);
    expect(r.out).not.toContain(`${image}:v1.5.0`);
    expect(`${r.out}${r.err}`).toMatch(/401|denied|refused|credentials/i);
    expect(metadata.issued.length).toBe(before);
  });

  it('a typo in TIDEMARK_CLOUD_IDENTITY is named, exit 2, nothing written', async () => {
    const dir = await repo('typo', { 'app.yaml': deployment('ghcr.io/acme/web') });
    const r = await plan(dir, { ...env, TIDEMARK_CLOUD_IDENTITY: 'gpc' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('TIDEMARK_CLOUD_IDENTITY');
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
