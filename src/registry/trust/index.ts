/**
 * Does an image digest carry a keyless sigstore signature by a given identity, and an SLSA v1 provenance
 * attestation with given fields? Verified offline against a `trusted_root.json`; the answer is data. "Not signed"
 * and "signed by someone else" are verdicts; only registry errors other than 404 (network, auth) are thrown, so
 * the caller can retry.
 */
import {
  digestTag,
  type Found,
  hasBuildKitAttestations,
  referrerBundles,
  SHA256_DIGEST,
  sigTagSignatures,
} from './discovery.js';
import { identityMismatch, signaturePolicyProblem } from './identity.js';
import {
  COSIGN_SIGN_PREDICATE,
  parseStatement,
  SLSA_PROVENANCE_V1,
  type SlsaFields,
  simpleSigningDigest,
  slsaFields,
} from './statement.js';
import type {
  ProvenancePolicy,
  SignaturePolicy,
  TrustOptions,
  TrustRegistry,
  TrustVerdict,
} from './types.js';
import { type SignedContent, type VerifiedBundle, verifyBundle } from './verify-bundle.js';

export { defaultTrustedRoot } from './trusted-root.js';
export type {
  ProvenancePolicy,
  SignaturePolicy,
  TrustEvidence,
  TrustOptions,
  TrustRegistry,
  TrustSource,
  TrustVerdict,
} from './types.js';

/** Reasons quoted when several candidates were rejected; the rest are counted. */
const REASONS_SHOWN = 3;

const fail = (reason: string): TrustVerdict => ({ ok: false, reason });

function digestProblem(digest: string): string | undefined {
  return SHA256_DIGEST.test(digest) ? undefined : `${digest} is not a sha256 digest (sha256:<64 hex>)`;
}

function rejected(what: string, digest: string, reasons: readonly string[]): TrustVerdict {
  const more = reasons.length > REASONS_SHOWN ? `; and ${reasons.length - REASONS_SHOWN} more` : '';
  return fail(`no acceptable ${what} for ${digest}: ${reasons.slice(0, REASONS_SHOWN).join('; ')}${more}`);
}

/** The image digests a verified signature payload is for. */
function signedImageDigests(content: SignedContent): { digests: readonly string[] } | { reason: string } {
  if (content.kind === 'message') {
    const signed = simpleSigningDigest(content.payload);
    return 'reason' in signed ? signed : { digests: [signed.digest] };
  }
  const statement = parseStatement(content.payloadType, content.payload);
  if ('reason' in statement) return statement;
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE)
    return { reason: `the statement is ${statement.predicateType}, not a cosign signature` };
  return { digests: statement.subjectDigests };
}

function acceptSignature(found: Found, digest: string, policy: SignaturePolicy, root: object): TrustVerdict {
  if (!found.ok) return fail(`${found.where}: ${found.reason}`);
  const v = verifyBundle(found.bundle, found.artifact, root);
  if (!v.ok) return fail(`${found.where}: ${v.reason}`);
  const signed = signedImageDigests(v.content);
  if ('reason' in signed) return fail(`${found.where}: ${signed.reason}`);
  if (!signed.digests.includes(digest))
    return fail(
      `${found.where}: the signature is for ${signed.digests.join(', ') || 'no digest'}, not ${digest}`,
    );
  const mismatch = identityMismatch(policy, v);
  if (mismatch) return fail(`${found.where}: ${mismatch}`);
  return {
    ok: true,
    evidence: {
      issuer: v.issuer,
      subject: v.subject,
      ...(v.logIndex !== undefined && { logIndex: v.logIndex }),
      source: found.source,
    },
  };
}

/**
 * Is `digest` in `image` signed keylessly by the identity in `policy`? Looks at cosign v3 bundles among its
 * referrers (API or fallback tag), then at the legacy `.sig` tag; the first acceptable signature wins.
 */
export async function verifySignature(
  reg: TrustRegistry,
  image: string,
  digest: string,
  policy: SignaturePolicy,
  opts: TrustOptions,
): Promise<TrustVerdict> {
  const problem = digestProblem(digest) ?? signaturePolicyProblem(policy);
  if (problem) return fail(problem);
  const reasons: string[] = [];
  const sources = [
    referrerBundles(reg, image, digest, (t) => t === COSIGN_SIGN_PREDICATE, opts.signal),
    sigTagSignatures(reg, image, digest, opts.signal),
  ];
  for (const source of sources)
    for await (const found of source) {
      const verdict = acceptSignature(found, digest, policy, opts.trustedRoot);
      if (verdict.ok) return verdict;
      reasons.push(verdict.reason);
    }
  if (reasons.length === 0)
    return fail(
      `no signature found for ${digest} (no cosign signature among its referrers, no ${digestTag(digest)}.sig tag)`,
    );
  return rejected('signature', digest, reasons);
}

const FIELD_LABELS: Record<keyof SlsaFields, string> = {
  builder: 'builder',
  sourceRepository: 'source repository',
  ref: 'ref',
};

function fieldMismatch(policy: ProvenancePolicy, fields: SlsaFields): string | undefined {
  for (const key of ['builder', 'sourceRepository', 'ref'] as const) {
    const want = policy[key];
    if (want !== undefined && fields[key] !== want)
      return `its ${FIELD_LABELS[key]} is ${fields[key] ?? 'not stated'}; the policy wants ${want}`;
  }
  return undefined;
}

/**
 * Fulcio writes the repository and ref of a CI token into the certificate. A predicate naming others was not
 * written by that build, whatever the policy asks.
 */
function certificateMismatch(v: VerifiedBundle, fields: SlsaFields): string | undefined {
  if (v.certSourceRepository && fields.sourceRepository && v.certSourceRepository !== fields.sourceRepository)
    return `it names source repository ${fields.sourceRepository}, but its certificate was issued to ${v.certSourceRepository}`;
  if (v.certSourceRef && fields.ref && v.certSourceRef !== fields.ref)
    return `it names ref ${fields.ref}, but its certificate was issued for ${v.certSourceRef}`;
  return undefined;
}

function acceptProvenance(
  found: Found,
  digest: string,
  policy: ProvenancePolicy,
  root: object,
): TrustVerdict {
  if (!found.ok) return fail(`${found.where}: ${found.reason}`);
  const v = verifyBundle(found.bundle, found.artifact, root);
  if (!v.ok) return fail(`${found.where}: ${v.reason}`);
  if (v.content.kind !== 'dsse') return fail(`${found.where}: it is a signature, not an attestation`);
  const statement = parseStatement(v.content.payloadType, v.content.payload);
  if ('reason' in statement) return fail(`${found.where}: ${statement.reason}`);
  if (statement.predicateType !== SLSA_PROVENANCE_V1)
    return fail(`${found.where}: the statement is ${statement.predicateType}, not ${SLSA_PROVENANCE_V1}`);
  if (!statement.subjectDigests.includes(digest))
    return fail(
      `${found.where}: the provenance is for ${statement.subjectDigests.join(', ') || 'no digest'}, not ${digest}`,
    );
  const mismatch = policy.signer && identityMismatch(policy.signer, v);
  if (mismatch) return fail(`${found.where}: ${mismatch}`);
  const fields = slsaFields(statement.predicate);
  const wrong = certificateMismatch(v, fields) ?? fieldMismatch(policy, fields);
  if (wrong) return fail(`${found.where}: ${wrong}`);
  return {
    ok: true,
    evidence: {
      issuer: v.issuer,
      subject: v.subject,
      ...(v.logIndex !== undefined && { logIndex: v.logIndex }),
      source: found.source,
      ...fields,
    },
  };
}

/**
 * Does `digest` in `image` carry a signed SLSA v1 provenance attestation (a DSSE bundle among its referrers)
 * with the fields in `policy`? BuildKit's in-index provenance is unsigned and never counts.
 */
export async function verifyProvenance(
  reg: TrustRegistry,
  image: string,
  digest: string,
  policy: ProvenancePolicy,
  opts: TrustOptions,
): Promise<TrustVerdict> {
  const problem = digestProblem(digest) ?? (policy.signer && signaturePolicyProblem(policy.signer));
  if (problem) return fail(problem);
  const reasons: string[] = [];
  for await (const found of referrerBundles(
    reg,
    image,
    digest,
    (t) => t === SLSA_PROVENANCE_V1,
    opts.signal,
  )) {
    const verdict = acceptProvenance(found, digest, policy, opts.trustedRoot);
    if (verdict.ok) return verdict;
    reasons.push(verdict.reason);
  }
  if (reasons.length > 0) return rejected('SLSA v1 provenance', digest, reasons);
  const buildKit = await hasBuildKitAttestations(reg, image, digest, opts.signal);
  return fail(
    `no signed SLSA v1 provenance found for ${digest} among its referrers` +
      (buildKit
        ? "; the image index carries BuildKit's in-index provenance, which is unsigned and does not count"
        : ''),
  );
}
