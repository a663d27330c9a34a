import { describe, expect, it } from 'vitest';
import {
  findRollbacks,
  type HistoryCommit,
  markedTags,
  parseMarkerHistory,
  rollbackHold,
} from '../../../src/core/plan/rollback.js';
import type { ImagePolicySpec } from '../../../src/core/policy/types.js';

const spec: ImagePolicySpec = {
  name: 'web',
  namespace: 'flux-system',
  image: 'ghcr.io/acme/web',
  exclusionList: [],
  policy: { semver: { range: '>=1.0.0' } },
  digestReflectionPolicy: 'Never',
  source: { kind: 'native' },
};
const line = (tag: string) => `      image: ghcr.io/acme/web:${tag} # {"$imagepolicy": "flux-system:web"}`;
let n = 0;
const commit = (who: 'tidemark' | 'alice', from: string | undefined, to: string): HistoryCommit => ({
  sha: `${(++n).toString(16).padStart(12, '0')}${'0'.repeat(28)}`,
  authorName: who,
  authorEmail: `${who}@example.com`,
  date: '2026-12-04T10:00:00Z',
  message: who === 'tidemark' ? `chore(deps): update\n\nTidemark-Policy: flux-system:web` : 'edit',
  removed: from === undefined ? [] : [line(from)],
  added: [line(to)],
});
const byTidemark = (c: HistoryCommit) => c.authorName === 'tidemark';

describe('rollbacks from history (newest commit first)', () => {
  it('a person setting an older value than tidemark wrote holds the policy', () => {
    const found = findRollbacks(
      [commit('alice', '1.1.0', '1.0.0'), commit('tidemark', '1.0.0', '1.1.0')],
      byTidemark,
      [spec],
    );
    expect(found).toMatchObject([{ key: 'flux-system:web', to: '1.0.0', from: '1.1.0', by: 'alice' }]);
    expect(rollbackHold(spec, found[0]!, '1.1.0')).toContain('rolled back to 1.0.0 by alice');
    expect(rollbackHold(spec, found[0]!, '1.2.0')).toBeUndefined(); // newer than the one rolled back from
  });

  it.each<[string, HistoryCommit[]]>([
    ['tidemark wrote last', [commit('tidemark', '1.0.0', '1.1.0'), commit('alice', '1.1.0', '1.0.0')]],
    ['the person moved forward', [commit('alice', '1.1.0', '1.2.0'), commit('tidemark', '1.0.0', '1.1.0')]],
    [
      'a new marked line at an old tag is not a rollback',
      [commit('alice', undefined, '1.0.0'), commit('tidemark', '1.0.0', '1.1.0')],
    ],
    ['no tidemark change before it', [commit('alice', '1.1.0', '1.0.0')]],
  ])('none when %s', (_why, history) => {
    expect(findRollbacks(history, byTidemark, [spec])).toEqual([]);
  });

  it('reads values from marked lines, quoted or as sequence items; other lines are ignored', () => {
    expect(
      markedTags([
        '  - ghcr.io/acme/web:1.2.3 # {"$imagepolicy": "flux-system:web"}',
        '  tag: "2.0.0" # {"$imagepolicy": "flux-system:api:tag"}',
        '  image: nginx:1.0 # not a marker',
      ]),
    ).toEqual(
      new Map([
        ['flux-system:web', '1.2.3'],
        ['flux-system:api', '2.0.0'],
      ]),
    );
  });

  it('parses git log -p -U0 records', () => {
    const raw = `\x1eabc\x1fAlice\x1falice@example.com\x1f2026-12-04T10:00:00+00:00\x1fRoll back\n\x1f\n\ndiff --git a/d.yaml b/d.yaml\n--- a/d.yaml\n+++ b/d.yaml\n@@ -3 +3 @@\n-${line('1.1.0')}\n+${line('1.0.0')}\n`;
    const [c] = parseMarkerHistory(raw);
    expect(c).toMatchObject({
      sha: 'abc',
      authorName: 'Alice',
      removed: [line('1.1.0')],
      added: [line('1.0.0')],
    });
  });
});
