/**
 * Reading a checkout, with one walk and one path-safety rule for everything a run reads from it (the repo's
 * configuration and its marked files):
 * - the tree is walked once; `.git` and `node_modules` are skipped; symlinked directories are not followed;
 * - a symlinked file is read only when it resolves inside the root (else a `symlink-outside` warning);
 * - files over the size cap are skipped with a `file-too-large` warning;
 * - a path that leaves the root (`..`, absolute, through a symlink) is refused with a ConfigError;
 * - each file is read at most once per reader, a bounded number at a time.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Warning } from '../core/domain/types.js';
import { ConfigError } from '../core/errors.js';

export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const SKIP_DIRS = new Set(['.git', 'node_modules']);
const READ_CONCURRENCY = 32;

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

export class CheckoutReader {
  private readonly cache = new Map<string, Promise<Buffer | undefined>>();
  private readonly warned = new Set<string>();
  private readonly warnings: Warning[] = [];

  private constructor(
    readonly root: string,
    private readonly entries: readonly Entry[],
    private readonly maxBytes: number,
  ) {}

  /** Walk the checkout once (names only; nothing is read yet). */
  static async open(root: string, opts: { maxFileBytes?: number } = {}): Promise<CheckoutReader> {
    const realRoot = await realpath(root);
    const entries: Entry[] = [];
    const walk = async (dir: string): Promise<void> => {
      const list = await readdir(dir, { withFileTypes: true });
      await Promise.all(
        list.map(async (e) => {
          const abs = join(dir, e.name);
          if (e.isDirectory()) {
            if (!SKIP_DIRS.has(e.name)) await walk(abs);
          } else if (e.isFile() || e.isSymbolicLink()) {
            entries.push({
              rel: relative(realRoot, abs).split(sep).join('/'),
              abs,
              link: e.isSymbolicLink(),
            });
          }
        }),
      );
    };
    await walk(realRoot);
    entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    return new CheckoutReader(realRoot, entries, opts.maxFileBytes ?? MAX_FILE_BYTES);
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
    const texts: (string | undefined)[] = new Array(chosen.length);
    let next = 0;
    const worker = async () => {
      while (next < chosen.length) {
        const i = next++;
        const e = chosen[i]!;
        const bytes = await this.bytesOf(e);
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
        texts[i] = text;
      }
    };
    await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
    return chosen.flatMap((e, i) => (texts[i] === undefined ? [] : [{ path: e.rel, text: texts[i]! }]));
  }

  /** Files skipped so far, and why, in path order. */
  warningsSoFar(): Warning[] {
    return [...this.warnings].sort((a, b) => ((a.file ?? '') < (b.file ?? '') ? -1 : 1));
  }

  private bytesOf(e: Entry): Promise<Buffer | undefined> {
    let p = this.cache.get(e.rel);
    if (!p) {
      p = this.load(e);
      this.cache.set(e.rel, p);
    }
    return p;
  }

  private async load(e: Entry): Promise<Buffer | undefined> {
    let target = e.abs;
    if (e.link) {
      try {
        target = await realpath(e.abs);
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
      if (!(await stat(target)).isFile()) return undefined;
    }
    const size = (await lstat(target)).size;
    if (size > this.maxBytes) {
      this.warn({
        code: 'file-too-large',
        message: `${e.rel} is ${size} bytes, over the ${this.maxBytes}-byte limit; skipped`,
        file: e.rel,
      });
      return undefined;
    }
    return readFile(target);
  }

  private warn(w: Warning): void {
    if (this.warned.has(w.file ?? w.message)) return;
    this.warned.add(w.file ?? w.message);
    this.warnings.push(w);
  }
}
