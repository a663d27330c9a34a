/**
 * Onboarding finds Helm chart versions too: `tidemark init --write` on a repo with no markers proposes chart
 * policies (a HelmRelease whose Flux HelmRepository is in the repo, a helmfile release of an OCI chart and of a
 * named repository, a Chart.yaml dependency) and marks each version; `plan --write` then bumps them, and the only
 * bytes that changed are the marker comments and those values.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { type ChartRepo, startChartRepo } from '../support/chart-repo.js';
import { pushChart } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { captureIO } from './capture-io.js';

describe('tidemark init on Helm charts, then plan', () => {
  let reg: Registry;
  let charts: ChartRepo;
  let dir = '';
  beforeAll(async () => {
    reg = await startRegistry();
    for (const v of ['6.5.0', '6.6.0']) await pushChart(reg, 'charts/podinfo', v);
    charts = await startChartRepo({
      'cert-manager': ['v1.13.0', 'v1.14.2'],
      redis: ['18.1.0', '18.19.4'],
    });
  });
  afterAll(async () => {
    await reg?.stop();
    await charts?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const files = () => ({
    'infra/sources.yaml': `apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: jetstack\n  namespace: flux-system\nspec:\n  url: ${charts.url}\n`,
    'infra/cert-manager.yaml': `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: cert-manager\nspec:\n  chart:\n    spec:\n      chart: cert-manager\n      version: "v1.13.0"\n      sourceRef:\n        kind: HelmRepository\n        name: jetstack\n        namespace: flux-system\n`,
    'helmfile.yaml': `repositories:\n  - name: local\n    url: ${charts.url}\nreleases:\n  - name: podinfo\n    chart: oci://${reg.host}/charts/podinfo\n    version: 6.5.0\n  - name: cache\n    chart: local/redis\n    version: 18.1.0\n  - name: ranged\n    chart: local/redis\n    version: ^18.0.0\n`,
    'charts/umbrella/Chart.yaml': `apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 18.1.0\n    repository: ${charts.url}\n`,
  });

  it('proposes chart policies and markers; plan bumps exactly the versions', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-init-charts-'));
    const before = files();
    for (const [p, text] of Object.entries(before)) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), text);
    }
    const init = captureIO({ env: {} });
    expect(await main(['init', '--dir', dir, '--write'], init), init.err).toBe(0);
    const config = await readFile(join(dir, '.github/tidemark.yml'), 'utf8');
    expect(config).toContain(
      'chart: { sourceRef: { kind: HelmRepository, name: "jetstack", namespace: "flux-system" }, name: "cert-manager" }',
    );
    expect(config).toContain(`chart: { repository: "oci://${reg.host}/charts", name: "podinfo" }`);
    expect(config).toContain(`chart: { repository: "${charts.url}", name: "redis" }`);
    // One policy per chart: the helmfile release and the Chart.yaml dependency share redis's.
    expect(config.match(/name: "redis" }/g)).toHaveLength(1);
    const helmfile = await readFile(join(dir, 'helmfile.yaml'), 'utf8');
    expect(helmfile).toContain('version: 6.5.0 # {"$imagepolicy": "flux-system:podinfo:tag"}');
    expect(helmfile).toContain('version: 18.1.0 # {"$imagepolicy": "flux-system:redis:tag"}');
    // A version range is not a value a marker can keep.
    expect(helmfile).toContain('version: ^18.0.0\n');

    const plan = captureIO({ env: {} });
    expect(await main(['plan', '--dir', dir, '--write'], plan), plan.err).toBe(0);
    const strip = (t: string) => t.replace(/ # \{"\$imagepolicy": "[^"]+"\}/g, '');
    const after: Record<string, string> = {};
    for (const p of Object.keys(before)) after[p] = strip(await readFile(join(dir, p), 'utf8'));
    expect(after).toEqual({
      ...before,
      'infra/cert-manager.yaml': before['infra/cert-manager.yaml'].replace('"v1.13.0"', '"v1.14.2"'),
      'helmfile.yaml': before['helmfile.yaml']
        .replace('version: 6.5.0', 'version: 6.6.0')
        .replace('version: 18.1.0', 'version: 18.19.4'),
      'charts/umbrella/Chart.yaml': before['charts/umbrella/Chart.yaml'].replace('18.1.0', '18.19.4'),
    });
  });
});
