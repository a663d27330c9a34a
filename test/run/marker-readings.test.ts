import { describe, expect, it } from 'vitest';
import { readMarkedFiles } from '../../src/core/plan/plan-files.js';
import { markerReadingsCache } from '../../src/run/marker-readings.js';

const a = { path: 'a.yaml', text: 'image: x/a:1 # {"$imagepolicy": "ns:a"}\n' };
const b = { path: 'b.yaml', text: 'image: x/b:1 # {"$imagepolicy": "ns:b"}\n' };

describe('marker readings across runs', () => {
  it('a file read once is not read again while its content is the same; a change is read afresh', () => {
    const cache = markerReadingsCache(10);
    let reads = 0;
    const counting = {
      get: (p: string, t: string) => cache.get(p, t),
      set: (p: string, t: string, r: Parameters<typeof cache.set>[2]) => {
        reads++;
        cache.set(p, t, r);
      },
    };
    const first = readMarkedFiles([a, b], counting);
    expect(reads).toBe(2);
    expect(readMarkedFiles([a, b], counting)).toEqual(first);
    expect(reads).toBe(2);
    const changed = { ...a, text: a.text.replace('x/a:1', 'x/a:2') };
    const again = readMarkedFiles([changed, b], counting);
    expect(reads).toBe(3);
    expect(again[0]!.markers[0]!.value).toBe('x/a:2');
  });

  it('is bounded', () => {
    const cache = markerReadingsCache(2);
    readMarkedFiles([a, b, { path: 'c.yaml', text: a.text }], cache);
    expect(cache.size).toBe(2);
  });
});
