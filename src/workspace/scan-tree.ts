/**
 * Walk a checkout for marker files: under `path` only, never out of the root (symlinked directories are not
 * followed; a symlinked file is read only when it resolves inside the root), `.git` skipped, files over the
 * size cap skipped with a warning, and only files holding the `"$imagepolicy"` token kept.
 */
import { lstat, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FileChange, Warning } from '../domain/types.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_EXTRA_EXTENSIONS, isMarkerFile, MARKER_TOKEN } from '../markers/index.js';

export const MAX_FILE_BYTES = 5 * 1024 * 1024;

export interface ScanOptions {
  /** Relative to the root; `.` by default. */
  readonly path?: string;
  /** Extra extensions beyond `*.yaml`, `*.yml`, `Kustomization`. */
  readonly extensions?: readonly string[];
  readonly maxFileBytes?: number;
}

export interface ScannedFile {
  /** Relative to the root, `/`-separated. */
  readonly path: string;
  readonly text: string;
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Resolve `path` inside `root`, refusing anything that escapes it (`..`, absolute paths, symlinks out). */
export async function resolveInside(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  if (isAbsolute(path))
    throw new ConfigError(`update.path "${path}" must be relative to the repository root`);
  const target = resolve(realRoot, path);
  if (!inside(realRoot, target)) throw new ConfigError(`update.path "${path}" points outside the repository`);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    throw new ConfigError(`update.path "${path}" does not exist in the repository`);
  }
  if (!inside(realRoot, real))
    throw new ConfigError(`update.path "${path}" leaves the repository through a symlink`);
  return real;
}

export async function scanTree(
  root: string,
  opts: ScanOptions = {},
): Promise<{ files: ScannedFile[]; warnings: Warning[] }> {
  const realRoot = await realpath(root);
  const start = await resolveInside(realRoot, opts.path ?? '.');
  const extensions = opts.extensions ?? DEFAULT_EXTRA_EXTENSIONS;
  const max = opts.maxFileBytes ?? MAX_FILE_BYTES;
  const files: ScannedFile[] = [];
  const warnings: Warning[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = join(dir, e.name);
      const rel = relative(realRoot, abs).split(sep).join('/');
      if (e.isDirectory()) {
        if (e.name !== '.git') await walk(abs);
        continue;
      }
      if (!isMarkerFile(rel, extensions)) continue;
      let target = abs;
      if (e.isSymbolicLink()) {
        try {
          target = await realpath(abs);
        } catch {
          continue;
        }
        if (!inside(realRoot, target) || !(await stat(target)).isFile()) {
          if (!inside(realRoot, target)) {
            warnings.push({
              code: 'symlink-outside',
              message: `${rel} links outside the repository; skipped`,
              file: rel,
            });
          }
          continue;
        }
      } else if (!e.isFile()) continue;
      const size = (await lstat(target)).size;
      if (size > max) {
        warnings.push({
          code: 'file-too-large',
          message: `${rel} is ${size} bytes, over the ${max}-byte limit; skipped`,
          file: rel,
        });
        continue;
      }
      const text = await readFile(target, 'utf8');
      if (text.includes(MARKER_TOKEN)) files.push({ path: rel, text });
    }
  };
  await walk(start);
  return { files, warnings };
}

/** Write changed files, refusing any path that resolves outside the root. */
export async function applyFileChanges(root: string, changes: readonly FileChange[]): Promise<void> {
  const realRoot = await realpath(root);
  for (const c of changes) {
    const target = resolve(realRoot, c.file);
    if (!inside(realRoot, target))
      throw new ConfigError(`refusing to write ${c.file}: outside the repository`);
    const real = await realpath(target);
    if (!inside(realRoot, real))
      throw new ConfigError(`refusing to write ${c.file}: it links outside the repository`);
    await writeFile(real, c.newText);
  }
}
