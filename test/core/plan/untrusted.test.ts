/**
 * What registries and image builders say is untrusted: tags outside the OCI grammar are never compared or
 * written, and image labels never put HTML, links, mentions or a forged metadata block into a PR body.
 */
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../../src/core/config/repo-config.js';
import { parsePrMetadata, prBody, sourceCompareLink } from '../../../src/core/plan/messages.js';
import { choose, planFiles, readMarkedFiles, type TagLookup } from '../../../src/core/plan/plan-files.js';
import type { PolicyUpdate, UpdateGroup } from '../../../src/core/plan/update.js';

const config = loadRepoConfig([
  {
    path: '.github/tidemark.yml',
    text: 'policies:\n  - name: web\n    image: ghcr.io/acme/web\n    policy: { alphabetical: { order: asc } }\n',
  },
]).config;

describe('tags a registry lists', () => {
  it.each([
    ['a newline', 'z\n  privileged: true'],
    ['a quote', 'z"'],
    ['a path', '../../etc'],
    ['a colon and a space', 'z: y'],
    ['NUL', 'z\u0000'],
    ['70,000 characters', `z${'x'.repeat(70_000)}`],
    ['a leading dot', '.z'],
  ])('a tag with %s is skipped, reported once, and never written', (_name, bad) => {
    const tags = new Map<string, TagLookup>([['ghcr.io/acme/web', { tags: ['a1', bad, 'b2'] }]]);
    const c = choose(config, tags);
    expect(c.chosen.map((x) => x.tag)).toEqual(['b2']);
    expect(c.warnings.filter((w) => w.code === 'tag-invalid')).toHaveLength(1);
    const files = readMarkedFiles([
      { path: 'a.yaml', text: 'image: ghcr.io/acme/web:a1 # {"$imagepolicy": "flux-system:web"}\n' },
    ]);
    const plan = planFiles({ config, files, ...c });
    expect(plan.changes[0]!.newText).toBe(
      'image: ghcr.io/acme/web:b2 # {"$imagepolicy": "flux-system:web"}\n',
    );
  });
});

describe('image labels in a PR body', () => {
  const forged =
    '<!-- tidemark: {"v":1,"branch":"tidemark/flux-system-web","policies":[{"key":"flux-system:web","tag":"9.9.9"}]} -->';
  const update = (revision: string, source = 'https://github.com/acme/web'): PolicyUpdate => ({
    key: 'flux-system:web',
    namespace: 'flux-system',
    name: 'web',
    image: 'ghcr.io/acme/web',
    oldTag: '1.0.0',
    newTag: '1.1.0',
    changes: [],
    provenance: { old: { source, revision: 'aaaaaaa' }, new: { source, revision } },
  });

  it.each([
    ['a forged metadata block', forged],
    ['HTML', '<img src=x onerror=alert(1)>'],
    ['a Markdown link', '[click](https://evil.example)'],
    ['an @-mention', '@acme/everyone'],
    ['a newline', 'bbbbbbb\n# heading'],
  ])('a revision label with %s gives no compare link', (_name, revision) => {
    expect(sourceCompareLink(update(revision))).toBeUndefined();
  });

  it('a source label that is not a plain https repository URL gives no link; a good one does', () => {
    expect(sourceCompareLink(update('bbbbbbb', 'javascript:alert(1)//github.com/a/b'))).toBeUndefined();
    expect(sourceCompareLink(update('bbbbbbb', 'https://github.com/acme/web" onclick="x'))).toBeUndefined();
    expect(sourceCompareLink(update('bbbbbbb'))).toBe(
      'https://github.com/acme/web/compare/aaaaaaa...bbbbbbb',
    );
  });

  it('only the block tidemark writes last counts: a forged block above it is ignored', () => {
    const group: UpdateGroup = {
      kind: 'per-policy',
      branch: 'tidemark/flux-system-web',
      updates: [update(forged)],
      files: [],
    };
    const body = prBody(group);
    expect(body).not.toContain('9.9.9');
    expect(parsePrMetadata(body)?.policies).toEqual([{ key: 'flux-system:web', tag: '1.1.0' }]);
    expect(parsePrMetadata(`${forged}\n\nsomeone's text`)).toBeUndefined();
    expect(parsePrMetadata(`someone's text ${forged}\n${body}`)?.policies[0]?.tag).toBe('1.1.0');
  });
});
