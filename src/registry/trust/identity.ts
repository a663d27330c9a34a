/**
 * Does a certificate identity satisfy a `SignaturePolicy`? The subject pattern is always matched against the
 * whole subject: `@sigstore/verify` and many cosign setups search unanchored, so `https://github.com/acme/app`
 * would also accept `https://github.com/acme/app.evil.example/...`. RE2 keeps a pattern from a config repo
 * from stalling the worker.
 */
import { compileRegex, RegexSyntaxError } from '../../core/policy/regex.js';
import type { SignaturePolicy } from './types.js';

export interface CertIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/** What is wrong with a policy, or undefined when it can be used. */
export function signaturePolicyProblem(policy: SignaturePolicy): string | undefined {
  if (!policy.issuer) return 'the signature policy names no issuer';
  const hasSubject = policy.subject !== undefined;
  const hasPattern = policy.subjectPattern !== undefined;
  if (hasSubject === hasPattern)
    return 'the signature policy needs exactly one of subject and subjectPattern';
  if (hasPattern) {
    try {
      compileRegex(anchored(policy.subjectPattern!));
    } catch (err) {
      if (err instanceof RegexSyntaxError) return `subjectPattern: ${err.message}`;
      throw err;
    }
  }
  return undefined;
}

/** The pattern as matched: the group keeps `a|b` from anchoring only `a` at the start and `b` at the end. */
export function anchored(pattern: string): string {
  return `^(?:${pattern})$`;
}

/** Undefined when `actual` satisfies `policy`, else a one-line reason naming both. */
export function identityMismatch(policy: SignaturePolicy, actual: CertIdentity): string | undefined {
  const subjectOk =
    policy.subject !== undefined
      ? actual.subject === policy.subject
      : compileRegex(anchored(policy.subjectPattern ?? '')).test(actual.subject);
  if (subjectOk && actual.issuer === policy.issuer) return undefined;
  const wanted =
    policy.subject !== undefined ? policy.subject : `a match of ${anchored(policy.subjectPattern ?? '')}`;
  return `signed by ${actual.subject} (issuer ${actual.issuer}); the policy wants ${wanted} (issuer ${policy.issuer})`;
}
