/**
 * Helm chart versions bumped like image tags: a HelmRelease's `spec.chart.spec.version` (chart from a Flux
 * HelmRepository in the repo, an HTTP Helm repository), a helmfile release's `version` (an OCI chart pushed to a
 * real docker-registry, a version with build metadata stored as `_`), and a Chart.yaml dependency's `version`
 * (an HTTP repository named inline). Files are compared byte for byte.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { type ChartRepo, startChartRepo } from '../support/chart-repo.js';
import { pushChart, pushImage } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { captureIO } from './capture-io.js';

describe('tidemark plan on Helm charts', () => {
  let reg: Registry;
  let charts: ChartRepo;
  beforeAll(async () => {
    reg = await startRegistry();
    for (const v of ['6.5.0', '6.6.0', '6.7.1+build.7', '7.0.0']) await pushChart(reg, 'charts/podinfo', v);
    await pushImage(reg, 'acme/web', '1.0.0', { seed: 'w1' });
    await pushImage(reg, 'acme/web', '1.1.0', { seed: 'w2' });
    charts = await startChartRepo({
      'cert-manager': ['v1.13.0', 'v1.14.2', 'v1.15.0-alpha.1'],
      redis: ['18.1.0', '18.19.4', '19.0.1'],
    });
  });
  afterAll(async () => {
    await reg?.stop();
    await charts?.stop();
  });

  const config = () => `policies:
  - name: cert-manager
    chart:
      sourceRef: { kind: HelmRepository, name: jetstack }
      name: cert-manager
    policy: { semver: { range: ">=1.13.0" } }
  - name: podinfo
    chart: { repository: "oci://${reg.host}/charts", name: podinfo }
    policy: { semver: { range: ">=6.0.0 <7.0.0" } }
  - name: redis
    chart: { repository: "${charts.url}", name: redis }
    policy: { semver: { range: "18.x" } }
  - name: podinfo-artifact
    chart: { sourceRef: { kind: OCIRepository, name: podinfo } }
    policy: { semver: { range: ">=6.0.0 <7.0.0" } }
  - name: web
    image: ${reg.host}/acme/web
    policy: { semver: { range: ">=1.0.0" } }
`;
  const helmRelease = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cert-manager
  namespace: cert-manager
spec:
  interval: 1h
  chart:
    spec:
      chart: cert-manager
      version: "v1.13.0" # {"$imagepolicy": "flux-system:cert-manager:tag"}
      sourceRef:
        kind: HelmRepository
        name: jetstack
        namespace: flux-system
  values:
    image:
      repository: REG/acme/web
      tag: 1.0.0 # {"$imagepolicy": "flux-system:web:tag"}
`;
  const sources = () => `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: jetstack
  namespace: flux-system
spec:
  interval: 1h
  url: ${charts.url}
`;
  const ociRepository = () => `apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 10m
  url: oci://${reg.host}/charts/podinfo
  ref:
    tag: 6.5.0 # {"$imagepolicy": "flux-system:podinfo-artifact:tag"}
`;
  const helmfile = () => `repositories:
  - name: local
    url: ${charts.url}
releases:
  - name: podinfo
    namespace: podinfo
    chart: oci://${reg.host}/charts/podinfo
    version: 6.5.0 # {"$imagepolicy": "flux-system:podinfo:tag"}
  - name: redis
    chart: local/redis
    version: 18.1.0   # {"$imagepolicy": "flux-system:redis:tag"}
`;
  const chartYaml = () => `apiVersion: v2
name: umbrella
version: 0.1.0
dependencies:
  - name: redis
    version: 18.1.0 # {"$imagepolicy": "flux-system:redis:tag"}
    repository: ${charts.url}
`;

  async function repo(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-charts-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('bumps HelmRelease, helmfile and Chart.yaml versions byte-exactly, beside an image', async () => {
    const release = helmRelease.replace('REG', reg.host);
    const dir = await repo({
      '.github/tidemark.yml': config(),
      'clusters/prod/sources.yaml': sources(),
      'clusters/prod/cert-manager.yaml': release,
      'helmfile.yaml': helmfile(),
      'charts/umbrella/Chart.yaml': chartYaml(),
      'clusters/prod/podinfo-source.yaml': ociRepository(),
    });
    const io = captureIO();
    expect(await main(['plan', '--dir', dir, '--write'], io), io.err).toBe(0);
    expect(io.err).toContain('flux-system:cert-manager v1.13.0 → v1.14.2');
    expect(io.err).toContain('flux-system:podinfo 6.5.0 → 6.7.1+build.7');
    expect(io.err).toContain('flux-system:redis 18.1.0 → 18.19.4');

    expect(await readFile(join(dir, 'clusters/prod/cert-manager.yaml'), 'utf8')).toBe(
      release.replace('"v1.13.0" # {', '"v1.14.2" # {').replace('tag: 1.0.0 # {', 'tag: 1.1.0 # {'),
    );
    expect(await readFile(join(dir, 'helmfile.yaml'), 'utf8')).toBe(
      helmfile()
        .replace('version: 6.5.0 #', 'version: 6.7.1+build.7 #')
        .replace('version: 18.1.0   #', 'version: 18.19.4   #'),
    );
    expect(await readFile(join(dir, 'charts/umbrella/Chart.yaml'), 'utf8')).toBe(
      chartYaml().replace('version: 18.1.0 #', 'version: 18.19.4 #'),
    );
    // An OCIRepository's ref.tag holds the OCI tag itself: 6.7.1_build.7 is no semver version, 6.6.0 is newest.
    expect(await readFile(join(dir, 'clusters/prod/podinfo-source.yaml'), 'utf8')).toBe(
      ociRepository().replace('tag: 6.5.0 #', 'tag: 6.6.0 #'),
    );
    // The Flux source and the config are read, never written.
    expect(await readFile(join(dir, 'clusters/prod/sources.yaml'), 'utf8')).toBe(sources());
  });

  it('--tags-file lists a chart under <repository>/<name>', async () => {
    const yml = `policies:\n  - name: cm\n    chart: { repository: "https://charts.jetstack.io", name: cert-manager }\n    policy: { semver: { range: ">=1.0.0" } }\n`;
    const marked = 'version: "v1.13.0" # {"$imagepolicy": "flux-system:cm:tag"}\n';
    const dir = await repo({ '.github/tidemark.yml': yml, 'release.yaml': marked });
    await writeFile(
      join(dir, 'tags.json'),
      JSON.stringify({ 'https://charts.jetstack.io/cert-manager': ['v1.13.0', 'v1.14.2'] }),
    );
    const io = captureIO();
    expect(
      await main(['plan', '--dir', dir, '--tags-file', join(dir, 'tags.json'), '--write'], io),
      io.err,
    ).toBe(0);
    expect(await readFile(join(dir, 'release.yaml'), 'utf8')).toBe(marked.replace('v1.13.0', 'v1.14.2'));
  });

  it('a chart marker holding a whole image reference is reported and left alone', async () => {
    const text = `image: oci://${reg.host}/charts/podinfo:6.5.0 # {"$imagepolicy": "flux-system:podinfo"}\n`;
    const dir = await repo({
      '.github/tidemark.yml': config(),
      'sources.yaml': sources(),
      'oci.yaml': ociRepository(),
      'app.yaml': text,
    });
    const io = captureIO();
    expect(await main(['plan', '--dir', dir, '--write'], io), io.err).toBe(0);
    expect(io.err).toContain('app.yaml:1');
    expect(io.err).toContain('watches a Helm chart');
    expect(await readFile(join(dir, 'app.yaml'), 'utf8')).toBe(text);
  });

  it.each([
    [
      'a sourceRef naming no HelmRepository in the repo',
      `policies:\n  - name: cm\n    chart:\n      sourceRef: { kind: HelmRepository, name: nowhere }\n      name: cert-manager\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      '.github/tidemark.yml:4: policies[0].chart.sourceRef: HelmRepository "flux-system/nowhere" was not found in the repository; add it',
    ],
    [
      'image and chart both set',
      `policies:\n  - name: cm\n    image: ghcr.io/acme/web\n    chart: { repository: "https://charts.jetstack.io", name: cert-manager }\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      '.github/tidemark.yml:4: policies[0].chart: set either image (a container image) or chart (a Helm chart), not both',
    ],
    [
      'neither image nor chart',
      `policies:\n  - name: cm\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      'policies[0].image: required',
    ],
    [
      'a platforms gate on a chart',
      `policies:\n  - name: cm\n    chart: { repository: "https://charts.jetstack.io", name: cert-manager }\n    platforms: [linux/arm64]\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      '.github/tidemark.yml:4: policies[0].platforms: platforms is about container images',
    ],
    [
      'a chart repository that is not a URL',
      `policies:\n  - name: cm\n    chart: { repository: "charts.jetstack.io", name: cert-manager }\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      '.github/tidemark.yml:3: policies[0].chart.repository:',
    ],
    [
      'a chart with no name',
      `policies:\n  - name: cm\n    chart: { repository: "https://charts.jetstack.io" }\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      "policies[0].chart.name: required: the chart's name",
    ],
  ])('%s: named with file, line and field; nothing written', async (_what, yml, message) => {
    const marked = 'version: 1.0.0 # {"$imagepolicy": "flux-system:cm:tag"}\n';
    const dir = await repo({ '.github/tidemark.yml': yml, 'release.yaml': marked });
    const io = captureIO();
    expect(await main(['plan', '--dir', dir, '--write'], io)).not.toBe(0);
    expect(io.err).toContain(message);
    expect(io.err).not.toMatch(/\n\s+at /);
    expect(await readFile(join(dir, 'release.yaml'), 'utf8')).toBe(marked);
  });
});
