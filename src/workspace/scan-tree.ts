/**
 * The marker files of a checkout: under `update.path` only, names that may hold markers, bytes that hold the
 * `"$imagepolicy"` token. The walk and its safety rules are `CheckoutReader`'s (checkout.ts).
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FileChange, Warning } from '../core/domain/types.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_EXTRA_EXTENSIONS, isMarkerFile, MARKER_TOKEN } from '../core/markers/index.js';
import { CheckoutReader, inside, MAX_FILE_BYTES, resolveInside } from './checkout.js';

export { MAX_FILE_BYTES, resolveInside };

/** Files written between two yields to the event loop. */
const WRITE_BATCH = 128;

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

/** The marker files under `path`: names that may hold markers, and bytes that hold the token. */
export async function scanMarkerFiles(
  reader: CheckoutReader,
  opts: Omit<ScanOptions, 'maxFileBytes'> = {},
): Promise<ScannedFile[]> {
  const extensions = opts.extensions ?? DEFAULT_EXTRA_EXTENSIONS;
  return reader.read({
    ...(opts.path !== undefined && { path: opts.path }),
    accept: (rel) => isMarkerFile(rel, extensions),
    // Screen the raw bytes first: most files hold no marker and need no decoding.
    keep: (_rel, bytes) => bytes.includes(MARKER_TOKEN),
  });
}

/** Walk a checkout for marker files (see `CheckoutReader` for the safety rules). */
export async function scanTree(
  root: string,
  opts: ScanOptions = {},
): Promise<{ files: ScannedFile[]; warnings: Warning[] }> {
  const reader = await CheckoutReader.open(
    root,
    opts.maxFileBytes ? { maxFileBytes: opts.maxFileBytes } : {},
  );
  const files = await scanMarkerFiles(reader, opts);
  return { files, warnings: reader.warningsSoFar() };
}

/**
 * Write changed files, refusing any path that resolves outside the root. Synchronous writes in batches, like
 * the reads (checkout.ts): a promise per file cost more than the write.
 */
export async function applyFileChanges(root: string, changes: readonly FileChange[]): Promise<void> {
  const realRoot = realpathSync.native(root);
  for (const [i, c] of changes.entries()) {
    if (i > 0 && i % WRITE_BATCH === 0) await yieldToEventLoop();
    const target = resolve(realRoot, c.file);
    if (!inside(realRoot, target))
      throw new ConfigError(`refusing to write ${c.file}: outside the repository`);
    const real = realpathSync.native(target);
    if (!inside(realRoot, real))
      throw new ConfigError(`refusing to write ${c.file}: it links outside the repository`);
    writeFileSync(real, c.newText);
  }
}
