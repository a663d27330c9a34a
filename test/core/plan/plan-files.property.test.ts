/**
 * Property: per-policy groups derived from one reading of each file are exactly what rewriting each file once
 * per policy (the old loop) produces — same files, same bytes, same changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../../src/core/config/repo-config.js';
import { rewriteMarkers } from '../../../src/core/markers/index.js';
import { choose, planFiles, readMarkedFiles, type TagLookup } from '../../../src/core/plan/plan-files.js';

const IMAGES = ['a', 'b', 'c', 'd'];
const config = loadRepoConfig([
  {
    path: '.github/tidemark.yml',
    text: `policies:\n${IMAGES.map((i) => `  - name: ${i}\n    image: ghcr.io/acme/${i}\n    policy: { semver: { range: ">=1.0.0" } }\n`).join('')}`,
  },
]).config;
const tags = new Map<string, TagLookup>(
  IMAGES.map((i) => [`ghcr.io/acme/${i}`, { tags: ['1.0.0', '1.2.0', '2.0.0'] }]),
);

const line = fc
  .record({
    image: fc.constantFrom(...IMAGES, 'zz'),
    field: fc.constantFrom('', ':tag', ':name'),
    tag: fc.constantFrom('1.0.0', '2.0.0', '0.9.0'),
    quote: fc.constantFrom('', '"', "'"),
    key: fc.integer({ min: 0, max: 99 }),
  })
  .map(({ image, field, tag, quote, key }) => {
    const value =
      field === ':tag' ? tag : field === ':name' ? `ghcr.io/acme/${image}` : `ghcr.io/acme/${image}:${tag}`;
    return `k${key}: ${quote}${value}${quote} # {"$imagepolicy": "flux-system:${image}${field}"}`;
  });
const file = fc.array(line, { minLength: 1, maxLength: 6 }).map((lines) => {
  // Unique keys per file, so every generated file is valid YAML.
  const seen = new Set<string>();
  return `${lines.filter((l) => !seen.has(l.split(':')[0]!) && seen.add(l.split(':')[0]!)).join('\n')}\n`;
});

describe('per-policy groups from one parse', () => {
  it('equal rewriting every file once per policy', () => {
    fc.assert(
      fc.property(fc.array(file, { minLength: 1, maxLength: 5 }), (texts) => {
        const raw = texts.map((text, i) => ({ path: `f${i}.yaml`, text }));
        const c = choose(config, tags);
        const plan = planFiles({ config, files: readMarkedFiles(raw), ...c });
        const results = Object.fromEntries(c.chosen.map((x) => [x.key, { name: x.spec.image, tag: x.tag }]));
        for (const key of Object.keys(results)) {
          const expected = raw.flatMap((f) => {
            const out = rewriteMarkers(f.path, f.text, { [key]: results[key]! });
            return out.text === f.text ? [] : [{ file: f.path, newText: out.text, changes: out.changes }];
          });
          const group = plan.groups.find((g) => g.updates[0]?.key === key);
          const actual = (group?.files ?? []).map((f) => ({
            file: f.file,
            newText: f.newText,
            changes: f.changes,
          }));
          expect(actual).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });
});
