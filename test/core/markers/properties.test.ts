import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyResults } from '../../../src/core/domain/types.js';
import { rewriteMarkers } from '../../../src/core/markers/index.js';

const results: PolicyResults = {
  'ns:a': { name: 'ghcr.io/acme/a', tag: '2.0.0' },
  'ns:b': { name: 'ghcr.io/acme/b', tag: '1.10', digest: `sha256:${'d'.repeat(64)}` },
};

const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
const plain = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/),
  fc.constantFrom('1.0', 'yes', '42', 'x y'),
);
const marker = fc.constantFrom(
  'ns:a',
  'ns:a:tag',
  'ns:b',
  'ns:b:tag',
  'ns:b:digest',
  'ns:a:name',
  'ns:zz:tag',
);
const eol = fc.constantFrom('\n', '\r\n');

/** A line of a random block mapping, possibly marked, in a random quote style. */
const line = fc.record({
  indent: fc.constantFrom('', '  '),
  key,
  value: plain,
  quote: fc.constantFrom('', "'", '"'),
  marker: fc.option(marker, { nil: undefined }),
  gap: fc.constantFrom(' ', '  ', '\t'),
  seq: fc.boolean(),
});

type Line = typeof line extends fc.Arbitrary<infer T> ? T : never;

function render(lines: Line[], nl: string): string {
  let out = 'root:' + nl;
  for (const l of lines) {
    const v = l.quote ? `${l.quote}${l.value}${l.quote}` : l.value.includes(' ') ? `"${l.value}"` : l.value;
    const c = l.marker ? `${l.gap}# {"$imagepolicy": "${l.marker}"}` : '';
    out += l.seq ? `  ${l.key}:${nl}    - ${v}${c}${nl}` : `  ${l.key}: ${v}${c}${nl}`;
  }
  return out;
}

describe('marker rewriting properties', () => {
  it('changes no byte outside the marked value spans, and is idempotent', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(line, { minLength: 1, maxLength: 12, selector: (l) => l.key }),
        eol,
        (lines, nl) => {
          const text = render(lines, nl);
          const once = rewriteMarkers('x.yaml', text, results);
          const twice = rewriteMarkers('x.yaml', once.text, results);
          expect(twice.text).toBe(once.text);
          expect(rewriteMarkers('x.yaml', text, {}).text).toBe(text);
          // Line by line: an unmarked line is identical; a marked line differs only in its value.
          const before = text.split(nl);
          const after = once.text.split(nl);
          expect(after.length).toBe(before.length);
          before.forEach((b, i) => {
            const a = after[i]!;
            if (!b.includes('$imagepolicy')) expect(a).toBe(b);
            else {
              const commentAt = b.indexOf('#');
              expect(a.slice(a.indexOf('#'))).toBe(b.slice(commentAt));
              const head = b.slice(0, commentAt);
              const prefix = head.includes(': ')
                ? head.slice(0, head.indexOf(': ') + 2)
                : head.slice(0, head.indexOf('- ') + 2);
              expect(a.startsWith(prefix)).toBe(true);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
