/**
 * GHCR pushes reach the App as `registry_package` webhooks. GHCR itself cannot be reached from the test
 * machine, so tidemark reads `ghcr.io` through a registry mirror (TIDEMARK_REGISTRY_MIRRORS) that is a real
 * docker-registry; the image names, markers and PR keep `ghcr.io`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pushImage } from '../support/images.js';
import { type Env, startEnv, until } from './harness.js';

const values = (tag: string) =>
  `image: ghcr.io/acme-corp/storefront:${tag} # {"$imagepolicy": "flux-system:storefront"}\n`;

describe('GHCR registry_package webhook → PR', () => {
  let env: Env;
  let inst = 0;
  beforeAll(async () => {
    env = await startEnv(
      async (gh, reg) => {
        await pushImage(reg, 'acme-corp/storefront', '1.7.0', { seed: 's1.7.0' });
        inst = gh.addInstallation('Acme-Corp');
        await gh.addRepo({
          installationId: inst,
          owner: 'Acme-Corp',
          name: 'gitops',
          files: {
            'apps/storefront.yaml': values('1.7.0'),
            '.github/tidemark.yml':
              'policies:\n  - name: storefront\n    image: ghcr.io/acme-corp/storefront\n    policy: { semver: { range: "^1" } }\n',
          },
        });
      },
      (reg) => ({ TIDEMARK_REGISTRY_MIRRORS: `ghcr.io=${reg.url}` }),
    );
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  it('a published container version becomes a PR; the tag is confirmed with the registry first', async () => {
    const { gh, reg } = env;
    const { digest } = await pushImage(reg, 'acme-corp/storefront', '1.8.0', { seed: 's1.8.0' });
    // A package event for a tag the registry does not have yet is only a hint: nothing happens.
    const event = (tag: string, d: string) => ({
      action: 'published',
      registry_package: {
        name: 'storefront',
        ecosystem: 'CONTAINER',
        package_type: 'CONTAINER',
        owner: { login: 'Acme-Corp', type: 'Organization' },
        package_version: { version: d, name: d, container_metadata: { tag: { name: tag, digest: d } } },
      },
      repository: {
        id: 1,
        name: 'storefront',
        full_name: 'Acme-Corp/storefront',
        owner: { login: 'Acme-Corp' },
      },
      installation: { id: inst },
      sender: { login: 'Acme-Corp', type: 'Organization' },
    });
    await gh.sendWebhook('registry_package', event('9.9.9', `sha256:${'9'.repeat(64)}`));
    await gh.sendWebhook('registry_package', event('1.8.0', digest));
    const pr = await until('a PR', () => gh.pulls('Acme-Corp', 'gitops')[0]);
    // Both deliveries handled (the unconfirmed 9.9.9 too) before asserting what did not happen.
    await env.idle();
    expect(pr.title).toBe('chore(deps): update ghcr.io/acme-corp/storefront to 1.8.0');
    expect(await gh.readFile('Acme-Corp', 'gitops', pr.head.ref, 'apps/storefront.yaml')).toBe(
      values('1.8.0'),
    );
    expect(gh.pulls('Acme-Corp', 'gitops')).toHaveLength(1);
  });
});
