import { describe, expect, it } from 'vitest';
import { anchored, signaturePolicyProblem } from '../../../src/registry/trust/identity.js';
import { parseStatement, simpleSigningDigest, slsaFields } from '../../../src/registry/trust/statement.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('slsaFields', () => {
  it.each([
    {
      name: "GitHub's workflow build type",
      predicate: {
        buildDefinition: {
          externalParameters: { workflow: { repository: 'https://github.com/a/b', ref: 'refs/tags/v1' } },
        },
        runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
      },
      want: {
        builder: 'https://github.com/actions/runner/github-hosted',
        sourceRepository: 'https://github.com/a/b',
        ref: 'refs/tags/v1',
      },
    },
    {
      name: 'a git+ resolved dependency when there is no workflow',
      predicate: {
        buildDefinition: {
          resolvedDependencies: [
            { uri: 'pkg:npm/x@1' },
            { uri: 'git+https://gitlab.com/a/b@refs/heads/main' },
          ],
        },
        runDetails: { builder: { id: 'https://gitlab.com/a/b/-/runners/1' } },
      },
      want: {
        builder: 'https://gitlab.com/a/b/-/runners/1',
        sourceRepository: 'https://gitlab.com/a/b',
        ref: 'refs/heads/main',
      },
    },
    { name: 'nothing from a predicate that is not an object', predicate: 'x', want: {} },
  ])('reads $name', ({ predicate, want }) => {
    expect(slsaFields(predicate)).toEqual(want);
  });
});

describe('parseStatement and simpleSigningDigest', () => {
  it('lowercases subject digests and rejects what is not an in-toto statement', () => {
    const st = {
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'p',
      subject: [{ digest: { sha256: 'AB' } }],
    };
    expect(parseStatement('application/vnd.in-toto+json', json(st))).toMatchObject({
      subjectDigests: ['sha256:ab'],
    });
    expect(parseStatement('text/plain', json(st))).toEqual({
      reason: 'the envelope holds text/plain, not an in-toto statement',
    });
    expect(parseStatement('application/vnd.in-toto+json', Buffer.from('{'))).toHaveProperty('reason');
  });

  it('needs the cosign signature type and an image digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const payload = {
      critical: { type: 'cosign container image signature', image: { 'docker-manifest-digest': digest } },
    };
    expect(simpleSigningDigest(json(payload))).toEqual({ digest });
    expect(
      simpleSigningDigest(json({ critical: { ...payload.critical, type: 'something else' } })),
    ).toHaveProperty('reason');
    expect(simpleSigningDigest(json({ critical: { type: 'cosign container image signature' } }))).toEqual({
      reason: 'the signed payload names no image digest',
    });
  });
});

describe('signature policies', () => {
  it('anchors the whole pattern, alternation included', () => {
    expect(anchored('a|b')).toBe('^(?:a|b)$');
  });

  it.each([
    [{ issuer: '', subject: 's' }, 'the signature policy names no issuer'],
    [{ issuer: 'i' }, 'the signature policy needs exactly one of subject and subjectPattern'],
    [{ issuer: 'i', subject: 's' }, undefined],
    [{ issuer: 'i', subjectPattern: 'a(?=b)' }, expect.stringMatching(/^subjectPattern: invalid RE2/)],
  ])('%j → %s', (policy, want) => {
    expect(signaturePolicyProblem(policy)).toEqual(want);
  });
});
