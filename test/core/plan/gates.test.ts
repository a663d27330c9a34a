import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../../src/core/config/repo-config.js';
import { formatDuration, parseDuration } from '../../../src/core/domain/duration.js';
import { judgeCandidate, windowCheck } from '../../../src/core/plan/gates.js';
import { gatesFromAnnotations, normalizePlatform, parseGates } from '../../../src/core/policy/gates.js';
import type { FieldError } from '../../../src/core/policy/parse.js';
import { rankTags } from '../../../src/core/policy/select-latest.js';
import type { ImagePolicySpec } from '../../../src/core/policy/types.js';

const H = 3_600_000;
const T0 = Date.parse('2026-12-04T12:00:00Z'); // a Friday

describe('durations', () => {
  it.each([
    ['72h', 72 * H],
    ['3d', 72 * H],
    ['1h30m', 1.5 * H],
    ['500ms', 500],
    ['1w', 7 * 24 * H],
  ])('%s', (raw, ms) => expect(parseDuration(raw)).toBe(ms));
  it.each(['72', '', 'h', '3 days', '1h 30m', '-1h'])('%j is refused', (raw) =>
    expect(parseDuration(raw)).toBeUndefined(),
  );
  it('formats', () => {
    expect(formatDuration(72 * H)).toBe('3d');
    expect(formatDuration(1.5 * H)).toBe('1h30m');
  });
});

describe('gate fields', () => {
  const parse = (v: Record<string, unknown>) => {
    const errors: FieldError[] = [];
    return { gates: parseGates(v, 'policies[0]', errors), errors };
  };

  it('reads every gate', () => {
    const { gates, errors } = parse({
      minAge: '72h',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      signature: {
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      },
      provenance: {
        builder: 'https://github.com/actions/runner',
        sourceRepository: 'https://github.com/acme/app',
      },
      schedule: { timezone: 'Europe/Berlin', windows: ['* 9-16 * * 1-5'] },
      freeze: [{ from: '2026-12-20', to: '2027-01-04', reason: 'holidays' }],
      autoMerge: true,
    });
    expect(errors).toEqual([]);
    expect(gates).toMatchObject({
      minAge: 72 * H,
      platforms: ['linux/amd64', 'linux/arm64'],
      schedule: { timezone: 'Europe/Berlin' },
      autoMerge: true,
    });
  });

  it.each([
    [{ minAge: '72' }, 'policies[0].minAge', 'a duration needs a unit: write 72h'],
    [{ platforms: ['amd64'] }, 'policies[0].platforms', 'os/architecture'],
    [{ signature: { issuer: 'https://x' } }, 'policies[0].signature', 'exactly one of subject'],
    [{ signature: { issuer: 'http://x', subject: 'a' } }, 'policies[0].signature.issuer', 'https:// URL'],
    [
      { signature: { issuer: 'https://x', subjectPattern: '(' } },
      'policies[0].signature.subjectPattern',
      'invalid RE2',
    ],
    [
      { signature: { issuer: 'https://x', subjekt: 'a' } },
      'policies[0].signature.subjekt',
      'did you mean "subject"',
    ],
    [
      { schedule: { windows: ['9-16 * * 1-5'] } },
      'policies[0].schedule.windows[0]',
      'expected 5 cron fields',
    ],
    [
      { schedule: { timezone: 'Mars/Olympus', windows: ['* * * * *'] } },
      'policies[0].schedule.timezone',
      'unknown time zone',
    ],
    [{ freeze: [{ from: 'tomorrow', to: '2027-01-04' }] }, 'policies[0].freeze[0].from', 'a date or time'],
    [
      { freeze: [{ from: '2027-01-04', to: '2026-12-20' }] },
      'policies[0].freeze[0].to',
      'must be after from',
    ],
    [{ autoMerge: 'yes' }, 'policies[0].autoMerge', 'true or false'],
  ])('%j → %s: %s', (v, path, message) => {
    const { errors } = parse(v);
    expect(errors.map((e) => e.path)).toContain(path);
    expect(errors.find((e) => e.path === path)!.message).toContain(message);
  });

  it('Flux annotations set the same gates, and a typo names the annotation', () => {
    const errors: FieldError[] = [];
    const gates = gatesFromAnnotations(
      {
        'tidemark.dev/min-age': '48h',
        'tidemark.dev/platforms': 'linux/amd64, linux/arm64',
        'tidemark.dev/signature-issuer': 'https://token.actions.githubusercontent.com',
        'tidemark.dev/signature-subject-pattern': 'https://github.com/acme/.+',
        'kustomize.toolkit.fluxcd.io/prune': 'disabled',
      },
      errors,
    );
    expect(errors).toEqual([]);
    expect(gates).toMatchObject({ minAge: 48 * H, platforms: ['linux/amd64', 'linux/arm64'] });
    expect(gates?.signature?.subjectPattern).toBe('https://github.com/acme/.+');

    const bad: FieldError[] = [];
    gatesFromAnnotations({ 'tidemark.dev/minage': '1h', 'tidemark.dev/min-age': '12' }, bad);
    expect(bad).toEqual([
      {
        path: 'metadata.annotations.tidemark.dev/minage',
        message: 'unknown tidemark annotation; did you mean "tidemark.dev/min-age"?',
      },
      {
        path: 'metadata.annotations.tidemark.dev/min-age',
        message: 'a duration needs a unit: write 12h, 12m or 12s',
      },
    ]);
  });

  it('a Flux ImagePolicy with a bad annotation is a config error with its line; update: gates are defaults', () => {
    const loaded = loadRepoConfig([
      {
        path: 'flux/policy.yaml',
        text: [
          'apiVersion: image.toolkit.fluxcd.io/v1beta2',
          'kind: ImagePolicy',
          'metadata:',
          '  name: app',
          '  annotations:',
          "    tidemark.dev/min-age: '3'",
          'spec:',
          '  imageRepositoryRef: { name: app }',
          '  policy: { semver: { range: ">=1.0.0" } }',
          '---',
          'apiVersion: image.toolkit.fluxcd.io/v1beta2',
          'kind: ImageRepository',
          'metadata: { name: app }',
          'spec: { image: ghcr.io/acme/app }',
          '',
        ].join('\n'),
      },
      {
        path: '.github/tidemark.yml',
        text: [
          'update:',
          '  minAge: 24h',
          '  freeze:',
          '    - { from: 2026-12-20, to: 2027-01-04 }',
          'policies:',
          '  - name: web',
          '    image: ghcr.io/acme/web',
          '    policy: { semver: { range: ">=1.0.0" } }',
          '    minAge: 1h',
          '',
        ].join('\n'),
      },
    ]);
    expect(loaded.errors.map((e) => e.text)).toEqual([
      'flux/policy.yaml:6: ImagePolicy flux-system/app metadata.annotations.tidemark.dev/min-age: a duration needs a unit: write 3h, 3m or 3s',
    ]);
    const web = loaded.config.policies.find((p) => p.name === 'web')!;
    expect(web.gates?.minAge).toBe(H);
    expect(web.gates?.freeze).toHaveLength(1);
  });

  it('arm64 and arm64/v8 are one platform', () => {
    expect(normalizePlatform('linux/arm64/v8')).toBe('linux/arm64');
    expect(normalizePlatform('linux/arm/v7')).toBe('linux/arm/v7');
  });
});

describe('judging a candidate', () => {
  it('minimum age counts from first sight of the tag → digest; it says when it matures', () => {
    const gates = { minAge: 72 * H };
    const fresh = judgeCandidate(gates, { tag: '1.2.0', digest: 'sha256:aa', firstSeen: T0 - H }, T0);
    expect(fresh.status).toBe('wait');
    expect(fresh.until).toBe(T0 + 71 * H);
    expect(fresh.checks[0]!.detail).toContain('matures at 2026-12-07T11:00:00Z');
    const old = judgeCandidate(gates, { tag: '1.2.0', digest: 'sha256:aa', firstSeen: T0 - 73 * H }, T0);
    expect(old.status).toBe('pass');
    // Never seen before: seen now, so it waits the whole age.
    expect(judgeCandidate(gates, { tag: '1.2.0', digest: 'sha256:aa' }, T0).until).toBe(T0 + 72 * H);
  });

  it('platforms: every one listed, arm64 = arm64/v8; a missing one waits with no time', () => {
    const gates = { platforms: ['linux/amd64', 'linux/arm64'] };
    expect(judgeCandidate(gates, { tag: 'a', platforms: ['linux/amd64', 'linux/arm64/v8'] }, T0).status).toBe(
      'pass',
    );
    const v = judgeCandidate(gates, { tag: 'a', platforms: ['linux/amd64'] }, T0);
    expect(v.status).toBe('wait');
    expect(v.until).toBeUndefined();
    expect(v.checks[0]!.detail).toBe('missing linux/arm64 (found linux/amd64)');
  });

  it('signature and provenance failures block, with the reason', () => {
    const gates = { signature: { issuer: 'https://i', subject: 's' }, provenance: { builder: 'b' } };
    const v = judgeCandidate(
      gates,
      {
        tag: 'a',
        signature: { ok: false, reason: 'signed by https://evil, want s' },
        provenance: { ok: true, evidence: { builder: 'b', sourceRepository: 'r' } },
      },
      T0,
    );
    expect(v.status).toBe('block');
    expect(v.checks.map((c) => [c.gate, c.status])).toEqual([
      ['signature', 'block'],
      ['provenance', 'pass'],
    ]);
  });

  it('a candidate whose facts could not be collected waits', () => {
    expect(judgeCandidate({ minAge: H }, { tag: 'a', error: 'registry down' }, T0).status).toBe('wait');
  });
});

describe('windows', () => {
  it('a fixed freeze holds until its end', () => {
    const gates = {
      freeze: [{ from: '2026-12-04T00:00:00Z', to: '2026-12-05T00:00:00Z', reason: 'release' }],
    };
    const w = windowCheck(gates, T0);
    expect(w).toMatchObject({ gate: 'freeze', until: Date.parse('2026-12-05T00:00:00Z') });
    expect(w!.detail).toContain('(release)');
    expect(windowCheck(gates, Date.parse('2026-12-05T00:00:00Z'))).toBeUndefined();
  });

  it('a recurring freeze (Fridays in Berlin) ends at the first minute outside it', () => {
    const w = windowCheck({ freeze: [{ cron: '* * * * 5', timezone: 'Europe/Berlin' }] }, T0);
    expect(w?.until).toBe(Date.parse('2026-12-04T23:00:00Z')); // Saturday 00:00 in Berlin
    expect(windowCheck({ freeze: [{ cron: '* * * * 4', timezone: 'Europe/Berlin' }] }, T0)).toBeUndefined();
  });

  it('outside the schedule waits for the next window', () => {
    const gates = { schedule: { timezone: 'UTC', windows: ['* 9-10 * * 1-5'] } };
    const w = windowCheck(gates, T0);
    expect(w).toMatchObject({ gate: 'schedule', until: Date.parse('2026-12-07T09:00:00Z') });
    expect(windowCheck(gates, Date.parse('2026-12-04T09:30:00Z'))).toBeUndefined();
  });
});

describe('ranking candidates', () => {
  const spec: ImagePolicySpec = {
    name: 'app',
    namespace: 'flux-system',
    image: 'ghcr.io/acme/app',
    exclusionList: [],
    policy: { semver: { range: '>=1.0.0' } },
    digestReflectionPolicy: 'Never',
    source: { kind: 'native' },
  };
  it('newest first, in Flux order, down to what is deployed', () => {
    const tags = ['1.0.0', '1.2.0', '1.10.0', '1.3.0', 'latest', '0.9.0'];
    expect(rankTags(spec, tags, 10)).toEqual(['1.10.0', '1.3.0', '1.2.0', '1.0.0']);
    expect(rankTags(spec, tags, 10, new Set(['1.2.0']))).toEqual(['1.10.0', '1.3.0', '1.2.0']);
    expect(rankTags(spec, tags, 2)).toEqual(['1.10.0', '1.3.0']);
  });
});
