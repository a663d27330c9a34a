import { describe, expect, it } from 'vitest';
import type { MarkerChange } from '../../../src/core/domain/types.js';
import {
  commitMessage,
  metadataFor,
  parsePrMetadata,
  prBody,
  prTitle,
  renderTemplate,
  sourceCompareLink,
  withMetadata,
} from '../../../src/core/plan/messages.js';
import {
  branchNameFor,
  isTidemarkBranch,
  type PolicyUpdate,
  semverLevel,
  type UpdateGroup,
} from '../../../src/core/plan/update.js';

const change: MarkerChange = {
  file: 'apps/web/deployment.yaml',
  line: 12,
  column: 16,
  setter: 'flux-system:web',
  key: 'flux-system:web',
  field: 'ref',
  old: 'ghcr.io/acme/web:1.4.2',
  new: 'ghcr.io/acme/web:1.5.0',
};

const update: PolicyUpdate = {
  key: 'flux-system:web',
  namespace: 'flux-system',
  name: 'web',
  image: 'ghcr.io/acme/web',
  oldTag: '1.4.2',
  newTag: '1.5.0',
  changes: [change],
  provenance: {
    old: { source: 'https://github.com/acme/web', revision: 'aaa111' },
    new: { source: 'https://github.com/acme/web.git', revision: 'bbb222' },
  },
};

const group: UpdateGroup = {
  kind: 'per-policy',
  branch: branchNameFor('per-policy', update.key),
  updates: [update],
  files: [],
};

describe('branch names', () => {
  it.each([
    ['flux-system:web', 'tidemark/flux-system-web'],
    ['apps:My App', 'tidemark/apps-my-app'],
    ['ns:a..b.lock', 'tidemark/ns-a.b-lock'],
  ])('%s → %s', (key, branch) => {
    expect(branchNameFor('per-policy', key)).toBe(branch);
    expect(isTidemarkBranch(`refs/heads/${branch}`)).toBe(true);
  });
  it('group all uses tidemark/all or a custom branch', () => {
    expect(branchNameFor('all')).toBe('tidemark/all');
    expect(branchNameFor('all', undefined, 'image-updates')).toBe('image-updates');
  });
  it('does not claim other branches', () => {
    expect(isTidemarkBranch('refs/heads/main')).toBe(false);
  });
});

describe('commit message and PR text', () => {
  it('renders the default commit message', () => {
    const msg = commitMessage(group);
    expect(msg.headline).toBe('chore(deps): update ghcr.io/acme/web to 1.5.0');
    expect(msg.body).toContain('Tidemark-Policy: flux-system:web');
    expect(prTitle(group)).toBe(msg.headline);
  });

  it('renders a custom template', () => {
    expect(renderTemplate('bump {policy} {oldTag}→{newTag} ({changes} values)', update)).toBe(
      'bump flux-system:web 1.4.2→1.5.0 (1 values)',
    );
  });

  it('PR body has a change table, a compare link and metadata that parses back', () => {
    const body = prBody(group);
    expect(body).toContain(
      '| `apps/web/deployment.yaml` | 12 | `ghcr.io/acme/web:1.4.2` | `ghcr.io/acme/web:1.5.0` |',
    );
    expect(body).toContain('https://github.com/acme/web/compare/aaa111...bbb222');
    expect(parsePrMetadata(body)).toEqual({
      v: 1,
      branch: 'tidemark/flux-system-web',
      policies: [{ key: 'flux-system:web', tag: '1.5.0' }],
    });
  });

  it('withMetadata replaces the block and keeps the rest', () => {
    const body = prBody(group);
    const frozen = withMetadata(body, { ...metadataFor(group), frozen: true });
    expect(parsePrMetadata(frozen)?.frozen).toBe(true);
    expect(frozen.replace(/<!-- tidemark:.*-->/, '')).toBe(body.replace(/<!-- tidemark:.*-->/, ''));
  });

  it.each([
    '',
    'no block',
    '<!-- tidemark: {not json} -->',
    '<!-- tidemark: {"v":2,"branch":"x","policies":[]} -->',
  ])('parsePrMetadata ignores %j', (body) => {
    expect(parsePrMetadata(body)).toBeUndefined();
  });

  it('no compare link when sources differ or a revision is missing', () => {
    expect(
      sourceCompareLink({
        ...update,
        provenance: { old: { source: 'https://github.com/x/y', revision: 'a' }, new: update.provenance?.new },
      }),
    ).toBeUndefined();
    expect(sourceCompareLink({ ...update, provenance: { new: update.provenance?.new } })).toBeUndefined();
  });
});

describe('semverLevel', () => {
  it.each([
    ['1.4.2', '2.0.0', 'major'],
    ['1.4.2', '1.5.0', 'minor'],
    ['v1.4.2', 'v1.4.3', 'patch'],
    ['1.4.2-rc.1', '1.4.2', 'patch'],
    ['1.4', '1.5', undefined],
    ['1.4.2.7', '1.4.3', undefined],
    ['main-abc', 'main-def', undefined],
    [undefined, '1.0.0', undefined],
  ])('%s → %s is %s', (a, b, level) => {
    expect(semverLevel(a, b)).toBe(level);
  });
});
