/**
 * `tidemark init` on repos shaped like the setups we model, against a real registry holding real tags: init
 * --write proposes policies and markers, then `plan --write` bumps each image to the tag a person would have
 * picked — and the only bytes that changed are the marker comments and those values.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { pushImage } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { captureIO } from './capture-io.js';

describe('tidemark init, then tidemark plan, against a real registry', () => {
  let reg: Registry;
  const dirs: string[] = [];
  beforeAll(async () => {
    reg = await startRegistry();
    const push = (image: string, tags: string[]) =>
      Promise.all(tags.map((t) => pushImage(reg, image, t, { seed: `${image}-${t}` })));
    await push('acme/spatial-api', [
      'production-40672',
      'production-40701',
      'production-9999',
      'staging-50000',
      'latest',
    ]);
    await push('acme/app', ['0.0.1-rc1-cee9778', '0.0.1-rc2-d00d1e5', '0.0.0-dev-aaaaaaa']);
    await push('acme/worker', ['0.0.1-rc1-cee9778', '0.0.1-rc3-0fe55ed']);
    await push('acme/chart-web', ['latest', '1.0.0']);
    await push('acme/kapi', ['v1.2.0', 'v1.3.1', 'v2.0.0']);
    await push('acme/web', ['1.4.2', '1.4.9', '1.5.0', '2.0.0']);
    await push('acme/migrate', ['3.0.0', '3.1.0']);
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function repo(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-init-'));
    dirs.push(dir);
    for (const [p, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), text.replaceAll('REG', reg.host));
    }
    return dir;
  }
  const cli = async (...argv: string[]) => {
    const io = captureIO({ env: {} });
    const code = await main(argv, io);
    return { code, out: io.out, err: io.err };
  };
  /** Lines of `after` that differ from `before`, with marker comments removed (what a bump changed). */
  function changedLines(before: string, after: string): [string, string][] {
    const a = before.split('\n');
    const b = after.split('\n').map((l) => l.replace(/ # \{"\$imagepolicy": "[^"]+"\}/, ''));
    expect(b).toHaveLength(a.length);
    return a.flatMap((l, i) => (l === b[i] ? [] : [[l, b[i]!] as [string, string]]));
  }

  it.each([
    [
      'a Flux HelmRelease on production-<build number> (Azure-style registry)',
      'clusters/prod/spatial-api.yaml',
      'apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: spatial-api\nspec:\n  values:\n    image:\n      repository: REG/acme/spatial-api\n      tag: production-40672\n',
      [['      tag: production-40672', '      tag: production-40701']],
    ],
    [
      'a helmfile repo with prerelease+sha tags in *.gotmpl',
      'values/app.yaml.gotmpl',
      'image:\n  repository: REG/acme/app\n  tag: 0.0.1-rc1-cee9778\nreplicas: {{ .Values.replicas }}\n',
      [['  tag: 0.0.1-rc1-cee9778', '  tag: 0.0.1-rc2-d00d1e5']],
    ],
    [
      'a Helm chart deploying a moving latest: the tag kept, the digest pinned',
      'chart/values.yaml',
      'image: REG/acme/chart-web:latest\nservice:\n  port: 80\n',
      [['image: REG/acme/chart-web:latest', 'DIGEST']],
    ],
    [
      'a kustomize images: entry',
      'overlays/prod/kustomization.yaml',
      'resources:\n  - ../../base\nimages:\n  - name: api\n    newName: REG/acme/kapi\n    newTag: v1.2.0\n',
      [['    newTag: v1.2.0', '    newTag: v1.3.1']],
    ],
    [
      'a multi-container Deployment with an init container, CRLF line endings',
      'apps/web.yaml',
      'apiVersion: apps/v1\r\nkind: Deployment\r\nspec:\r\n  template:\r\n    spec:\r\n      initContainers:\r\n        - name: migrate\r\n          image: "REG/acme/migrate:3.0.0"\r\n      containers:\r\n        - name: web\r\n          image: REG/acme/web:1.4.2\r\n',
      [
        ['          image: "REG/acme/migrate:3.0.0"\r', '          image: "REG/acme/migrate:3.1.0"\r'],
        ['          image: REG/acme/web:1.4.2\r', '          image: REG/acme/web:1.5.0\r'],
      ],
    ],
  ])('%s', async (_what, file, text, expected) => {
    const dir = await repo({ [file]: text });
    const before = text.replaceAll('REG', reg.host);
    const init = await cli('init', '--dir', dir, '--write');
    expect(init.code, init.err).toBe(0);
    const config = await readFile(join(dir, '.github/tidemark.yml'), 'utf8');
    expect(config).toMatch(/policies:\n {2}# /);
    // init again: nothing new.
    const again = await cli('init', '--dir', dir);
    expect(again.code).toBe(0);
    expect(again.out).toBe('');
    const plan = await cli('plan', '--dir', dir, '--write');
    expect(plan.code, plan.err).toBe(0);
    const after = await readFile(join(dir, file), 'utf8');
    const changed = changedLines(before, after);
    const want = (expected as [string, string][]).map(([a, b]) => [
      a.replaceAll('REG', reg.host),
      b.replaceAll('REG', reg.host),
    ]);
    if (want[0]![1] === 'DIGEST') {
      expect(changed).toHaveLength(1);
      expect(changed[0]![1]).toMatch(
        new RegExp(`^image: ${reg.host}/acme/chart-web:latest@sha256:[a-f0-9]{64}$`),
      );
    } else expect(changed).toEqual(want);
  });

  it('a repo with a config already: extended, not overwritten; --json names the evidence', async () => {
    const existing = `# team config\nupdate:\n  labels: [deps]\npolicies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1" } }\n`;
    const dir = await repo({
      '.github/tidemark.yml': existing,
      'a.yaml': 'image: REG/acme/web:1.4.2 # {"$imagepolicy": "flux-system:web"}\n',
      'b.yaml': 'image: REG/acme/migrate:3.0.0\n',
    });
    const json = await cli('init', '--dir', dir, '--json');
    expect(json.code).toBe(0);
    const out = JSON.parse(json.out) as {
      images: { image: string; scheme: string; picks: string; evidence: string }[];
    };
    expect(out.images).toEqual([
      expect.objectContaining({ image: `${reg.host}/acme/migrate`, scheme: 'semver', picks: '3.1.0' }),
    ]);
    expect(out.images[0]!.evidence).toContain('2 of 2 tags');
    await cli('init', '--dir', dir, '--write');
    const config = await readFile(join(dir, '.github/tidemark.yml'), 'utf8');
    expect(config.startsWith(existing)).toBe(true);
    expect(config).toContain('  - name: migrate\n');
  });

  it('bad usage exits 2 with a pointer to --help; nothing is written', async () => {
    const dir = await repo({ 'a.yaml': 'image: REG/acme/web:1.4.2\n' });
    const r = await cli('init', '--dir', dir, '--wirte');
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--wirte'");
    expect(r.err).toContain('tidemark init --help');
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe(`image: ${reg.host}/acme/web:1.4.2\n`);
  });
});
