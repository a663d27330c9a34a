import { describe, expect, it } from 'vitest';
import type { ImagePushed } from '../../src/core/domain/types.js';
import { createDeduper } from '../../src/intake/dedupe.js';

const ev = (tag: string, digest: string | null = null, image = 'ghcr.io/acme/web'): ImagePushed => ({
  image,
  tag,
  digest,
  provider: 'github',
});

describe('createDeduper', () => {
  it('drops the same (image, tag, digest) within the window, and accepts it after', () => {
    const clock = { t: 0 };
    const d = createDeduper({ windowMs: 1000, now: () => clock.t });
    expect(d.claim([ev('1.0')])).toHaveLength(1);
    clock.t = 999;
    expect(d.claim([ev('1.0')])).toEqual([]);
    clock.t = 1000;
    expect(d.claim([ev('1.0')])).toHaveLength(1);
  });

  it('tells apart image, tag and digest', () => {
    const d = createDeduper({ now: () => 0 });
    expect(
      d.claim([ev('1.0'), ev('1.1'), ev('1.0', 'sha256:x'), ev('1.0', null, 'ghcr.io/acme/api')]),
    ).toHaveLength(4);
  });

  it('dedupes within one delivery (six Docker Hub deliveries of one tag)', () => {
    const d = createDeduper({ now: () => 0 });
    expect(d.claim([ev('1.0'), ev('1.0'), ev('1.0')])).toEqual([ev('1.0')]);
  });

  it('release forgets claimed events', () => {
    const d = createDeduper({ now: () => 0 });
    d.claim([ev('1.0')]);
    d.release([ev('1.0')]);
    expect(d.claim([ev('1.0')])).toHaveLength(1);
  });

  it('keeps at most maxEntries, evicting the oldest', () => {
    const d = createDeduper({ now: () => 0, maxEntries: 2 });
    d.claim([ev('1'), ev('2'), ev('3')]);
    expect(d.claim([ev('1')])).toHaveLength(1);
    expect(d.claim([ev('3')])).toEqual([]);
  });
});
