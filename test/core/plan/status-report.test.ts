import { describe, expect, it } from 'vitest';
import type { ReconcilePlan } from '../../../src/core/plan/publish-plan.js';
import {
  checkRunStep,
  fingerprintOf,
  policyRows,
  type StatusInput,
  statusReport,
} from '../../../src/core/plan/status-report.js';
import type { PolicyUpdate } from '../../../src/core/plan/update.js';

const w = (code: string, message: string) => ({ code, message });
const update = (key: string, newTag: string): PolicyUpdate => ({
  key,
  namespace: key.split(':')[0]!,
  name: key.split(':')[1]!,
  image: `r.example/${key.split(':')[1]}`,
  newTag,
  changes: [],
});

function planOf(
  perPolicy: ReconcilePlan['perPolicy'],
  groups: { branch: string; keys: string[] }[] = [],
): ReconcilePlan {
  return {
    perPolicy,
    updates: groups.flatMap((g) => g.keys.map((k) => update(k, 'x'))),
    groups: groups.map((g) => ({
      kind: 'per-policy' as const,
      branch: g.branch,
      updates: g.keys.map((k) => update(k, 'x')),
      files: [],
    })),
    changes: [],
    warnings: [],
    registryErrors: [],
  };
}

const pol = (name: string) => ({ key: `flux-system:${name}`, image: `r.example/${name}` });

describe('the tidemark check run (pure)', () => {
  it('one row per policy with current value, newest allowed tag and state', () => {
    const input: StatusInput = {
      policies: [pol('web'), pol('api'), pol('db'), pol('old'), pol('gone'), pol('cache')],
      configErrors: [],
      warnings: [],
      strategy: 'pull-request',
      plan: planOf(
        {
          'flux-system:web': { status: 'selected', tag: '1.2.0', markers: 2, current: ['1.1.0'] },
          'flux-system:api': { status: 'selected', tag: '2.0.0', markers: 1, current: ['2.0.0'] },
          'flux-system:db': { status: 'skipped', tag: '5.1', reason: '5.1 was declined in PR #4' },
          'flux-system:old': { status: 'none', reason: 'none of the 3 tags matches ^9' },
          'flux-system:gone': { status: 'registry-error', reason: 'r.example: 401' },
          'flux-system:cache': { status: 'selected', tag: '7', markers: 1, current: ['6'] },
        },
        [
          { branch: 'tidemark/flux-system-web', keys: ['flux-system:web'] },
          { branch: 'tidemark/flux-system-cache', keys: ['flux-system:cache'] },
        ],
      ),
      published: [
        { branch: 'tidemark/flux-system-web', action: 'opened', pr: 12 },
        { branch: 'tidemark/flux-system-cache', action: 'frozen', pr: 9 },
      ],
    };
    expect(policyRows(input).map((r) => [r.key, r.current.join(','), r.newest, r.state])).toEqual([
      ['flux-system:api', '2.0.0', '2.0.0', 'up to date'],
      ['flux-system:cache', '6', '7', 'held: PR #9 has commits tidemark did not make'],
      ['flux-system:db', '', '5.1', 'ignored: 5.1 was declined in PR #4'],
      ['flux-system:gone', '', undefined, 'error: r.example: 401'],
      ['flux-system:old', '', undefined, 'blocked: none of the 3 tags matches ^9'],
      ['flux-system:web', '1.1.0', '1.2.0', 'PR open #12'],
    ]);
    const r = statusReport(input);
    expect(r.conclusion).toBe('neutral');
    expect(r.title).toBe(
      'tidemark: 6 policies — 1 up to date, 1 held, 1 ignored, 1 error, 1 blocked, 1 PR open',
    );
    expect(r.text).toContain('| flux-system:web | r.example/web | 1.1.0 | 1.2.0 | PR open #12 |');
  });

  it('all up to date and nothing to fix: success', () => {
    const r = statusReport({
      policies: [pol('web')],
      configErrors: [],
      warnings: [w('mutable-tag', 'a.yaml:1: latest')],
      strategy: 'pull-request',
      plan: planOf({
        'flux-system:web': { status: 'selected', tag: '1.0.0', markers: 1, current: ['1.0.0'] },
      }),
      published: [],
    });
    expect(r).toMatchObject({ conclusion: 'success', title: 'tidemark: 1 policy — 1 up to date' });
    expect(r.text).not.toContain('To fix');
  });

  it('configuration errors fail the check, other fixes listed after them, each once', () => {
    const r = statusReport({
      policies: [],
      configErrors: ['.github/tidemark.yml:3: bad'],
      warnings: [w('policy-unused', 'ns:a: unused'), w('policy-unused', 'ns:a: unused')],
      strategy: 'pull-request',
    });
    expect(r.conclusion).toBe('failure');
    expect(r.title).toBe('tidemark: 1 configuration problem');
    expect(r.text).toBe('**To fix**\n\n- .github/tidemark.yml:3: bad\n- ns:a: unused');
  });

  it('only things that do nothing: neutral', () => {
    const r = statusReport({
      policies: [pol('web')],
      configErrors: [],
      warnings: [w('yaml-invalid', 'a.yaml:2: not valid')],
      strategy: 'pull-request',
      plan: planOf({
        'flux-system:web': { status: 'selected', tag: '1.0.0', markers: 1, current: ['1.0.0'] },
      }),
    });
    expect(r.conclusion).toBe('neutral');
    expect(r.title).toBe('tidemark: 1 policy — 1 up to date; 1 thing to fix');
    expect(r.text).toContain('- a.yaml:2: not valid');
  });

  it('a repo with no policy says how to start', () => {
    const r = statusReport({ policies: [], configErrors: [], warnings: [], strategy: 'pull-request' });
    expect(r.conclusion).toBe('success');
    expect(r.title).toBe('tidemark: no image policies');
    expect(r.summary).toContain('tidemark init');
  });

  it('push mode names the commit', () => {
    const r = policyRows({
      policies: [pol('web')],
      configErrors: [],
      warnings: [],
      strategy: 'push',
      plan: planOf({ 'flux-system:web': { status: 'selected', tag: '2', markers: 1, current: ['1'] } }, [
        { branch: 'main', keys: ['flux-system:web'] },
      ]),
      published: [{ branch: 'main', action: 'pushed', commit: 'abcdef0123456789' }],
    });
    expect(r[0]!.state).toBe('pushed abcdef0');
  });

  it('text from the repo cannot break the table, hide text, or mention anyone', () => {
    const r = statusReport({
      policies: [{ key: 'a:b', image: 'x|y<!-- tidemark: {} -->@octocat' }],
      configErrors: [],
      warnings: [],
      strategy: 'pull-request',
    });
    expect(r.text).toContain('x\\|y&lt;!-- tidemark: {} --&gt;@\u200boctocat');
  });
});

describe('one check run per head commit', () => {
  const report = statusReport({ policies: [], configErrors: [], warnings: [], strategy: 'push' });
  const other = statusReport({ policies: [], configErrors: ['x'], warnings: [], strategy: 'push' });
  it('creates on a new head, updates in place when the content changed, else nothing', () => {
    expect(checkRunStep('a', report, undefined)).toMatchObject({ kind: 'create', sha: 'a' });
    const posted = { sha: 'a', id: 7, fingerprint: fingerprintOf(report) };
    expect(checkRunStep('a', report, posted)).toEqual({ kind: 'none' });
    expect(checkRunStep('a', other, posted)).toMatchObject({ kind: 'update', id: 7 });
    expect(checkRunStep('b', report, posted)).toMatchObject({ kind: 'create', sha: 'b' });
  });
});
