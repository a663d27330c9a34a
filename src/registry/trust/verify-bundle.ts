/**
 * One sigstore bundle, verified offline against a trusted root: certificate chain to a trusted CA at the time
 * the log recorded it, an SCT, a transparency-log entry that matches the signature, and the signature itself.
 * Identity is not checked here (see `identity.ts`): the verifier's own SAN check is an unanchored regex.
 */
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { ASN1Obj } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type Signer, toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';

/** Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
const OID_SOURCE_REPOSITORY_URI = '1.3.6.1.4.1.57264.1.12';
const OID_SOURCE_REPOSITORY_REF = '1.3.6.1.4.1.57264.1.14';

/** What was signed. */
export type SignedContent =
  | { readonly kind: 'message'; readonly payload: Buffer }
  | { readonly kind: 'dsse'; readonly payloadType: string; readonly payload: Buffer };

export interface VerifiedBundle {
  readonly ok: true;
  readonly issuer: string;
  readonly subject: string;
  readonly logIndex?: string;
  /** The repository and ref Fulcio wrote into the certificate from the OIDC token, when it did (CI issuers). */
  readonly certSourceRepository?: string;
  readonly certSourceRef?: string;
  readonly content: SignedContent;
}

/** Trust material is parsed once per trusted-root object. */
const verifiers = new WeakMap<object, Verifier>();

function verifierFor(trustedRoot: object): Verifier {
  let v = verifiers.get(trustedRoot);
  if (!v) {
    // Defaults made explicit: one log entry, one SCT and one timestamp (the log's) are required.
    v = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)), {
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    });
    verifiers.set(trustedRoot, v);
  }
  return v;
}

/** A Fulcio v2 extension's value: the extension holds a DER UTF8String. */
function extensionText(signer: Signer, oid: string): string | undefined {
  const id = oid.split('.').map(Number);
  const ext = signer.identity?.oids?.find(
    (o) => o.oid?.id.length === id.length && o.oid.id.every((n, i) => n === id[i]),
  );
  if (!ext) return undefined;
  try {
    return ASN1Obj.parseBuffer(Buffer.from(ext.value)).value.toString('utf8');
  } catch {
    return undefined;
  }
}

function signedContent(bundle: Bundle, artifact: Buffer | undefined): SignedContent | string {
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    return { kind: 'dsse', payloadType: env.payloadType, payload: Buffer.from(env.payload) };
  }
  if (!artifact) return 'the bundle signs content that is not stored with it';
  return { kind: 'message', payload: artifact };
}

/**
 * Verify `bundleJson` (with `artifact`, the signed bytes, for a message signature). A reason on failure; this
 * never throws for bad material, only for an unusable trusted root.
 */
export function verifyBundle(
  bundleJson: unknown,
  artifact: Buffer | undefined,
  trustedRoot: object,
): VerifiedBundle | { readonly ok: false; readonly reason: string } {
  const verifier = verifierFor(trustedRoot);
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(bundleJson);
  } catch (err) {
    return { ok: false, reason: `not a valid sigstore bundle (${(err as Error).message})` };
  }
  const material = bundle.verificationMaterial;
  if (material.content.$case === 'publicKey')
    return { ok: false, reason: 'signed with a key, not keylessly; only keyless signatures count' };
  // Checked before the verifier, which would report the missing entry as a missing timestamp.
  if (material.tlogEntries.length === 0) return { ok: false, reason: 'it has no transparency-log entry' };
  const content = signedContent(bundle, artifact);
  if (typeof content === 'string') return { ok: false, reason: content };
  let signer: Signer;
  try {
    signer = verifier.verify(toSignedEntity(bundle, artifact));
  } catch (err) {
    // Malformed material makes the verifier throw plain errors too; either way this bundle proves nothing.
    return { ok: false, reason: `it does not verify: ${describe(err)}` };
  }
  const subject = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  if (!subject || !issuer)
    return { ok: false, reason: 'its certificate names no subject or issuer (not a Fulcio certificate)' };
  const certSourceRepository = extensionText(signer, OID_SOURCE_REPOSITORY_URI);
  const certSourceRef = extensionText(signer, OID_SOURCE_REPOSITORY_REF);
  const logIndex = material.tlogEntries[0]?.logIndex;
  return {
    ok: true,
    issuer,
    subject,
    ...(logIndex !== undefined && { logIndex }),
    ...(certSourceRepository !== undefined && { certSourceRepository }),
    ...(certSourceRef !== undefined && { certSourceRef }),
    content,
  };
}

/** `VerificationError`s carry a code such as `TLOG_INCLUSION_PROOF_ERROR`. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${code.toLowerCase().replace(/_/g, ' ')}: ${message}` : message;
}
