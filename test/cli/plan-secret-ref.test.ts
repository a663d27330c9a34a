/**
 * Flux `ImageRepository.spec.secretRef`: a repo selects a pull secret the operator declared (mounted as
 * TIDEMARK_REGISTRY_SECRETS_DIR/<name>/.dockerconfigjson, as a Kubernetes dockerconfigjson Secret is); a name the
 * operator did not declare is reported with its file and line. Against a real registry that demands basic auth.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { pushImage } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { captureIO } from './capture-io.js';

const USER = 'puller';
const PASS = 'pull-s3cret-7';

describe('tidemark plan with a Flux secretRef', () => {
  let reg: Registry;
  let secrets: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic', users: [{ user: USER, pass: PASS }] });
    const creds = { user: USER, pass: PASS };
    await pushImage(reg, 'acme/private', '1.0.0', { seed: 'p1', creds });
    await pushImage(reg, 'acme/private', '1.1.0', { seed: 'p2', creds });
    secrets = await mkdtemp(join(tmpdir(), 'tidemark-secrets-'));
    await mkdir(join(secrets, 'regcred'));
    await writeFile(
      join(secrets, 'regcred', '.dockerconfigjson'),
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }),
    );
  });
  afterAll(async () => {
    await reg?.stop();
  });

  async function repo(secretName: string) {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-secretref-'));
    await writeFile(
      join(dir, 'image.yaml'),
      `apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata: { name: private, namespace: flux-system }\nspec:\n  image: ${reg.host}/acme/private\n  secretRef: { name: ${secretName} }\n---\napiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: { name: private, namespace: flux-system }\nspec:\n  imageRepositoryRef: { name: private }\n  policy: { semver: { range: ">=1.0.0" } }\n`,
    );
    await writeFile(
      join(dir, 'app.yaml'),
      `image: ${reg.host}/acme/private:1.0.0 # {"$imagepolicy": "flux-system:private"}\n`,
    );
    return dir;
  }

  it('a declared secret: its credentials read the private registry', async () => {
    const io = captureIO({ env: { TIDEMARK_REGISTRY_SECRETS_DIR: secrets, DOCKER_CONFIG: secrets } });
    expect(await main(['plan', '--dir', await repo('regcred')], io), io.err).toBe(0);
    expect(io.err).toContain('flux-system:private 1.0.0 → 1.1.0');
  });

  it('an undeclared secret: named with file and line; the registry then refuses (exit 3)', async () => {
    const io = captureIO({ env: { TIDEMARK_REGISTRY_SECRETS_DIR: secrets, DOCKER_CONFIG: secrets } });
    expect(await main(['plan', '--dir', await repo('someone-elses')], io)).toBe(3);
    expect(io.err).toContain(
      `image.yaml: ImageRepository of flux-system:private names spec.secretRef "someone-elses", which the operator has not declared (no ${join(secrets, 'someone-elses', '.dockerconfigjson')})`,
    );
  });
});
