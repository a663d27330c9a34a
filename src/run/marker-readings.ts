/**
 * The App's memory of marker readings across runs: keyed by a file's path and a hash of its content, at most
 * `max` files (least recently used out first). A reading is small (the markers' spans and values), so 50,000
 * files cost a few tens of MB at most; a run over unchanged files parses none of them.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { MarkerReadings } from '../core/plan/plan-files.js';

type Reading = Parameters<MarkerReadings['set']>[2];

export function markerReadingsCache(max = 50_000): MarkerReadings & { readonly size: number } {
  const cache = new LRUCache<string, Reading>({ max });
  const key = (path: string, text: string) =>
    `${path}\u0000${createHash('sha256').update(text).digest('hex')}`;
  return {
    get: (path, text) => cache.get(key(path, text)),
    set: (path, text, reading) => {
      cache.set(key(path, text), reading);
    },
    get size() {
      return cache.size;
    },
  };
}
