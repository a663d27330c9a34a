/**
 * Drops repeated push events. Senders retry (Distribution forever, Pub/Sub at least once, EventBridge for a
 * day) and some send one push several times (Docker Hub multi-arch), so the same (image, tag, digest) within
 * a window is one event. In memory and per process: a duplicate that slips through only costs a no-op
 * reconcile, because the worker re-reads the registry anyway.
 */
import type { ImagePushed } from '../core/domain/types.js';

export interface Deduper {
  /** The events not seen within the window (also unique among themselves); marks them as seen. */
  claim(events: readonly ImagePushed[]): ImagePushed[];
  /** Forgets events claimed by a delivery that failed, so the sender's retry is not dropped. */
  release(events: readonly ImagePushed[]): void;
}

export interface DeduperOptions {
  /** Default 60 000 ms. */
  readonly windowMs?: number;
  readonly now: () => number;
  /** Oldest entries are evicted beyond this. Default 10 000. */
  readonly maxEntries?: number;
}

export function dedupeKey(e: Pick<ImagePushed, 'image' | 'tag' | 'digest'>): string {
  return `${e.image}\u0000${e.tag}\u0000${e.digest ?? ''}`;
}

export function createDeduper(opts: DeduperOptions): Deduper {
  const windowMs = opts.windowMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  // Insertion order is expiry order (every entry lives windowMs), so expired entries sit at the front.
  const seen = new Map<string, number>();

  const prune = (now: number): void => {
    for (const [key, expires] of seen) {
      if (expires > now) break;
      seen.delete(key);
    }
    while (seen.size > maxEntries) {
      const oldest = seen.keys().next();
      if (oldest.done) break;
      seen.delete(oldest.value);
    }
  };

  return {
    claim(events) {
      const now = opts.now();
      prune(now);
      const fresh: ImagePushed[] = [];
      for (const e of events) {
        const key = dedupeKey(e);
        const expires = seen.get(key);
        if (expires !== undefined && expires > now) continue;
        seen.delete(key);
        seen.set(key, now + windowMs);
        fresh.push(e);
      }
      prune(now);
      return fresh;
    },
    release(events) {
      for (const e of events) seen.delete(dedupeKey(e));
    },
  };
}
