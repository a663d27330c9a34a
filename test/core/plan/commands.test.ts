/** `/tidemark …` commands, decided purely: who may steer, what each command changes, what is answered. */
import { describe, expect, it } from 'vitest';
import {
  commandLine,
  ignoredBy,
  ignoreRulesFrom,
  parsePrCommand,
  planCommands,
} from '../../../src/core/plan/commands.js';
import {
  metadataFor,
  type PrMetadata,
  parsePrMetadata,
  prBody,
  withMetadata,
} from '../../../src/core/plan/messages.js';
import {
  type PublishFacts,
  type PullSummary,
  planPublish,
  type ReconcilePlan,
} from '../../../src/core/plan/publish-plan.js';
import type { UpdateGroup } from '../../../src/core/plan/update.js';

const NOW = '2026-12-03T10:00:00.000Z';
const group = (tag = '1.4.2'): UpdateGroup => ({
  kind: 'per-policy',
  branch: 'tidemark/flux-system-web',
  updates: [
    {
      key: 'flux-system:web',
      namespace: 'flux-system',
      name: 'web',
      image: 'ghcr.io/acme/web',
      oldTag: '1.3.0',
      newTag: tag,
      changes: [],
    },
  ],
  files: [{ file: 'web.yaml', oldText: 'tag: 1.3.0\n', newText: `tag: ${tag}\n`, changes: [] }],
});
const pull = (o: Partial<PullSummary> = {}, meta: PrMetadata = metadataFor(group())): PullSummary => ({
  number: 7,
  nodeId: 'PR_7',
  state: 'open',
  merged: false,
  headRef: 'tidemark/flux-system-web',
  headSha: 'h'.repeat(40),
  baseRef: 'main',
  author: 'tidemark[bot]',
  fromFork: false,
  title: 't',
  body: withMetadata(prBody(group()), meta),
  htmlUrl: 'u',
  labels: [],
  meta,
  ...o,
});
const req = (text: string, user = 'alice', commentId = 1, pr = 7) => ({ pr, commentId, user, text });
const WRITERS = { alice: 'write', max: 'maintain', ada: 'admin', rita: 'read', tom: 'triage' } as const;

describe('reading a comment', () => {
  it.each([
    ['/tidemark hold', 'hold'],
    ['Thanks!\r\n/tidemark   Ignore  This Minor  \nmore', 'ignore this minor'],
    ['/tidemark', ''],
    ['please /tidemark hold', undefined],
    ['/tidemarkhold', undefined],
    ['no command here', undefined],
  ])('%j → %j', (body, expected) => {
    expect(commandLine(body)).toBe(expected);
  });
  it('only the first 50 lines, and at most 100 characters of the line', () => {
    expect(commandLine(`${'x\n'.repeat(50)}/tidemark hold`)).toBeUndefined();
    expect(commandLine(`/tidemark ${'a'.repeat(500)}`)).toHaveLength(100);
  });
  it('unknown commands carry a suggestion when one is close', () => {
    expect(parsePrCommand('hodl')).toEqual({ kind: 'unknown', text: 'hodl', suggestion: 'hold' });
    expect(parsePrCommand('make coffee')).toEqual({ kind: 'unknown', text: 'make coffee' });
    expect(parsePrCommand('rebase')).toEqual({ kind: 'command', name: 'rebase' });
  });
});

describe('planCommands', () => {
  it('only write, maintain and admin may steer; others get 👎 and nothing changes', () => {
    for (const user of ['rita', 'tom', 'stranger']) {
      const p = planCommands([req('hold', user)], [pull()], WRITERS, NOW);
      expect(p.actions).toEqual([{ kind: 'react', commentId: 1, content: '-1' }]);
      expect(p.pulls[0]!.meta?.hold).toBeUndefined();
    }
    for (const user of ['alice', 'max', 'ada']) {
      const p = planCommands([req('hold', user)], [pull()], WRITERS, NOW);
      expect(p.pulls[0]!.meta?.hold).toEqual({ by: user, at: NOW });
    }
  });

  it('a PR that is not tidemark’s (no metadata, or not among its PRs) is ignored without a word', () => {
    expect(planCommands([req('hold')], [pull({ meta: undefined })], WRITERS, NOW).actions).toEqual([]);
    expect(planCommands([req('hold', 'alice', 1, 99)], [pull()], WRITERS, NOW).actions).toEqual([]);
  });

  it('hold writes who and when into the metadata, replies once; a second hold changes nothing', () => {
    const p = planCommands([req('hold')], [pull()], WRITERS, NOW);
    expect(p.actions.map((a) => a.kind)).toEqual(['update-pr', 'react', 'reply']);
    const body = (p.actions[0] as { body: string }).body;
    expect(parsePrMetadata(body)?.hold).toEqual({ by: 'alice', at: NOW });
    const again = planCommands([req('hold', 'ada', 2)], p.pulls, WRITERS, NOW);
    expect(again.actions).toEqual([{ kind: 'react', commentId: 2, content: '+1' }]);
  });

  it('unhold removes the hold', () => {
    const held = pull({}, { ...metadataFor(group()), hold: { by: 'max', at: NOW } });
    const p = planCommands([req('unhold')], [held], WRITERS, NOW);
    expect(p.pulls[0]!.meta?.hold).toBeUndefined();
    expect(parsePrMetadata((p.actions[0] as { body: string }).body)?.hold).toBeUndefined();
  });

  it.each([
    ['ignore this version', '1.4.2 of flux-system:web'],
    ['ignore this minor', '1.4.x of flux-system:web'],
    ['ignore this major', '1.x of flux-system:web'],
  ])('%s closes the PR, deletes its branch and records the scope', (text, said) => {
    const p = planCommands([req(text)], [pull()], WRITERS, NOW);
    expect(p.actions[0]).toMatchObject({
      kind: 'close-pr',
      pr: 7,
      deleteBranch: { branch: 'tidemark/flux-system-web', headSha: 'h'.repeat(40) },
    });
    expect(p.pulls[0]!.state).toBe('closed');
    expect(p.pulls[0]!.meta?.ignore).toEqual({ scope: text.split(' ')[2], by: 'alice', at: NOW });
    expect((p.actions.at(-1) as { body: string }).body).toContain(`Ignoring ${said}`);
  });

  it('rebase marks the branch for rebuilding and unfreezes it; recreate closes the PR as tidemark', () => {
    const frozen = pull({}, { ...metadataFor(group()), frozen: true });
    const r = planCommands([req('rebase')], [frozen], WRITERS, NOW);
    expect(r.rebase).toEqual(['tidemark/flux-system-web']);
    expect(r.pulls[0]!.meta?.frozen).toBeUndefined();
    const c = planCommands([req('recreate')], [pull()], WRITERS, NOW);
    expect(c.rebase).toEqual(['tidemark/flux-system-web']);
    expect(c.pulls[0]).toMatchObject({ state: 'closed', meta: { closedByTidemark: true } });
    expect(c.actions[0]).toMatchObject({ kind: 'close-pr' });
    expect(c.actions[0]).not.toHaveProperty('deleteBranch');
  });

  it('unignore on a closed, declined PR: closed by tidemark from now on, so its version may come back', () => {
    const ignored = pull(
      { state: 'closed' },
      { ...metadataFor(group()), ignore: { scope: 'minor', by: 'max', at: NOW } },
    );
    const p = planCommands([{ pr: 7, user: 'alice', text: 'unignore' }], [ignored], WRITERS, NOW);
    expect(p.pulls[0]!.meta).toMatchObject({ closedByTidemark: true });
    expect(p.pulls[0]!.meta?.ignore).toBeUndefined();
    expect(ignoreRulesFrom(p.pulls).size).toBe(0);
    // From the dashboard (no comment): no reaction, a reply on the PR.
    expect(p.actions.map((a) => a.kind)).toEqual(['update-pr', 'reply']);
  });

  it('the same comment twice (a redelivery) is answered once', () => {
    const p = planCommands([req('hold'), req('hold')], [pull()], WRITERS, NOW);
    expect(p.actions.filter((a) => a.kind === 'react')).toHaveLength(1);
  });
});

describe('ignored version lines', () => {
  it('a closed PR with ignore minor/major skips every version of that line, nothing else', () => {
    const minor = pull(
      { state: 'closed', number: 3 },
      { ...metadataFor(group('1.4.2')), ignore: { scope: 'minor', by: 'alice', at: NOW } },
    );
    const rules = ignoreRulesFrom([minor]).get('flux-system:web');
    expect(ignoredBy(rules, '1.4.9')).toMatchObject({ scope: 'minor', by: 'alice', pr: 3 });
    expect(ignoredBy(rules, '1.5.0')).toBeUndefined();
    expect(ignoredBy(rules, '2.4.0')).toBeUndefined();
    const major = pull(
      { state: 'closed' },
      { ...metadataFor(group('1.4.2')), ignore: { scope: 'major', by: 'alice', at: NOW } },
    );
    const m = ignoreRulesFrom([major]).get('flux-system:web');
    expect(ignoredBy(m, '1.9.0')).toBeDefined();
    expect(ignoredBy(m, '2.0.0')).toBeUndefined();
  });
  it('an open or merged PR ignores nothing; reopening (open again) lifts the ignore', () => {
    const meta = { ...metadataFor(group()), ignore: { scope: 'major' as const, by: 'alice', at: NOW } };
    expect(ignoreRulesFrom([pull({ state: 'open' }, meta)]).size).toBe(0);
    expect(ignoreRulesFrom([pull({ state: 'closed', merged: true }, meta)]).size).toBe(0);
  });
  it('a forged holder name in the metadata is not read', () => {
    const body = `x\n\n<!-- tidemark: {"v":1,"branch":"b","policies":[],"hold":{"by":"<img src=x>","at":"now"}} -->`;
    expect(parsePrMetadata(body)?.hold).toBeUndefined();
  });
});

describe('planPublish honours holds and rebuilds', () => {
  const plan: ReconcilePlan = {
    perPolicy: { 'flux-system:web': { status: 'selected', tag: '1.5.0' } },
    updates: group('1.5.0').updates,
    groups: [group('1.5.0')],
    changes: group('1.5.0').files,
    warnings: [],
    registryErrors: [],
  };
  const settings = { strategy: 'pull-request' as const, targetBranch: 'main', labels: [], autoMerge: {} };
  const facts = (p: PullSummary, o: Partial<PublishFacts> = {}): PublishFacts => ({
    baseSha: 'b'.repeat(40),
    pulls: [p],
    branches: {
      'tidemark/flux-system-web': { head: 'h'.repeat(40), foreign: ['f'.repeat(40)], holds: false },
    },
    mergedHeads: {},
    ...o,
  });
  it('a held PR is left exactly as it is', () => {
    const held = pull({}, { ...metadataFor(group()), hold: { by: 'alice', at: NOW } });
    const p = planPublish(plan, settings, facts(held));
    expect(p.actions).toEqual([]);
    expect(p.groups).toEqual([
      { branch: 'tidemark/flux-system-web', action: 'held', pr: 7, by: 'alice', at: NOW },
    ]);
  });
  it('a branch to rebuild is reset and committed even with others’ commits on it', () => {
    const p = planPublish(plan, settings, facts(pull(), { rebase: ['tidemark/flux-system-web'] }));
    expect(p.actions.map((a) => a.kind)).toEqual(['reset-branch', 'commit', 'update-pr']);
    const frozen = planPublish(plan, settings, facts(pull()));
    expect(frozen.groups[0]!.action).toBe('frozen');
  });
});
