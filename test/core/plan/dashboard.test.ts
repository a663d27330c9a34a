import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_TITLE,
  dashboardBody,
  dashboardSection,
  dashboardStep,
  isDashboard,
  parseBoxId,
  tickedBoxes,
} from '../../../src/core/plan/dashboard.js';
import { metadataFor, prBody, withMetadata } from '../../../src/core/plan/messages.js';
import type { PullSummary } from '../../../src/core/plan/publish-plan.js';
import type { UpdateGroup } from '../../../src/core/plan/update.js';

const NOW = '2026-12-03T10:00:00.000Z';
const g: UpdateGroup = {
  kind: 'per-policy',
  branch: 'tidemark/flux-system-web',
  updates: [
    {
      key: 'flux-system:web',
      namespace: 'flux-system',
      name: 'web',
      image: 'r/web',
      newTag: '1.2.0',
      changes: [],
    },
  ],
  files: [],
};
const pr = (number: number, o: Partial<PullSummary>, extra = {}): PullSummary => {
  const meta = { ...metadataFor(g), ...extra };
  return {
    number,
    nodeId: 'x',
    state: 'open',
    merged: false,
    headRef: g.branch,
    headSha: 'h',
    baseRef: 'main',
    author: 'tidemark[bot]',
    fromFork: false,
    title: 't',
    body: withMetadata(prBody(g), meta),
    htmlUrl: 'u',
    labels: [],
    meta,
    ...o,
  };
};

describe('dashboard (pure)', () => {
  const input = {
    policies: [{ key: 'flux-system:web', image: 'r/web' }],
    configErrors: [],
    warnings: [],
    strategy: 'pull-request' as const,
    pulls: [
      pr(12, {}, { hold: { by: 'alice', at: NOW } }),
      pr(9, { state: 'closed' }, { ignore: { scope: 'minor', by: 'max', at: NOW } }),
      pr(5, { state: 'closed' }),
      pr(4, { state: 'closed', merged: true }),
    ],
  };
  const section = dashboardSection(input);

  it('held PRs and ignored versions get a box each, with who and when; merged PRs are not listed', () => {
    expect(section).toContain(
      '- [ ] <!-- tidemark-box: unhold:12 --> #12 (flux-system:web) held by `@alice` on 2026-12-03 — tick to lift the hold',
    );
    expect(section).toContain(
      '<!-- tidemark-box: unignore:9 --> flux-system:web `1.2.0`: this minor ignored by `@max`',
    );
    expect(section).toContain(
      '<!-- tidemark-box: unignore:5 --> flux-system:web `1.2.0`: #5 was closed without merging',
    );
    expect(section).not.toContain('#4');
  });

  it('reads back only boxes ticked in the edit, inside tidemark’s part', () => {
    const body = dashboardBody(section);
    const edited = body
      .replace('- [ ] <!-- tidemark-box: unhold:12 -->', '- [x] <!-- tidemark-box: unhold:12 -->')
      .concat('\n- [x] <!-- tidemark-box: unignore:5 --> outside tidemark’s part');
    expect(tickedBoxes(body, edited)).toEqual([{ kind: 'unhold', pr: 12 }]);
    expect(tickedBoxes(edited, edited)).toEqual([]);
  });

  it('keeps what people wrote around tidemark’s part; no change, no update', () => {
    const body = `Notes from the team\n\n${dashboardBody(section)}\n\nfooter`;
    expect(dashboardStep(section, { number: 3, body })).toEqual({ kind: 'none' });
    const next = dashboardSection({ ...input, pulls: [] });
    const step = dashboardStep(next, { number: 3, body });
    expect(step.kind).toBe('update');
    const updated = (step as { body: string }).body;
    expect(updated.startsWith('Notes from the team\n\n')).toBe(true);
    expect(updated.endsWith('\n\nfooter')).toBe(true);
    expect(updated).not.toContain('unhold:12');
    expect(dashboardStep(next, undefined)).toMatchObject({ kind: 'create', title: DASHBOARD_TITLE });
  });

  it('is recognised by title and markers; box ids are checked', () => {
    expect(isDashboard(DASHBOARD_TITLE, dashboardBody(section))).toBe(true);
    expect(isDashboard(DASHBOARD_TITLE, 'someone else’s issue with this title')).toBe(false);
    expect(parseBoxId('unhold:12')).toEqual({ kind: 'unhold', pr: 12 });
    expect(parseBoxId('retry')).toEqual({ kind: 'retry' });
    for (const bad of ['unhold:0', 'unhold:x', 'delete:3', 'unhold:12345678901'])
      expect(parseBoxId(bad)).toBeUndefined();
  });
});
