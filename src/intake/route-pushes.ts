/**
 * Registry pushes → reconcile jobs: every repo whose policies watch the pushed image gets one job reason,
 * keyed by image and tag (so a push delivered twice merges). Every push is recorded as first seen, watched or
 * not, for minimum-age rules.
 */

import type { JobReason } from '../core/domain/reasons.js';
import type { ImagePushed } from '../core/domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { FirstSeenStore } from '../state/first-seen.js';
import type { PolicyIndex, RepoTarget } from '../state/policy-index.js';

export interface RoutePushDeps {
  readonly index: Pick<PolicyIndex, 'reposForImage'>;
  readonly firstSeen: Pick<FirstSeenStore, 'record'>;
  readonly enqueue: (target: RepoTarget, reason: JobReason) => Promise<void>;
  readonly now: () => number;
  readonly log: Pick<Logger, 'info'>;
}

/** Returns how many (repo, push) pairs were enqueued. */
export async function routeImagePushes(
  deps: RoutePushDeps,
  events: readonly ImagePushed[],
  meta: { readonly source: string },
): Promise<number> {
  let routed = 0;
  for (const event of events) {
    await deps.firstSeen.record(event.image, event.tag, deps.now());
    // The (tag → digest) mapping's first sight: what a minimum age counts from (a re-pointed tag starts over).
    if (event.digest) await deps.firstSeen.record(event.image, `${event.tag}@${event.digest}`, deps.now());
    const repos = await deps.index.reposForImage(event.image);
    if (repos.length === 0)
      deps.log.info(
        { image: event.image, tag: event.tag, source: meta.source },
        'no policy watches this image',
      );
    for (const t of repos) {
      await deps.enqueue(t, {
        kind: 'registry-push',
        key: `${event.image}:${event.tag}`,
        detail: { event },
        receivedAt: deps.now(),
      });
      routed++;
    }
  }
  return routed;
}
