import { describe, expect, it } from 'vitest';
import { parseGoFloat } from '../../../src/core/policy/go-float.js';
import { expandTemplate } from '../../../src/core/policy/regex.js';
import { selectLatest } from '../../../src/core/policy/select-latest.js';
import { parseSemverRange, parseTagVersion, satisfies } from '../../../src/core/policy/semver.js';
import type { FilterTags, ImagePolicySpec, PolicyChoice } from '../../../src/core/policy/types.js';

function spec(
  policy: PolicyChoice,
  filterTags?: FilterTags,
  exclusionList: string[] = ['^.*\\.sig$'],
): ImagePolicySpec {
  return {
    name: 'p',
    namespace: 'flux-system',
    image: 'ghcr.io/acme/app',
    exclusionList,
    ...(filterTags && { filterTags }),
    policy,
    digestReflectionPolicy: 'Never',
    source: { kind: 'native' },
  };
}

const semver = (range: string, f?: FilterTags) => spec({ semver: { range } }, f);
const pick = (s: ImagePolicySpec, tags: string[]) => {
  const r = selectLatest(s, tags);
  return r.kind === 'selected' ? r.tag : r.kind;
};

describe('semver ranges (Masterminds v3)', () => {
  it.each([
    // range, version, satisfies
    ['>=1.0.0', '1.0.0', true],
    ['>1.0.0', '1.0.0', false],
    ['=>1.2.0', '1.2.0', true],
    ['=<1.2.0', '1.2.0', true],
    ['<=1.2', '1.2.9', true],
    ['<=1.2', '1.3.0', false],
    ['<1.2', '1.1.9', true],
    ['>1.2', '1.2.9', false],
    ['>1.2', '1.3.0', true],
    ['>11', '11.9.0', false],
    ['>11', '12.0.0', true],
    ['!=1.2.3', '1.2.3', false],
    ['!=1.2.3', '1.2.4', true],
    ['!=1.2.x', '1.2.7', false],
    ['!=1.x', '1.9.9', false],
    ['!=1.x', '2.0.0', true],
    ['~1.2.3', '1.2.9', true],
    ['~1.2.3', '1.3.0', false],
    ['~1', '1.9.0', true],
    ['~1', '2.0.0', false],
    ['~>1.2', '1.2.5', true],
    ['~>1.2', '1.3.0', false],
    ['~0.0.0', '5.0.0', true],
    ['^1.2.3', '1.9.9', true],
    ['^1.2.3', '2.0.0', false],
    ['^1.2.3', '1.2.2', false],
    ['^0.2.3', '0.2.9', true],
    ['^0.2.3', '0.3.0', false],
    ['^0.0.3', '0.0.3', true],
    ['^0.0.3', '0.0.4', false],
    ['^0.0', '0.0.9', true],
    ['^0.0', '0.1.0', false],
    ['^0', '0.9.9', true],
    ['^0', '1.0.0', false],
    ['1.2.x', '1.2.7', true],
    ['1.2.x', '1.3.0', false],
    ['1.X', '1.4.0', true],
    ['*', '3.4.5', true],
    ['1.2.*', '1.2.0', true],
    ['1.2', '1.2.5', true],
    ['=1.2.3', '1.2.3', true],
    ['1.2.3', '1.2.4', false],
    ['v1.2.3', '1.2.3', true],
    ['>=v1.0, <v2', '1.5.0', true],
    ['>= 1.2, < 3.0.0 || >= 4.2.3', '3.1.0', false],
    ['>= 1.2, < 3.0.0 || >= 4.2.3', '4.3.0', true],
    ['>=1.0 <2.0', '1.9.0', true],
    ['>=1.0 <2.0', '2.0.0', false],
    ['1.2 - 1.4.5', '1.4.5', true],
    ['1.2 - 1.4.5', '1.4.6', false],
    ['1.2 - 1.4.5', '1.2.0', true],
    ['1.2.3 - 2', '2.9.9', true],
    ['1.2.3 - 2', '3.0.0', false],
  ])('%s admits %s: %s', (range, version, expected) => {
    const v = parseTagVersion(version);
    expect(v).toBeDefined();
    expect(satisfies(v!, parseSemverRange(range))).toBe(expected);
  });

  it.each(['', 'not-a-range', '*-*', '1.0.0p', '^1.x.y', '>=1.0 <<2', '1.2.3 ||'])('rejects %j', (range) => {
    expect(() => parseSemverRange(range)).toThrow(/improper constraint/);
  });
});

describe('prereleases (group-wide rule)', () => {
  it.each([
    // A group without a prerelease comparator admits no prerelease.
    ['>=1.0.0 <2.0.0', ['1.5.0', '1.6.0-beta.1'], '1.5.0'],
    // A prerelease comparator admits prereleases of any version in that group.
    ['>=1.0.0-0 <2.0.0', ['1.5.0', '1.6.0-beta.1'], '1.6.0-beta.1'],
    ['>=1.0.0-0 <2.0.1', ['1.5.0', '2.0.0-rc.1'], '2.0.0-rc.1'],
    // Across OR-groups: only the group with the prerelease admits one.
    ['>=3.0.0-0 <3.1.0 || ^1.0.0', ['1.9.0', '1.10.0-rc.1', '3.0.0-beta.1'], '3.0.0-beta.1'],
    ['^1.0.0 || >=5.0.0-0', ['1.9.0', '1.10.0-rc.1'], '1.9.0'],
    // A release beats its own prereleases; numeric prerelease identifiers compare numerically.
    ['>=1.0.0-0', ['1.0.0-rc.9', '1.0.0-rc.10', '1.0.0'], '1.0.0'],
    ['>=1.0.0-0 <1.0.0', ['1.0.0-rc.9', '1.0.0-rc.10'], '1.0.0-rc.10'],
    ['>=1.0.0-0 <1.0.0', ['1.0.0-alpha', '1.0.0-1'], '1.0.0-alpha'],
  ])('%s over %j picks %s', (range, tags, expected) => {
    expect(pick(semver(range), tags)).toBe(expected);
  });
});

describe('semver tag parsing as Flux does it', () => {
  it.each([
    [['v1.2.3', '1.2.2'], '>=1.0.0', 'v1.2.3'],
    [['1.2', '1.1.0'], '>=1.0.0', '1.1.0'], // two-part tags are ignored
    [['v2', '1.0.0'], '*', '1.0.0'],
    [['1.2.3.4', '1.0.0'], '*', '1.0.0'], // four parts fail the coercing parse
    [['2025.02.03', '2025.1.15'], '>=2025.0.0', '2025.02.03'], // leading zeros
    [['V1.9.0', '1.0.0'], '*', '1.0.0'], // only a lowercase v
    [['1.2-rc.1', '1.1.0'], '>=1.0.0-0', '1.2-rc.1'], // three dot-parts: read as 1.2.0-rc.1
    [['latest', 'main', '1.0.0'], '*', '1.0.0'],
    [['1.0.0-01', '0.9.0'], '>=0.0.0-0', '0.9.0'], // numeric prerelease with a leading zero is invalid
  ])('%j with %s → %s', (tags, range, expected) => {
    expect(pick(semver(range), tags)).toBe(expected);
  });

  it('build metadata is ignored in ordering; ties go to the byte-wise greatest spelling', () => {
    expect(pick(semver('*'), ['1.2.3+b1', '1.2.3+b2'])).toBe('1.2.3+b2');
    expect(pick(semver('*'), ['1.2.3', 'v1.2.3'])).toBe('v1.2.3');
    expect(pick(semver('*'), ['v1.2.3', '1.2.3'])).toBe('v1.2.3');
  });

  it('returns none with a reason when nothing qualifies', () => {
    const r = selectLatest(semver('>=5'), ['1.0.0']);
    expect(r).toMatchObject({ kind: 'none', reason: 'no tag satisfies semver range ">=5"' });
  });

  it('an invalid range selects invalid', () => {
    expect(selectLatest(semver('>>1'), ['1.0.0']).kind).toBe('invalid');
  });
});

describe('alphabetical', () => {
  it.each([
    [['9', '10'], 'asc', '9'],
    [['9', '10'], 'desc', '10'],
    [['Z', 'a'], 'asc', 'a'],
    [['Z', 'a'], 'desc', 'Z'],
    [['2024-01-02T03:04:05Z', '2024-01-10T00:00:00Z'], 'asc', '2024-01-10T00:00:00Z'],
    [['ä', 'z'], 'asc', 'ä'],
  ] as const)('%j %s → %s', (tags, order, expected) => {
    expect(pick(spec({ alphabetical: { order } }), [...tags])).toBe(expected);
  });
});

describe('numerical', () => {
  it.each([
    [['1', '10', '9'], 'asc', '10'],
    [['1', '10', '9'], 'desc', '1'],
    [['2e3', '1999'], 'asc', '2e3'],
    [['1_000', '999'], 'asc', '1_000'],
    [['007', '6'], 'asc', '007'],
    [['-5', '+3'], 'asc', '+3'],
    [['0x1p4', '15'], 'asc', '0x1p4'],
    [['1.5', '1.25'], 'asc', '1.5'],
    [['Inf', '1e308'], 'asc', 'Inf'],
    // Beyond 2^53 float64 collides; tidemark compares exactly.
    [['9007199254740993', '9007199254740992'], 'asc', '9007199254740993'],
    [['17000000000000001', '17000000000000000'], 'desc', '17000000000000000'],
  ] as const)('%j %s → %s', (tags, order, expected) => {
    expect(pick(spec({ numerical: { order } }), [...tags])).toBe(expected);
  });

  it('skips and reports non-numbers instead of failing the policy (divergence from Flux)', () => {
    const r = selectLatest(spec({ numerical: { order: 'asc' } }), ['latest', '12', '0x10', '1e400', 'NaN']);
    expect(r).toMatchObject({ kind: 'selected', tag: '12' });
    expect(r.skipped.map((s) => s.tag).sort()).toEqual(['0x10', '1e400', 'NaN', 'latest']);
  });

  it.each([
    ['1_000', true],
    ['_1000', false],
    ['1__000', false],
    ['1000_', false],
    ['1.5e-3', true],
    ['.5', true],
    ['5.', true],
    ['.', false],
    ['0x10', false],
    ['0x1.8p1', true],
    ['+Inf', true],
    ['infinity', true],
    ['1e400', false],
    ['', false],
  ])('Go ParseFloat accepts %j: %s', (s, ok) => {
    const v = parseGoFloat(s);
    expect(v.kind !== 'error').toBe(ok);
  });
});

describe('filterTags', () => {
  it('extracts a numeric key and publishes the original tag', () => {
    const s = spec(
      { numerical: { order: 'asc' } },
      { pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts' },
    );
    expect(
      pick(s, ['main-abc123-1700000100', 'main-def456-1700000200', 'feature-x-1800000000', 'latest']),
    ).toBe('main-def456-1700000200');
  });

  it('production-<n> with a numerical policy', () => {
    const s = spec({ numerical: { order: 'asc' } }, { pattern: '^production-(?P<n>\\d+)$', extract: '$n' });
    expect(pick(s, ['production-40672', 'production-9999', 'staging-50000'])).toBe('production-40672');
  });

  it('the $maj_$min pitfall: $maj_ is an undefined group and expands to nothing', () => {
    const s = spec(
      { alphabetical: { order: 'asc' } },
      { pattern: '^(?P<maj>\\d+)\\.(?P<min>\\d+)$', extract: '$maj_$min' },
    );
    // Keys are only the minor numbers: "9" > "10" byte-wise, so 1.9 wins.
    expect(pick(s, ['1.9', '2.10'])).toBe('1.9');
    const fixed = spec(
      { alphabetical: { order: 'asc' } },
      { pattern: '^(?P<maj>\\d+)\\.(?P<min>\\d+)$', extract: '${maj}_${min}' },
    );
    expect(pick(fixed, ['1.9', '2.10'])).toBe('2.10');
  });

  it('extract collisions: the later tag in byte-descending order wins', () => {
    const s = spec({ semver: { range: '*' } }, { pattern: '^(\\d+\\.\\d+\\.\\d+)-.*$', extract: '$1' });
    // Both extract to 1.0.0; byte-descending order is [1.0.0-b, 1.0.0-a]; the later (1.0.0-a) wins.
    expect(pick(s, ['1.0.0-a', '1.0.0-b'])).toBe('1.0.0-a');
  });

  it('the search is unanchored', () => {
    const s = spec({ alphabetical: { order: 'asc' } }, { pattern: 'rc' });
    expect(pick(s, ['1.0-rc1', 'zzz'])).toBe('1.0-rc1');
  });

  it('semver over <semver>-rc<N>-<sha> with an extract', () => {
    const s = spec(
      { semver: { range: '>=1.0.0-0' } },
      { pattern: '^(?P<v>\\d+\\.\\d+\\.\\d+-rc\\d+)-[a-f0-9]+$', extract: '$v' },
    );
    expect(pick(s, ['1.2.0-rc1-abc', '1.2.0-rc2-def', '1.1.0'])).toBe('1.2.0-rc2-def');
  });

  it.each(['(?=x)', '(?!x)', '(?<=x)y', '(a)\\1', '[', '(?P<n>'])(
    'an invalid pattern %j makes the policy invalid',
    (pattern) => {
      expect(selectLatest(spec({ alphabetical: { order: 'asc' } }, { pattern }), ['a']).kind).toBe('invalid');
    },
  );

  it('RE2 named groups in both spellings and inline flags work', () => {
    const s = spec({ alphabetical: { order: 'asc' } }, { pattern: '(?i)^REL-(?<n>\\d+)$', extract: '${n}' });
    expect(pick(s, ['rel-1', 'REL-2'])).toBe('REL-2');
  });

  it('a regex bomb runs in linear time', () => {
    const s = spec({ alphabetical: { order: 'asc' } }, { pattern: '^(a+)+$' });
    const evil = `${'a'.repeat(5000)}!`;
    const start = performance.now();
    expect(selectLatest(s, [evil, 'aaa']).kind).toBe('selected');
    // Not a timing assertion on speed, only that it finishes: a backtracking engine would not.
    expect(performance.now() - start).toBeLessThan(30_000);
  });
});

describe('exclusionList', () => {
  it('drops cosign .sig tags by default', () => {
    expect(pick(spec({ alphabetical: { order: 'asc' } }), ['sha256-abc.sig', 'a'])).toBe('a');
  });
  it('a user list replaces the default', () => {
    expect(pick(spec({ alphabetical: { order: 'asc' } }, undefined, ['^a']), ['sha256-abc.sig', 'a'])).toBe(
      'sha256-abc.sig',
    );
  });
  it('says why nothing is left', () => {
    expect(selectLatest(spec({ alphabetical: { order: 'asc' } }, undefined, ['.*']), ['a'])).toMatchObject({
      kind: 'none',
      reason: 'all 1 tags are excluded by exclusionList',
    });
  });
});

describe('Go Regexp.Expand', () => {
  const values: Record<string, string> = { '1': 'one', maj: 'M', min: 'm', name: 'N' };
  const v = (name: string) => values[name] ?? '';
  it.each([
    ['$1', 'one'],
    ['${1}x', 'onex'],
    ['$1x', ''],
    ['$maj.$min', 'M.m'],
    ['$maj_$min', 'm'],
    ['${maj}_${min}', 'M_m'],
    ['$$1', '$1'],
    ['$', '$'],
    ['${name', '${name'],
    ['a$-b', 'a$-b'],
  ])('%s → %s', (template, expected) => {
    expect(expandTemplate(template, v)).toBe(expected);
  });
});
