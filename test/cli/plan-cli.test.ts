import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { pushImage } from '../support/images.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { captureIO } from './capture-io.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'plan');

/** Copy a fixture repo, replacing REGISTRY with the live registry's host. */
async function checkout(name: string, host: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tidemark-plan-${name}-`));
  await cp(join(FIX, name), dir, { recursive: true });
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d)) {
      const p = join(d, e);
      if ((await stat(p)).isDirectory()) await walk(p);
      else await writeFile(p, (await readFile(p, 'utf8')).replaceAll('REGISTRY', host));
    }
  };
  await walk(dir);
  return dir;
}

describe('tidemark plan against a real registry', () => {
  let reg: Registry;
  const dirs: string[] = [];
  beforeAll(async () => {
    reg = await startRegistry();
    for (const t of ['1.0.0', '1.4.2', '1.5.0', '2.0.0', 'latest'])
      await pushImage(reg, 'acme/web', t, { seed: t });
    for (const t of ['production-40672', 'production-40690', 'production-9999', 'staging-50000'])
      await pushImage(reg, 'acme/backend', t, { seed: t });
    for (const t of [
      'main-0a1b2c3-1700000000',
      'main-ffee001-1700000500',
      'main-abc1234-1700000100',
      'feature-x-1800000000',
    ]) {
      await pushImage(reg, 'acme/worker', t, { seed: t });
    }
  });
  afterAll(async () => {
    await reg?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('Flux repo: Deployment, Kustomization images and HelmRelease values, as a diff; --write applies it', async () => {
    const dir = await checkout('flux-repo', reg.host);
    dirs.push(dir);
    const io = captureIO({ cwd: dir });
    expect(await main(['plan'], io)).toBe(0);
    expect(io.out).toContain('--- a/apps/web/deployment.yaml\n+++ b/apps/web/deployment.yaml\n');
    expect(io.out).toContain(
      `-          image: ${reg.host}/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}`,
    );
    expect(io.out).toContain(
      `+          image: ${reg.host}/acme/web:1.5.0 # {"$imagepolicy": "flux-system:web"}`,
    );
    expect(io.out).toContain('+    newTag: 1.5.0 # {"$imagepolicy": "flux-system:web:tag"}');
    expect(io.out).toContain('+      tag: production-40690 # {"$imagepolicy": "flux-system:backend:tag"}');
    expect(io.err).toContain('flux-system:web 1.0.0 → 1.5.0');
    expect(io.err).toContain('flux-system:backend production-40672 → production-40690');

    expect(await main(['plan', '--write', '--dir', dir], captureIO())).toBe(0);
    expect(await readFile(join(dir, 'apps/backend/release.yaml'), 'utf8')).toContain(
      'tag: production-40690 #',
    );
    const again = captureIO({ cwd: dir });
    expect(await main(['plan'], again)).toBe(0);
    expect(again.out).toBe('');
    expect(again.err).toContain('flux-system:web 1.5.0 (up to date)');
  });

  it('helmfile repo: values/*.yaml.gotmpl with a main-<sha>-<ts> numerical extract; --json', async () => {
    const dir = await checkout('helmfile-repo', reg.host);
    dirs.push(dir);
    const io = captureIO();
    expect(await main(['plan', '--dir', dir, '--json'], io)).toBe(0);
    const plan = JSON.parse(io.out);
    expect(plan.perPolicy['flux-system:worker']).toEqual({
      status: 'selected',
      tag: 'main-ffee001-1700000500',
      previous: 'main-0a1b2c3-1700000000',
      markers: 1,
      current: ['main-0a1b2c3-1700000000'],
    });
    expect(plan.changes).toEqual([
      {
        file: 'values/worker.yaml.gotmpl',
        changes: [
          expect.objectContaining({
            line: 3,
            old: 'main-0a1b2c3-1700000000',
            new: 'main-ffee001-1700000500',
          }),
        ],
      },
    ]);
    // The App's publishing plan for this change, from the same pure planPublish.
    expect(plan.publishing.actions.map((a: { kind: string }) => a.kind)).toEqual([
      'reset-branch',
      'commit',
      'open-pr',
    ]);
    expect(plan.publishing.actions[1]).toMatchObject({
      branch: plan.publishing.groups[0].branch,
      files: ['values/worker.yaml.gotmpl'],
      policies: [
        { key: 'flux-system:worker', from: 'main-0a1b2c3-1700000000', to: 'main-ffee001-1700000500' },
      ],
    });
    expect(plan.publishing.actions[2]).toMatchObject({ kind: 'open-pr', base: 'main' });
  });

  it('--tags-file instead of the registry', async () => {
    const dir = await checkout('helmfile-repo', 'registry.example.com');
    dirs.push(dir);
    const tags = join(dir, 'tags.json');
    await writeFile(
      tags,
      JSON.stringify({
        'registry.example.com/acme/worker': ['main-aaaaaaa-1800000000', 'main-0a1b2c3-1700000000'],
      }),
    );
    const io = captureIO();
    expect(await main(['plan', '--dir', dir, '--tags-file', tags], io)).toBe(0);
    expect(io.out).toContain('+  tag: main-aaaaaaa-1800000000 #');
  });

  it('exit 3 when a registry cannot be read, exit 2 on configuration errors', async () => {
    const dir = await checkout('helmfile-repo', '127.0.0.1:1');
    dirs.push(dir);
    const io = captureIO();
    expect(await main(['plan', '--dir', dir], io)).toBe(3);
    expect(io.err).toContain('registry error: 127.0.0.1:1/acme/worker');
    await writeFile(
      join(dir, '.github/tidemark.yml'),
      'policies:\n  - name: w\n    image: x/y\n    polcy: {}\n',
    );
    const bad = captureIO();
    expect(await main(['plan', '--dir', dir], bad)).toBe(2);
    expect(bad.err).toContain(
      '.github/tidemark.yml:4: policies[0].polcy: unknown field; did you mean "policy"?',
    );
  });
});
