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
});
