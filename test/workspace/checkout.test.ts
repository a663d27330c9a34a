/** One walk of a checkout, one safety rule, for the configuration and the marked files alike. */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckoutReader } from '../../src/workspace/checkout.js';
import { readConfigFiles } from '../../src/workspace/load-config.js';
import { scanMarkerFiles } from '../../src/workspace/scan-tree.js';

const MARKED = 'image: a:1 # {"$imagepolicy": "ns:a"}\n';
const POLICY = 'apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\n';

describe('CheckoutReader', () => {
  let root: string;
  let outside: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tidemark-checkout-'));
    outside = await mkdtemp(join(tmpdir(), 'tidemark-outside-'));
    const files: Record<string, string> = {
      'apps/web.yaml': MARKED,
      'apps/policy.yaml': POLICY + MARKED,
      'node_modules/pkg/x.yaml': MARKED + POLICY,
      '.git/config.yaml': MARKED + POLICY,
      'big/huge.yaml': `${MARKED}#${'x'.repeat(300)}\n`,
    };
    for (const [p, t] of Object.entries(files)) {
      await mkdir(dirname(join(root, p)), { recursive: true });
      await writeFile(join(root, p), t);
    }
    await writeFile(join(outside, 'secret.yaml'), MARKED + POLICY);
    await symlink(join(outside, 'secret.yaml'), join(root, 'apps/leak.yaml'));
    await symlink(join(root, 'apps/web.yaml'), join(root, 'apps/alias.yaml'));
    await symlink(outside, join(root, 'linked-dir'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('config and markers from one walk: same files skipped, same warnings, never outside the root', async () => {
    const reader = await CheckoutReader.open(root, { maxFileBytes: 200 });
    const config = await readConfigFiles(reader);
    expect(config.map((f) => f.path)).toEqual(['apps/policy.yaml']);
    const marked = await scanMarkerFiles(reader);
    expect(marked.map((f) => f.path)).toEqual(['apps/alias.yaml', 'apps/policy.yaml', 'apps/web.yaml']);
    // One warning per skipped file, though both readers met it.
    expect(reader.warningsSoFar().map((w) => [w.code, w.file])).toEqual([
      ['symlink-outside', 'apps/leak.yaml'],
      ['file-too-large', 'big/huge.yaml'],
    ]);
  });

  it('a path leaving the root is refused before anything is read', async () => {
    const reader = await CheckoutReader.open(root);
    await expect(scanMarkerFiles(reader, { path: '../' })).rejects.toThrow(/points outside the repository/);
    await expect(scanMarkerFiles(reader, { path: 'linked-dir' })).rejects.toThrow(
      /leaves the repository through a symlink/,
    );
  });

  it('reads large files whole and names the size of one over the cap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-checkout-big-'));
    try {
      const big = `${MARKED}#${'y'.repeat(200_000)}\n`; // larger than the 64 KiB scratch buffer
      await writeFile(join(dir, 'a.yaml'), big);
      await writeFile(join(dir, 'b.yaml'), `${big}z\n`);
      const reader = await CheckoutReader.open(dir, { maxFileBytes: big.length });
      const files = await scanMarkerFiles(reader);
      expect(files.map((f) => [f.path, f.text === big])).toEqual([['a.yaml', true]]);
      expect(reader.warningsSoFar()[0]?.message).toContain(`b.yaml is ${big.length + 2} bytes`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps only the bytes it is told to retain, and yields to the event loop while it reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-checkout-many-'));
    try {
      for (let i = 0; i < 1000; i++) await writeFile(join(dir, `f${i}.yaml`), i % 2 ? MARKED : 'a: 1\n');
      const reader = await CheckoutReader.open(dir, {
        retain: (_rel, bytes) => bytes.includes('"$imagepolicy"'),
      });
      // Count turns of the event loop while 1,000 files are read: one per batch of 128 (plus one or two for
      // the path check), where reading them all in one go would leave no turn at all.
      let turns = 0;
      let reading = true;
      const turn = () => {
        turns++;
        if (reading) setImmediate(turn);
      };
      setImmediate(turn);
      const first = await reader.read({ accept: () => true });
      reading = false;
      expect(first).toHaveLength(1000);
      expect(turns).toBeGreaterThanOrEqual(7);
      // A retained file is served from memory; one that was not is read again from disk.
      await writeFile(join(dir, 'f1.yaml'), 'changed: 1 # {"$imagepolicy": "ns:a"}\n');
      await writeFile(join(dir, 'f0.yaml'), 'changed: 0\n');
      const again = await reader.read({ accept: (rel) => rel === 'f0.yaml' || rel === 'f1.yaml' });
      expect(again.map((f) => f.text)).toEqual(['changed: 0\n', MARKED]);
      // A read with a `keep` does not open a file `retain` turned down (each file is read once per reader).
      await writeFile(join(dir, 'f2.yaml'), MARKED);
      const marked = await reader.read({
        accept: (rel) => rel === 'f2.yaml' || rel === 'f3.yaml',
        keep: (_rel, bytes) => bytes.includes('"$imagepolicy"'),
      });
      expect(marked.map((f) => f.path)).toEqual(['f3.yaml']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
