import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { captureIO } from './capture-io.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'markers');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-markers-'));
  for (const f of ['deployment.in.yaml', 'kustomization.in.yaml', 'crlf-bom.in.yaml'])
    await copyFile(join(FIX, f), join(dir, f));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tidemark markers apply', () => {
  it('one file: prints exactly the rewritten bytes', async () => {
    const io = captureIO();
    const code = await main(
      ['markers', 'apply', '--results', join(FIX, 'results.json'), join(dir, 'crlf-bom.in.yaml')],
      io,
    );
    expect(code).toBe(0);
    expect(io.out).toBe(await readFile(join(FIX, 'crlf-bom.out.yaml'), 'utf8'));
  });

  it('several files: a unified diff; --write edits in place', async () => {
    const files = [join(dir, 'deployment.in.yaml'), join(dir, 'kustomization.in.yaml')];
    const io = captureIO();
    expect(await main(['markers', 'apply', '--results', join(FIX, 'results.json'), ...files], io)).toBe(0);
    expect(io.out).toContain(`--- a/${files[0]}`);
    expect(io.out).toContain(
      '-          image: ghcr.io/stefanprodan/podinfo:6.4.0 # {"$imagepolicy": "flux-system:podinfo"}',
    );
    expect(io.out).toContain('+    newTag: 6.5.0 # {"$imagepolicy": "flux-system:podinfo:tag"}');
    expect(
      await main(
        ['markers', 'apply', '--write', '--results', join(FIX, 'results.json'), ...files],
        captureIO(),
      ),
    ).toBe(0);
    expect(await readFile(files[1]!, 'utf8')).toBe(
      await readFile(join(FIX, 'kustomization.out.yaml'), 'utf8'),
    );
  });

  it('--json prints change records', async () => {
    const io = captureIO();
    await main(
      [
        'markers',
        'apply',
        '--json',
        '--results',
        join(FIX, 'results.json'),
        join(dir, 'kustomization.in.yaml'),
      ],
      io,
    );
    const out = JSON.parse(io.out);
    expect(out.changes).toEqual([
      expect.objectContaining({ setter: 'flux-system:podinfo:tag', old: '6.4.0', new: '6.5.0', line: 6 }),
    ]);
  });

  it('exits 2 on an unreadable file or a bad results file, changing nothing', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"podinfo": {"tag": 1}}');
    const io = captureIO();
    expect(
      await main(['markers', 'apply', '--write', '--results', bad, join(dir, 'deployment.in.yaml')], io),
    ).toBe(2);
    expect(io.err).toContain('expected "namespace:policy"');
    expect(await readFile(join(dir, 'deployment.in.yaml'), 'utf8')).toBe(
      await readFile(join(FIX, 'deployment.in.yaml'), 'utf8'),
    );
    expect(
      await main(
        ['markers', 'apply', '--results', join(FIX, 'results.json'), join(dir, 'missing.yaml')],
        captureIO(),
      ),
    ).toBe(2);
  });
});
