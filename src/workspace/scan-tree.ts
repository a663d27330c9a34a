/**
 * Walk a checkout for marker files: under `path` only, never out of the root (symlinked directories are not
 * followed; a symlinked file is read only when it resolves inside the root), `.git` skipped, files over the
 * size cap skipped with a warning, and only files holding the `"$imagepolicy"` token kept.
 */
import { lstat, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FileChange, Warning } from '../core/domain/types.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_EXTRA_EXTENSIONS, isMarkerFile, MARKER_TOKEN } from '../core/markers/index.js';

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
  const candidates: { rel: string; abs: string; link: boolean }[] = [];
  const warnings: Warning[] = [];
  // 1. Walk the directories (cheap), collecting candidate files by name.
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (e) => {
        const abs = join(dir, e.name);
        const rel = relative(realRoot, abs).split(sep).join('/');
        if (e.isDirectory()) {
          if (e.name !== '.git') await walk(abs);
        } else if ((e.isFile() || e.isSymbolicLink()) && isMarkerFile(rel, extensions)) {
          candidates.push({ rel, abs, link: e.isSymbolicLink() });
        }
      }),
    );
  };
  await walk(start);
  candidates.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  // 2. Read them, a bounded number at a time; keep those holding the token.
  const texts: (string | undefined)[] = new Array(candidates.length);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      const c = candidates[i]!;
      let target = c.abs;
      if (c.link) {
        try {
          target = await realpath(c.abs);
        } catch {
          continue;
        }
        if (!inside(realRoot, target)) {
          warnings.push({
            code: 'symlink-outside',
            message: `${c.rel} links outside the repository; skipped`,
            file: c.rel,
          });
          continue;
        }
        if (!(await stat(target)).isFile()) continue;
      }
      const size = (await lstat(target)).size;
      if (size > max) {
        warnings.push({
          code: 'file-too-large',
          message: `${c.rel} is ${size} bytes, over the ${max}-byte limit; skipped`,
          file: c.rel,
        });
        continue;
      }
      // Screen the raw bytes first: most files hold no marker and need no decoding.
      const buf = await readFile(target);
      if (buf.includes(MARKER_TOKEN)) texts[i] = buf.toString('utf8');
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const files: ScannedFile[] = [];
  candidates.forEach((c, i) => {
    if (texts[i] !== undefined) files.push({ path: c.rel, text: texts[i]! });
  });
  warnings.sort((a, b) => ((a.file ?? '') < (b.file ?? '') ? -1 : 1));
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
