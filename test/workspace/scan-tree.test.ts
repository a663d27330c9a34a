import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { applyFileChanges, scanTree } from '../../src/workspace/scan-tree.js';

const M = 'tag: 1.0.0 # {"$imagepolicy": "ns:p:tag"}\n';
let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tidemark-scan-'));
  outside = await mkdtemp(join(tmpdir(), 'tidemark-outside-'));
  await mkdir(join(root, 'apps/web'), { recursive: true });
  await mkdir(join(root, '.git'), { recursive: true });
  await writeFile(join(root, 'apps/web/values.yaml'), M);
  await writeFile(join(root, 'apps/web/plain.yaml'), 'tag: 1.0.0\n');
  await writeFile(join(root, 'apps/web/notes.txt'), M);
  await writeFile(join(root, '.git/config.yaml'), M);
  await writeFile(join(root, 'apps/big.yaml'), M + '#'.repeat(5 * 1024 * 1024 + 10));
  await writeFile(join(outside, 'secret.yaml'), M);
  await symlink(join(outside, 'secret.yaml'), join(root, 'apps/escape.yaml'));
  await symlink(outside, join(root, 'apps/linked-dir'));
  await symlink(join(root, 'apps/web/values.yaml'), join(root, 'apps/inside-link.yaml'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('scanTree', () => {
  it('reads only marker files with the token, inside the root', async () => {
    const { files, warnings } = await scanTree(root);
    expect(files.map((f) => f.path)).toEqual(['apps/inside-link.yaml', 'apps/web/values.yaml']);
    expect(warnings.map((w) => w.code).sort()).toEqual(['file-too-large', 'symlink-outside']);
  });

  it('scans under a path', async () => {
    const { files } = await scanTree(root, { path: 'apps/web' });
    expect(files.map((f) => f.path)).toEqual(['apps/web/values.yaml']);
  });

  it.each(['../', '/etc', 'apps/linked-dir', 'nope'])('rejects update.path %j', async (path) => {
    await expect(scanTree(root, { path })).rejects.toBeInstanceOf(ConfigError);
  });

  it('applyFileChanges refuses to write through a link out of the root', async () => {
    await expect(
      applyFileChanges(root, [{ file: 'apps/escape.yaml', oldText: M, newText: 'x', changes: [] }]),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      applyFileChanges(root, [{ file: '../x.yaml', oldText: M, newText: 'x', changes: [] }]),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
