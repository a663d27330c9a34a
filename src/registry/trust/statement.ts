/**
 * The signed payloads: cosign's simple-signing JSON (legacy `.sig`), and in-toto statements (cosign v3
 * signatures, SLSA provenance). Parsers return the fields that are checked, or a reason string.
 */

export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];
const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface Statement {
  readonly predicateType: string;
  /** Subject digests as `sha256:<hex>`. */
  readonly subjectDigests: readonly string[];
  readonly predicate: unknown;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The image digest a simple-signing payload signs, or a reason it signs no image. */
export function simpleSigningDigest(payload: Buffer): { digest: string } | { reason: string } {
  const doc = parseJson(payload);
  const critical = isObject(doc) && isObject(doc.critical) ? doc.critical : undefined;
  const type = critical?.type;
  if (typeof type !== 'string' || type.toLowerCase() !== COSIGN_SIGNATURE_TYPE)
    return { reason: `the signed payload is not a ${COSIGN_SIGNATURE_TYPE}` };
  const digest = isObject(critical?.image) ? critical.image['docker-manifest-digest'] : undefined;
  if (typeof digest !== 'string') return { reason: 'the signed payload names no image digest' };
  return { digest };
}

/** An in-toto statement from a DSSE payload, or a reason it is none. */
export function parseStatement(payloadType: string, payload: Buffer): Statement | { reason: string } {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return { reason: `the envelope holds ${payloadType}, not an in-toto statement` };
  const doc = parseJson(payload);
  if (!isObject(doc) || !IN_TOTO_STATEMENT_TYPES.includes(String(doc._type)))
    return { reason: 'the envelope payload is not an in-toto statement' };
  if (typeof doc.predicateType !== 'string' || !Array.isArray(doc.subject))
    return { reason: 'the in-toto statement has no predicateType or subject' };
  const subjectDigests = doc.subject.flatMap((s: unknown) =>
    isObject(s) && isObject(s.digest) && typeof s.digest.sha256 === 'string'
      ? [`sha256:${s.digest.sha256.toLowerCase()}`]
      : [],
  );
  return { predicateType: doc.predicateType, subjectDigests, predicate: doc.predicate };
}

/**
 * The predicate type a DSSE bundle claims, read before verification only to skip material of another kind
 * (a provenance attestation is not a signature); whatever is then checked is read again after verification.
 */
export function peekPredicateType(bundle: unknown): string | undefined {
  const env = isObject(bundle) && isObject(bundle.dsseEnvelope) ? bundle.dsseEnvelope : undefined;
  if (typeof env?.payload !== 'string') return undefined;
  const doc = parseJson(Buffer.from(env.payload, 'base64'));
  return isObject(doc) && typeof doc.predicateType === 'string' ? doc.predicateType : undefined;
}

export interface SlsaFields {
  readonly builder?: string;
  readonly sourceRepository?: string;
  readonly ref?: string;
}

/**
 * Builder, source repository and ref of an SLSA v1 predicate. GitHub's build types put the source in
 * `externalParameters.workflow`; other builders name it only as a `git+<repo>@<ref>` resolved dependency.
 */
export function slsaFields(predicate: unknown): SlsaFields {
  const p = isObject(predicate) ? predicate : {};
  const run = isObject(p.runDetails) ? p.runDetails : {};
  const def = isObject(p.buildDefinition) ? p.buildDefinition : {};
  const ext = isObject(def.externalParameters) ? def.externalParameters : {};
  const workflow = isObject(ext.workflow) ? ext.workflow : {};
  const builder = isObject(run.builder) && typeof run.builder.id === 'string' ? run.builder.id : undefined;
  let sourceRepository = typeof workflow.repository === 'string' ? workflow.repository : undefined;
  let ref = typeof workflow.ref === 'string' ? workflow.ref : undefined;
  if (!sourceRepository && Array.isArray(def.resolvedDependencies)) {
    const git = def.resolvedDependencies.find(
      (d: unknown) => isObject(d) && typeof d.uri === 'string' && d.uri.startsWith('git+'),
    ) as { uri: string } | undefined;
    const m = git ? /^git\+(.+?)(?:@(refs\/.+))?$/.exec(git.uri) : null;
    if (m) {
      sourceRepository = m[1];
      ref ??= m[2];
    }
  }
  return {
    ...(builder !== undefined && { builder }),
    ...(sourceRepository !== undefined && { sourceRepository }),
    ...(ref !== undefined && { ref }),
  };
}
