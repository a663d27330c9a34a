/**
 * Every publishing decision, as a pure function of plain values: no git, no GitHub double.
 */
import { describe, expect, it } from 'vitest';
import type { PullRequestFacts } from '../../../src/core/domain/types.js';
import {
  metadataFor,
  type PrMetadata,
  prBody,
  prTitle,
  withMetadata,
} from '../../../src/core/plan/messages.js';
import {
  type BranchFacts,
  FROZEN_COMMENT,
  formatMootComment,
  type PolicyOutcome,
  type PublishFacts,
  type PublishSettings,
  type PullSummary,
  planPublish,
  publishSettingsFor,
  type ReconcilePlan,
  skippedTagsFrom,
  summarizePulls,
  wantsAutoMerge,
} from '../../../src/core/plan/publish-plan.js';
import type { PolicyUpdate, UpdateGroup } from '../../../src/core/plan/update.js';

const BASE = 'b'.repeat(40);
const HEAD = 'h'.repeat(40);

const update = (name: string, oldTag: string, newTag: string): PolicyUpdate => ({
  key: `flux-system:${name}`,
  namespace: 'flux-system',
  name,
  image: `ghcr.io/acme/${name}`,
  oldTag,
  newTag,
  changes: [],
});
const group = (name: string, oldTag = '1.0.0', newTag = '1.1.0'): UpdateGroup => ({
  kind: 'per-policy',
  branch: `tidemark/flux-system-${name}`,
  updates: [update(name, oldTag, newTag)],
  files: [{ file: `${name}.yaml`, oldText: `tag: ${oldTag}\n`, newText: `tag: ${newTag}\n`, changes: [] }],
});
const runPlan = (groups: UpdateGroup[], perPolicy: Record<string, PolicyOutcome> = {}): ReconcilePlan => ({
  perPolicy: {
    ...Object.fromEntries(
      groups.flatMap((g) => g.updates.map((u) => [u.key, { status: 'selected', tag: u.newTag } as const])),
    ),
    ...perPolicy,
  },
  updates: groups.flatMap((g) => g.updates),
  groups,
  changes: groups.flatMap((g) => g.files),
  warnings: [],
  registryErrors: [],
});
const settings = (o: Partial<PublishSettings> = {}): PublishSettings => ({
  strategy: 'pull-request',
  targetBranch: 'main',
  labels: ['dependencies'],
  autoMerge: {},
  ...o,
});
let nextPr = 10;
const pull = (g: UpdateGroup, o: Partial<PullSummary> & { meta?: PrMetadata } = {}): PullSummary => ({
  number: nextPr++,
  nodeId: 'PR_x',
  state: 'open',
  merged: false,
  headRef: g.branch,
  headSha: HEAD,
  baseRef: 'main',
  author: 'tidemark[bot]',
  fromFork: false,
  title: prTitle(g),
  body: withMetadata(prBody(g), o.meta ?? metadataFor(g)),
  htmlUrl: 'https://github.com/acme/config/pull/1',
  labels: ['dependencies'],
  meta: metadataFor(g),
  ...o,
});
const facts = (
  o: {
    pulls?: PullSummary[];
    branches?: Record<string, BranchFacts>;
    mergedHeads?: Record<string, string>;
  } = {},
): PublishFacts => ({
  baseSha: BASE,
  pulls: o.pulls ?? [],
  branches: o.branches ?? {},
  mergedHeads: o.mergedHeads ?? {},
});
const kinds = (p: { actions: readonly { kind: string }[] }) => p.actions.map((a) => a.kind);

describe('planPublish: push mode', () => {
  it('one commit of every change on the target branch, on the base it read', () => {
    const g = group('web');
    const p = planPublish(runPlan([g]), settings({ strategy: 'push', targetBranch: 'prod' }), facts());
    expect(p.actions).toEqual([
      {
        kind: 'commit',
        branch: 'prod',
        parent: BASE,
        group: { kind: 'all', branch: 'prod', updates: g.updates, files: g.files },
      },
    ]);
    expect(p.groups).toEqual([{ branch: 'prod', action: 'pushed' }]);
  });
  it('nothing changed: nothing to do', () => {
    expect(planPublish(runPlan([]), settings({ strategy: 'push' }), facts())).toEqual({
      groups: [],
      actions: [],
    });
  });
});

describe('planPublish: one group in pull-request mode', () => {
  const g = group('web');
  it.each<[string, BranchFacts | undefined, PullSummary | undefined, string[], string]>([
    [
      'no branch, no PR → create branch, commit, open',
      undefined,
      undefined,
      ['reset-branch', 'commit', 'open-pr'],
      'opened',
    ],
    [
      'branch holds the change, PR current → nothing',
      { head: HEAD, foreign: [], holds: true },
      pull(g),
      [],
      'unchanged',
    ],
    [
      'branch holds the change, PR title stale → update the PR only',
      { head: HEAD, foreign: [], holds: true },
      pull(g, { title: 'old title' }),
      ['update-pr'],
      'updated',
    ],
    [
      'branch behind (does not hold) → reset to base and commit, PR kept',
      { head: HEAD, foreign: [], holds: false },
      pull(g),
      ['reset-branch', 'commit'],
      'updated',
    ],
    [
      'branch exists without a PR → reset, commit, open',
      { head: HEAD, foreign: [], holds: false },
      undefined,
      ['reset-branch', 'commit', 'open-pr'],
      'opened',
    ],
    [
      'branch holds the change but no PR (closed by hand) → open without a commit',
      { head: HEAD, foreign: [], holds: true },
      undefined,
      ['open-pr'],
      'opened',
    ],
  ])('%s', (_name, branch, open, expectedKinds, action) => {
    const p = planPublish(
      runPlan([g]),
      settings(),
      facts({ pulls: open ? [open] : [], ...(branch && { branches: { [g.branch]: branch } }) }),
    );
    expect(kinds(p)).toEqual(expectedKinds);
    expect(p.groups[0]?.action).toBe(action);
  });

  it('resets with the head it saw (compare-and-swap), or creates when there was none', () => {
    const created = planPublish(runPlan([g]), settings(), facts());
    expect(created.actions[0]).toEqual({ kind: 'reset-branch', branch: g.branch, to: BASE });
    const reset = planPublish(
      runPlan([g]),
      settings(),
      facts({ branches: { [g.branch]: { head: HEAD, foreign: [], holds: false } } }),
    );
    expect(reset.actions[0]).toEqual({ kind: 'reset-branch', branch: g.branch, to: BASE, expected: HEAD });
  });

  it('opens with the configured base, labels, title and body', () => {
    const p = planPublish(runPlan([g]), settings({ targetBranch: 'develop', labels: ['a', 'b'] }), facts());
    expect(p.actions[2]).toEqual({
      kind: 'open-pr',
      branch: g.branch,
      base: 'develop',
      title: prTitle(g),
      body: prBody(g),
      labels: ['a', 'b'],
      autoMerge: false,
    });
  });
});

describe('planPublish: a branch with commits tidemark did not make is frozen', () => {
  const g = group('web');
  const foreign: BranchFacts = { head: HEAD, foreign: ['f'.repeat(40)], holds: false };
  it('first time: one comment and the PR marked frozen; no commit, no reset', () => {
    const open = pull(g);
    const p = planPublish(
      runPlan([g]),
      settings(),
      facts({ pulls: [open], branches: { [g.branch]: foreign } }),
    );
    expect(p.actions).toEqual([
      { kind: 'comment', pr: open.number, body: FROZEN_COMMENT(foreign.foreign) },
      {
        kind: 'update-pr',
        pr: open.number,
        branch: g.branch,
        body: withMetadata(open.body, { ...metadataFor(g), frozen: true }),
      },
    ]);
    expect(p.groups).toEqual([
      { branch: g.branch, action: 'frozen', pr: open.number, foreign: foreign.foreign },
    ]);
    expect(FROZEN_COMMENT(foreign.foreign)).toContain('(fffffff)');
  });
  it('already frozen: nothing at all (never a second comment)', () => {
    const open = pull(g, { meta: { ...metadataFor(g), frozen: true } });
    const p = planPublish(
      runPlan([g]),
      settings(),
      facts({ pulls: [open], branches: { [g.branch]: foreign } }),
    );
    expect(p.actions).toEqual([]);
    expect(p.groups[0]?.action).toBe('frozen');
  });
  it('no open PR: nothing, and the branch is left as it is', () => {
    const p = planPublish(runPlan([g]), settings(), facts({ branches: { [g.branch]: foreign } }));
    expect(p.actions).toEqual([]);
    expect(p.groups).toEqual([{ branch: g.branch, action: 'frozen', foreign: foreign.foreign }]);
  });
});

describe('planPublish: auto-merge by semver level', () => {
  it.each<[string, string, PublishSettings['autoMerge'], boolean]>([
    ['1.0.0', '1.0.1', { patch: true }, true],
    ['1.0.0', '1.1.0', { patch: true }, false],
    ['1.0.0', '1.1.0', { minor: true, patch: true }, true],
    ['1.0.0', '2.0.0', { minor: true, patch: true }, false],
    ['1.0.0', '2.0.0', { major: true }, true],
    ['build-1', 'build-2', { major: true, minor: true, patch: true }, false],
  ])('%s → %s with %j: %s', (from, to, autoMerge, expected) => {
    const g = group('web', from, to);
    expect(wantsAutoMerge(g, autoMerge)).toBe(expected);
    const p = planPublish(runPlan([g]), settings({ autoMerge }), facts());
    expect(p.actions.find((a) => a.kind === 'open-pr')).toMatchObject({ autoMerge: expected });
  });
});

describe("planPublish: a policy's own autoMerge", () => {
  it('overrides the levels for its bumps: true merges a major, false never merges a patch', () => {
    const major = group('web', '1.0.0', '2.0.0');
    const yes: UpdateGroup = { ...major, updates: major.updates.map((u) => ({ ...u, autoMerge: true })) };
    expect(wantsAutoMerge(yes, {})).toBe(true);
    const patch = group('api', '1.0.0', '1.0.1');
    const no: UpdateGroup = { ...patch, updates: patch.updates.map((u) => ({ ...u, autoMerge: false })) };
    expect(wantsAutoMerge(no, { patch: true })).toBe(false);
  });
});

describe('planPublish: converging after a crash', () => {
  it('an open PR with none of its labels (killed between opening and labelling) gets them; one a person relabelled does not', () => {
    const g = group('web');
    const bare = pull(g, { labels: [] });
    expect(planPublish(runPlan([g]), settings(), facts({ pulls: [bare] })).actions).toContainEqual({
      kind: 'label-pr',
      pr: bare.number,
      labels: ['dependencies'],
    });
    const relabelled = pull(g, { labels: ['dependencies', 'needs-review'] });
    expect(kinds(planPublish(runPlan([g]), settings(), facts({ pulls: [relabelled] })))).not.toContain(
      'label-pr',
    );
  });

  describe('auto-merge (killed between opening the PR and arming it)', () => {
    const g = group('web', '1.0.0', '1.1.0'); // a minor bump
    const minor = settings({ autoMerge: { minor: true } });
    const holds = { [g.branch]: { head: HEAD, foreign: [], holds: true } };
    const plan = (s: PublishSettings, open: PullSummary) =>
      planPublish(runPlan([g]), s, facts({ pulls: [open], branches: holds }));

    it('armed on GitHub: nothing to do', () => {
      const p = plan(minor, pull(g, { nodeId: 'PR_armed', autoMerge: true }));
      expect(p.actions).toEqual([]);
      expect(p.groups[0]?.action).toBe('unchanged');
    });
    it('wanted and not armed: armed, on the open PR (by its node id), and nothing else', () => {
      const open = pull(g, { nodeId: 'PR_bare', autoMerge: false });
      const p = plan(minor, open);
      expect(p.actions).toEqual([{ kind: 'enable-auto-merge', pr: open.number, nodeId: 'PR_bare' }]);
      expect(p.groups[0]?.action).toBe('unchanged');
    });
    it('after the labels, once, when the PR also lost its labels and its title', () => {
      const open = pull(g, { autoMerge: false, labels: [], title: 'old title' });
      expect(kinds(plan(minor, open))).toEqual(['update-pr', 'label-pr', 'enable-auto-merge']);
    });
    it.each<[string, PublishSettings, Partial<PullSummary>]>([
      ['the level is not one the config auto-merges', settings({ autoMerge: { patch: true } }), {}],
      ['no autoMerge configured', settings(), {}],
      ['PRs are opened as drafts (draft wins)', settings({ autoMerge: { minor: true }, draft: true }), {}],
      ['the open PR is a draft', minor, { draft: true }],
    ])('not wanted — %s: no action', (_name, s, o) => {
      expect(plan(s, pull(g, { autoMerge: false, ...o })).actions).toEqual([]);
    });
    it("a policy's own autoMerge: false is not re-armed; true is, whatever the level", () => {
      const off: UpdateGroup = { ...g, updates: g.updates.map((u) => ({ ...u, autoMerge: false })) };
      const on: UpdateGroup = { ...g, updates: g.updates.map((u) => ({ ...u, autoMerge: true })) };
      const run = (grp: UpdateGroup) =>
        kinds(
          planPublish(
            runPlan([grp]),
            minor,
            facts({ pulls: [pull(grp, { autoMerge: false })], branches: holds }),
          ),
        );
      expect(run(off)).toEqual([]);
      expect(run(on)).toEqual(['enable-auto-merge']);
    });
    it('unknown (the PR facts do not say): never armed on a guess', () => {
      const { autoMerge: _, ...unknown } = pull(g, { autoMerge: false });
      expect(plan(minor, unknown).actions).toEqual([]);
    });
    it('armed, and its minor bump becomes a major: disarmed before the new commit lands', () => {
      const major = group('web', '1.0.0', '2.0.0');
      const armed = pull(g, { nodeId: 'PR_armed', autoMerge: true });
      const moved = { [major.branch]: { head: HEAD, foreign: [], holds: false } };
      const p = planPublish(runPlan([major]), minor, facts({ pulls: [armed], branches: moved }));
      expect(kinds(p)).toEqual(['disable-auto-merge', 'reset-branch', 'commit', 'update-pr']);
      expect(p.actions[0]).toEqual({ kind: 'disable-auto-merge', pr: armed.number, nodeId: 'PR_armed' });
    });
    it('armed by a person for content that has not changed since: left armed', () => {
      const major = group('web', '1.0.0', '2.0.0');
      const armed = pull(major, { autoMerge: true });
      const same = { [major.branch]: { head: HEAD, foreign: [], holds: true } };
      expect(planPublish(runPlan([major]), minor, facts({ pulls: [armed], branches: same })).actions).toEqual(
        [],
      );
    });
    it('armed, new content that may still auto-merge: stays armed', () => {
      const patch = group('web', '1.1.0', '1.1.1');
      const armed = pull(g, { autoMerge: true });
      const moved = { [patch.branch]: { head: HEAD, foreign: [], holds: false } };
      const both = settings({ autoMerge: { minor: true, patch: true } });
      expect(
        kinds(planPublish(runPlan([patch]), both, facts({ pulls: [armed], branches: moved }))),
      ).not.toContain('disable-auto-merge');
    });
    it('a gate now holds its policy (a freeze began): an armed PR this run does not carry is disarmed', () => {
      const key = g.updates[0]!.key;
      const frozen = runPlan([], {
        [key]: { status: 'waiting', tag: '1.0.0', reason: 'frozen until 2026-12-27' },
      });
      const armed = pull(g, { nodeId: 'PR_frozen', autoMerge: true });
      expect(planPublish(frozen, minor, facts({ pulls: [armed] })).actions).toEqual([
        { kind: 'disable-auto-merge', pr: armed.number, nodeId: 'PR_frozen' },
      ]);
      // Not armed, held by a person, or its policy not held by a gate: nothing.
      expect(planPublish(frozen, minor, facts({ pulls: [pull(g, { autoMerge: false })] })).actions).toEqual(
        [],
      );
      const held = pull(g, {
        autoMerge: true,
        meta: { ...metadataFor(g), hold: { by: 'octocat', at: '2026-01-01T00:00:00Z' } },
      });
      expect(planPublish(frozen, minor, facts({ pulls: [held] })).actions).toEqual([]);
      const unknown = runPlan([], {});
      expect(kinds(planPublish(unknown, minor, facts({ pulls: [armed] })))).not.toContain(
        'disable-auto-merge',
      );
    });
    it('a held PR is left as it is, armed or not', () => {
      const held = pull(g, {
        autoMerge: false,
        meta: { ...metadataFor(g), hold: { by: 'octocat', at: '2026-01-01T00:00:00Z' } },
      });
      expect(plan(minor, held).actions).toEqual([]);
    });
  });
});

describe('planPublish: PR limits', () => {
  const NOW = Date.parse('2026-12-04T12:00:00Z');
  it('prConcurrentLimit: new PRs past the limit wait (no branch, no PR); updates of open ones go on', () => {
    const a = group('a');
    const b = group('b');
    const c = group('c');
    const openA = pull(a, { title: 'stale title' });
    const p = planPublish(runPlan([a, b, c]), settings({ prConcurrentLimit: 2 }), {
      ...facts({ pulls: [openA] }),
      now: NOW,
    });
    expect(p.groups.map((g) => g.action)).toEqual(['updated', 'opened', 'limited']);
    expect(p.groups[2]).toMatchObject({ reason: '2 tidemark PRs are open (prConcurrentLimit 2)' });
    expect(p.actions.filter((x) => 'branch' in x && x.branch === c.branch)).toEqual([]);
  });

  it('prHourlyLimit counts PRs opened in the last hour, not older ones', () => {
    const [a, b, c] = [group('a'), group('b'), group('c')];
    const recent = pull(group('x'), {
      state: 'closed',
      createdAt: new Date(NOW - 10 * 60_000).toISOString(),
    });
    const old = pull(group('y'), { state: 'closed', createdAt: new Date(NOW - 2 * 3_600_000).toISOString() });
    const p = planPublish(runPlan([a, b, c]), settings({ prHourlyLimit: 2 }), {
      ...facts({ pulls: [recent, old] }),
      now: NOW,
    });
    expect(p.groups.map((g) => g.action)).toEqual(['opened', 'limited', 'limited']);
    expect(p.groups[1]).toMatchObject({
      reason: '2 tidemark PRs were opened in the last hour (prHourlyLimit 2)',
    });
  });
});

describe('planPublish: open tidemark PRs no group carries', () => {
  it('moot when the policy is already at its selection on the base branch: closed with a reason', () => {
    const old = group('web');
    const open = pull(old);
    const p = planPublish(
      runPlan([], { 'flux-system:web': { status: 'selected', tag: '1.1.0' } }),
      settings(),
      facts({ pulls: [open] }),
    );
    expect(p.actions).toEqual([
      {
        kind: 'close-pr',
        pr: open.number,
        branch: old.branch,
        headSha: HEAD,
        reasons: [{ key: 'flux-system:web', alreadyAt: '1.1.0' }],
        body: withMetadata(open.body, { ...metadataFor(old), closedByTidemark: true }),
      },
    ]);
    expect(formatMootComment([{ key: 'flux-system:web', alreadyAt: '1.1.0' }], new Map())).toBe(
      'tidemark closed this pull request: flux-system:web is already at 1.1.0 on the base branch',
    );
  });
  it('superseded by a group on another branch (group: all): closed, naming the new PR once it is opened', () => {
    const old = group('web');
    const open = pull(old);
    const all: UpdateGroup = { ...group('web', '1.0.0', '1.2.0'), kind: 'all', branch: 'tidemark/all' };
    const p = planPublish(runPlan([all]), settings(), facts({ pulls: [open] }));
    expect(kinds(p)).toEqual(['reset-branch', 'commit', 'open-pr', 'close-pr']);
    const close = p.actions.at(-1)!;
    expect(close).toMatchObject({ reasons: [{ key: 'flux-system:web', carrier: 'tidemark/all' }] });
    if (close.kind !== 'close-pr') throw new Error('expected close-pr');
    expect(formatMootComment(close.reasons, new Map([['tidemark/all', 42]]))).toBe(
      'tidemark closed this pull request: flux-system:web is now updated in #42',
    );
    expect(formatMootComment(close.reasons, new Map())).toContain('is now updated on tidemark/all');
  });
  it.each<[string, Partial<PullSummary>, Record<string, PolicyOutcome>]>([
    [
      'frozen',
      { meta: { ...metadataFor(group('web')), frozen: true } },
      { 'flux-system:web': { status: 'selected', tag: '1.1.0' } },
    ],
    ['policy state unknown this run', {}, {}],
    [
      'policy could not be read (registry error)',
      {},
      { 'flux-system:web': { status: 'registry-error', reason: 'down' } },
    ],
    ['closed already', { state: 'closed' }, { 'flux-system:web': { status: 'selected', tag: '1.1.0' } }],
  ])('left alone when %s', (_name, o, perPolicy) => {
    const p = planPublish(runPlan([], perPolicy), settings(), facts({ pulls: [pull(group('web'), o)] }));
    expect(p.actions).toEqual([]);
  });
});

describe('planPublish: merged PR branches', () => {
  const g = group('web');
  it('deleted only while still at the merged head', () => {
    const merged = pull(g, { state: 'closed', merged: true });
    expect(
      planPublish(runPlan([]), settings(), facts({ pulls: [merged], mergedHeads: { [g.branch]: HEAD } }))
        .actions,
    ).toEqual([{ kind: 'delete-branch', branch: g.branch, expected: HEAD, pr: merged.number }]);
    expect(
      planPublish(
        runPlan([]),
        settings(),
        facts({ pulls: [merged], mergedHeads: { [g.branch]: 'x'.repeat(40) } }),
      ).actions,
    ).toEqual([]);
    expect(planPublish(runPlan([]), settings(), facts({ pulls: [merged] })).actions).toEqual([]);
  });
  it('kept when a current group reuses the branch', () => {
    const merged = pull(g, { state: 'closed', merged: true });
    const next = group('web', '1.1.0', '1.2.0');
    const p = planPublish(
      runPlan([next]),
      settings(),
      facts({ pulls: [merged], mergedHeads: { [g.branch]: HEAD } }),
    );
    expect(kinds(p)).toEqual(['reset-branch', 'commit', 'open-pr']);
  });
});

describe('skippedTagsFrom: versions a person declined', () => {
  const g = group('web');
  it.each<[string, Partial<PullSummary>, string[]]>([
    ['closed unmerged by a person → declined', { state: 'closed' }, ['1.1.0']],
    ['merged → not declined', { state: 'closed', merged: true }, []],
    ['open → not declined', {}, []],
    [
      'closed by tidemark (moot) → not declined',
      { state: 'closed', meta: { ...metadataFor(g), closedByTidemark: true } },
      [],
    ],
  ])('%s', (_name, o, tags) => {
    const skipped = skippedTagsFrom([pull(g, o)]);
    expect([...(skipped.get('flux-system:web') ?? [])]).toEqual(tags);
  });
});

describe('publishSettingsFor: a repo’s update settings for the plan', () => {
  const update = {
    strategy: 'pull-request' as const,
    path: '.',
    scanExtensions: ['.yaml'],
    group: 'per-policy' as const,
    labels: ['deps'],
    autoMerge: { patch: true },
  };
  it.each<[string, Parameters<typeof publishSettingsFor>[0], string]>([
    ['PR mode targets the default branch', update, 'main'],
    ['PR mode ignores update.branch', { ...update, branch: 'prod' }, 'main'],
    ['push mode commits to update.branch', { ...update, strategy: 'push', branch: 'prod' }, 'prod'],
    [
      'push mode without update.branch commits to the default branch',
      { ...update, strategy: 'push' },
      'main',
    ],
  ])('%s', (_name, u, target) => {
    expect(publishSettingsFor(u, 'main')).toEqual({
      strategy: u.strategy,
      targetBranch: target,
      labels: ['deps'],
      autoMerge: { patch: true },
    });
  });
  it('carries the commit template', () => {
    expect(publishSettingsFor({ ...update, commitMessage: 'bump {image}' }, 'main').commitTemplate).toBe(
      'bump {image}',
    );
  });
});

describe('summarizePulls: only the App’s own PRs from its own repository count', () => {
  const facts = (o: Partial<PullRequestFacts>): PullRequestFacts => ({
    number: 1,
    nodeId: 'PR_1',
    state: 'closed',
    merged: false,
    headRef: 'tidemark/flux-system-web',
    headSha: HEAD,
    baseRef: 'main',
    title: 't',
    body: '<!-- tidemark: {"v":1,"branch":"tidemark/flux-system-web","policies":[{"key":"flux-system:web","tag":"1.1.0"}]} -->',
    htmlUrl: 'https://example.invalid/pr/1',
    labels: [],
    author: 'tidemark[bot]',
    fromFork: false,
    ...o,
  });
  it.each([
    ['the App, same repository, tidemark/ branch', {}, 1],
    ['a person', { author: 'mallory' }, 0],
    ['another bot', { author: 'renovate[bot]' }, 0],
    ['a fork', { fromFork: true }, 0],
    // An automation's push.branch or a custom group branch: still the App's PR.
    ['the App on an automation branch', { headRef: 'flux/image-updates' }, 1],
    ['a person on a tidemark/ branch', { author: 'mallory', headRef: 'tidemark/flux-system-web' }, 0],
  ] as const)('%s → %i', (_name, o, n) => {
    const pulls = summarizePulls([facts(o)], 'tidemark[bot]');
    expect(pulls).toHaveLength(n);
    expect(skippedTagsFrom(pulls).get('flux-system:web')?.has('1.1.0') ?? false).toBe(n === 1);
  });
});

describe('PR metadata from the config', () => {
  it('labels per level only when every bump is of that level; a draft is never auto-merged', () => {
    const s = settings({
      labels: ['deps'],
      labelsByLevel: { major: ['breaking'], minor: ['minor-bump'] },
      autoMerge: { minor: true },
      reviewers: ['alice'],
      teamReviewers: ['platform'],
      assignees: ['bob'],
    });
    const open = (g: UpdateGroup, o: Partial<PublishSettings> = {}) =>
      planPublish(runPlan([g]), { ...s, ...o }, facts()).actions.find((a) => a.kind === 'open-pr') as Extract<
        ReturnType<typeof planPublish>['actions'][number],
        { kind: 'open-pr' }
      >;
    const minor = open(group('web', '1.0.0', '1.1.0'));
    expect(minor).toMatchObject({
      labels: ['deps', 'minor-bump'],
      autoMerge: true,
      reviewers: ['alice'],
      teamReviewers: ['platform'],
      assignees: ['bob'],
    });
    expect(open(group('web', '1.0.0', '2.0.0')).labels).toEqual(['deps', 'breaking']);
    expect(open(group('web', 'x', 'y')).labels).toEqual(['deps']);
    const draft = open(group('web', '1.0.0', '1.1.0'), { draft: true });
    expect(draft).toMatchObject({ draft: true, autoMerge: false });
  });
});
