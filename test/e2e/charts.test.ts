/**
 * Helm charts through the App: an OCI chart pushed to the real docker-registry arrives as a registry
 * notification and becomes a PR bumping a helmfile release's `version`; a new version in an HTTP Helm
 * repository (Flux HelmRepository in the repo) is found by the periodic reconcile and bumps a HelmRelease's
 * `spec.chart.spec.version`. The PR's files are compared byte for byte.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoKeyOf } from '../../src/core/domain/types.js';
import { type ChartRepo, startChartRepo } from '../support/chart-repo.js';
import { pushChart } from '../support/images.js';
import { type Env, hasReason, startEnv, until } from './harness.js';

describe('Helm chart versions → PRs', () => {
  let env: Env;
  let charts: ChartRepo;
  let inst = 0;
  let files: Record<string, string> = {};
  const key = () => repoKeyOf({ installationId: inst, owner: 'acme', repo: 'platform' });

  beforeAll(async () => {
    charts = await startChartRepo({ 'cert-manager': ['v1.13.0'] });
    env = await startEnv(async (gh, reg) => {
      await pushChart(reg, 'acme/charts/podinfo', '6.5.0');
      inst = gh.addInstallation('acme');
      files = {
        '.github/tidemark.yml': `policies:
  - name: podinfo
    chart: { repository: "oci://${reg.host}/acme/charts", name: podinfo }
    policy: { semver: { range: ">=6.0.0" } }
  - name: cert-manager
    chart: { sourceRef: { kind: HelmRepository, name: jetstack }, name: cert-manager }
    policy: { semver: { range: ">=1.0.0" } }
`,
        'helmfile.yaml': `releases:
  - name: podinfo
    chart: oci://${reg.host}/acme/charts/podinfo
    version: 6.5.0 # {"$imagepolicy": "flux-system:podinfo:tag"}
`,
        'infra/sources.yaml': `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: jetstack
  namespace: flux-system
spec:
  url: ${charts.url}
`,
        'infra/cert-manager.yaml': `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cert-manager
spec:
  chart:
    spec:
      chart: cert-manager
      version: "v1.13.0" # {"$imagepolicy": "flux-system:cert-manager:tag"}
      sourceRef: { kind: HelmRepository, name: jetstack, namespace: flux-system }
`,
      };
      await gh.addRepo({ installationId: inst, owner: 'acme', name: 'platform', files });
    });
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
    await charts?.stop();
  });

  it('an OCI chart pushed to the registry: its notification becomes a PR on the helmfile release', async () => {
    const { gh, reg } = env;
    expect(gh.pulls('acme', 'platform')).toHaveLength(0);
    await pushChart(reg, 'acme/charts/podinfo', '6.6.0');
    const pr = await until('the podinfo PR', () =>
      gh.pulls('acme', 'platform').find((p) => p.title.includes('6.6.0')),
    );
    expect(pr.title).toContain('podinfo');
    expect(await gh.readFile('acme', 'platform', pr.head.ref, 'helmfile.yaml')).toBe(
      files['helmfile.yaml']!.replace('version: 6.5.0 #', 'version: 6.6.0 #'),
    );
    expect(await gh.readFile('acme', 'platform', pr.head.ref, 'infra/cert-manager.yaml')).toBe(
      files['infra/cert-manager.yaml'],
    );
  });

  it('a new version in an HTTP Helm repository: the periodic reconcile opens a PR on the HelmRelease', async () => {
    const { gh, app } = env;
    charts.add('cert-manager', 'v1.14.2');
    const since = env.jobs.length;
    await app.reconcileAll('periodic');
    await env.waitForJob('the periodic run', (j) => j.repo === key() && hasReason('periodic')(j), since);
    const pr = await until('the cert-manager PR', () =>
      gh.pulls('acme', 'platform').find((p) => p.title.includes('v1.14.2')),
    );
    expect(await gh.readFile('acme', 'platform', pr.head.ref, 'infra/cert-manager.yaml')).toBe(
      files['infra/cert-manager.yaml']!.replace('"v1.13.0" #', '"v1.14.2" #'),
    );
  });
});
