/**
 * Reading a checkout, with one walk and one path-safety rule for everything a run reads from it (the repo's
 * configuration and its marked files):
 * - the tree is walked once; `.git` and `node_modules` are skipped; symlinked directories are not followed;
 * - a symlinked file is read only when it resolves inside the root (else a `symlink-outside` warning);
 * - files over the size cap are skipped with a `file-too-large` warning;
 * - a path that leaves the root (`..`, absolute, through a symlink) is refused with a ConfigError;
 * - each file is read at most once per reader: synchronously, in batches, yielding to the event loop between
 *   batches (one read costs a few syscalls; a promise per file cost more than the read itself, and a 10,000-file
 *   checkout still leaves the App's event loop free every few milliseconds);
 * - only the bytes a run will look at again (`retain`) are kept between reads, so memory follows the marked and
 *   config files, not the size of the checkout.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Warning } from '../core/domain/types.js';
import { ConfigError } from '../core/errors.js';

export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const SKIP_DIRS = new Set(['.git', 'node_modules']);
/** Files read between two yields to the event loop. */
const READ_BATCH = 128;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `bytes` when they are valid UTF-8 (a BOM kept as U+FEFF, so it is written back as it was). */
function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function inside(root: string, p: string): boolean {
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

interface Entry {
  /** Relative to the root, `/`-separated. */
  readonly rel: string;
  readonly abs: string;
  readonly link: boolean;
}

export interface ReadFile {
  readonly path: string;
  readonly text: string;
}

/**
 * Which files' bytes a reader keeps after a read, for later reads (default: all of them). It must accept every
 * file a later read's `keep` could accept: a file it turned down is not read again by a read with a `keep`
 * (it would be screened out again), only by one without.
 */
export type Retain = (rel: string, bytes: Buffer) => boolean;

/** A file read once and not retained: a later `keep` would turn it down too. */
const SCREENED_OUT = 'screened-out';

export class CheckoutReader {
  /**
   * Bytes kept for later reads; `null`: read and found unreadable, skipped (its warning already given);
   * `SCREENED_OUT`: read, and `retain` turned it down.
   */
  private readonly cache = new Map<string, Buffer | null | typeof SCREENED_OUT>();
  private readonly warned = new Set<string>();
  private readonly warnings: Warning[] = [];
  private scratch = Buffer.allocUnsafe(64 * 1024);

  private constructor(
    readonly root: string,
    private readonly entries: readonly Entry[],
    private readonly maxBytes: number,
    private readonly retain: Retain,
  ) {}

  /** Walk the checkout once (names only; nothing is read yet). */
  static async open(
    root: string,
    opts: { maxFileBytes?: number; retain?: Retain } = {},
  ): Promise<CheckoutReader> {
    const realRoot = await realpath(root);
    const entries: Entry[] = [];
    // Paths are built by concatenation (names from readdir hold no separator): `path.join`/`relative` on
    // 10,000 files cost about 50 ms of CPU.
    const walk = async (dir: string, relDir: string): Promise<void> => {
      const list = await readdir(dir, { withFileTypes: true });
      await Promise.all(
        list.map(async (e) => {
          const abs = `${dir}${sep}${e.name}`;
          const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
          if (e.isDirectory()) {
            if (!SKIP_DIRS.has(e.name)) await walk(abs, rel);
          } else if (e.isFile() || e.isSymbolicLink()) {
            entries.push({ rel, abs, link: e.isSymbolicLink() });
          }
        }),
      );
    };
    await walk(realRoot.endsWith(sep) ? realRoot.slice(0, -1) : realRoot, '');
    entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    return new CheckoutReader(
      realRoot,
      entries,
      opts.maxFileBytes ?? MAX_FILE_BYTES,
      opts.retain ?? (() => true),
    );
  }

  /**
   * The files under `path` (relative to the root; the whole checkout by default) whose name passes `accept`
   * and whose bytes pass `keep`, in path order. Warnings for skipped files are collected in `warningsSoFar`.
   */
  async read(opts: {
    readonly path?: string;
    readonly accept: (rel: string) => boolean;
    readonly keep?: (rel: string, bytes: Buffer) => boolean;
  }): Promise<ReadFile[]> {
    const start = await resolveInside(this.root, opts.path ?? '.');
    const startRel = relative(this.root, start).split(sep).join('/');
    const under = (rel: string) => startRel === '' || rel.startsWith(`${startRel}/`);
    const chosen = this.entries.filter((e) => under(e.rel) && opts.accept(e.rel));
    const out: ReadFile[] = [];
    for (let i = 0; i < chosen.length; i++) {
      if (i > 0 && i % READ_BATCH === 0) await yieldToEventLoop();
      const e = chosen[i]!;
      if (opts.keep && this.cache.get(e.rel) === SCREENED_OUT) continue; // no second read to screen it again
      const bytes = this.bytesOf(e);
      if (!bytes || (opts.keep && !opts.keep(e.rel, bytes))) continue;
      const text = decodeUtf8(bytes);
      if (text === undefined) {
        this.warn({
          code: 'file-not-utf8',
          message: `${e.rel}: not UTF-8 text, so it is left alone (tidemark edits UTF-8 files only: a re-encoded file would change bytes outside its markers); save it as UTF-8`,
          file: e.rel,
        });
        continue;
      }
      out.push({ path: e.rel, text });
    }
    return out;
  }

  /** Files skipped so far, and why, in path order. */
  warningsSoFar(): Warning[] {
    return [...this.warnings].sort((a, b) => ((a.file ?? '') < (b.file ?? '') ? -1 : 1));
  }

  private bytesOf(e: Entry): Buffer | undefined {
    const cached = this.cache.get(e.rel);
    if (cached !== undefined && cached !== SCREENED_OUT) return cached ?? undefined;
    const bytes = this.load(e);
    if (!bytes) this.cache.set(e.rel, null);
    else if (this.retain(e.rel, bytes)) {
      const copy = Buffer.from(bytes); // `bytes` is the scratch buffer, overwritten by the next read
      this.cache.set(e.rel, copy);
      return copy;
    } else this.cache.set(e.rel, SCREENED_OUT);
    return bytes;
  }

  private load(e: Entry): Buffer | undefined {
    let target = e.abs;
    if (e.link) {
      try {
        target = realpathSync(e.abs);
      } catch {
        return undefined; // a dangling link
      }
      if (!inside(this.root, target)) {
        this.warn({
          code: 'symlink-outside',
          message: `${e.rel} links outside the repository; skipped`,
          file: e.rel,
        });
        return undefined;
      }
      if (!statSync(target).isFile()) return undefined;
    }
    let fd: number;
    try {
      fd = openSync(target, 'r');
    } catch {
      return undefined; // gone since the walk
    }
    try {
      // Read into one scratch buffer (grown as needed, up to one byte over the limit): no stat call and no
      // allocation per file; only the files a run keeps are copied out of it.
      let at = 0;
      for (;;) {
        if (at === this.scratch.length) {
          if (at > this.maxBytes) break;
          const grown = Buffer.allocUnsafe(Math.min(this.scratch.length * 2, this.maxBytes + 1));
          this.scratch.copy(grown, 0, 0, at);
          this.scratch = grown;
        }
        const want = this.scratch.length - at;
        const n = readSync(fd, this.scratch, at, want, null);
        at += n;
        // A regular file answers a read in full unless it is at its end: a short read saves the extra call
        // that would only confirm the end.
        if (n < want) break;
      }
      if (at > this.maxBytes) {
        this.warn({
          code: 'file-too-large',
          message: `${e.rel} is ${fstatSync(fd).size} bytes, over the ${this.maxBytes}-byte limit; skipped`,
          file: e.rel,
        });
        return undefined;
      }
      return this.scratch.subarray(0, at);
    } finally {
      closeSync(fd);
    }
  }

  private warn(w: Warning): void {
    if (this.warned.has(w.file ?? w.message)) return;
    this.warned.add(w.file ?? w.message);
    this.warnings.push(w);
  }
}
