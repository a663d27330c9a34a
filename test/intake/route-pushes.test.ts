import { describe, expect, it } from 'vitest';
import type { JobReason } from '../../src/core/domain/reasons.js';
import type { ImagePushed } from '../../src/core/domain/types.js';
import { routeImagePushes } from '../../src/intake/route-pushes.js';
import type { Logger } from '../../src/observability/logger.js';
import type { RepoTarget } from '../../src/state/policy-index.js';

const target = (repo: string): RepoTarget => ({
  installationId: 1,
  owner: 'acme',
  repo,
  cloneUrl: '',
  defaultBranch: '',
});
const push = (image: string, tag: string): ImagePushed => ({
  image,
  tag,
  digest: null,
  provider: 'distribution',
});

describe('routing registry pushes to repos', () => {
  it('one reason per watching repo, keyed image:tag; unwatched images are logged; every push is recorded', async () => {
    const enqueued: [string, JobReason][] = [];
    const recorded: string[] = [];
    const logged: unknown[] = [];
    const watchers: Record<string, RepoTarget[]> = { 'ghcr.io/acme/web': [target('a'), target('b')] };
    const routed = await routeImagePushes(
      {
        index: { reposForImage: async (image) => watchers[image] ?? [] },
        firstSeen: {
          record: async (image, tag, at) => {
            recorded.push(`${image}:${tag}`);
            return at;
          },
        },
        enqueue: async (t, r) => void enqueued.push([t.repo, r]),
        now: () => 42,
        log: { info: (obj: unknown) => void logged.push(obj) } as unknown as Pick<Logger, 'info'>,
      },
      [push('ghcr.io/acme/web', '1.2.0'), push('ghcr.io/acme/other', '9')],
      { source: 'registry:local' },
    );
    expect(routed).toBe(2);
    expect(
      enqueued.map(([repo, r]) => [
        repo,
        r.kind,
        r.kind === 'registry-push' ? r.key : undefined,
        r.receivedAt,
      ]),
    ).toEqual([
      ['a', 'registry-push', 'ghcr.io/acme/web:1.2.0', 42],
      ['b', 'registry-push', 'ghcr.io/acme/web:1.2.0', 42],
    ]);
    expect(recorded).toEqual(['ghcr.io/acme/web:1.2.0', 'ghcr.io/acme/other:9']);
    expect(logged).toEqual([{ image: 'ghcr.io/acme/other', tag: '9', source: 'registry:local' }]);
  });
});
