/**
 * cosign's legacy signature layout (the `sha256-<hex>.sig` tag): each layer is a simple-signing payload, and its
 * annotations carry the signature, the Fulcio certificate and chain, and the Rekor entry with its signed entry
 * timestamp (no inclusion proof). Rewritten as a sigstore v0.1 bundle, which `@sigstore/verify` checks like any
 * other: certificate chain and SCT, the log's promise, the log body against the signature, the signature.
 */
import { createHash, X509Certificate } from 'node:crypto';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE = 'dev.cosignproject.cosign/signature';
const CERTIFICATE = 'dev.sigstore.cosign/certificate';
const REKOR_BUNDLE = 'dev.sigstore.cosign/bundle';
const BUNDLE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

/** cosign's `dev.sigstore.cosign/bundle` annotation. */
interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

function parseRekorBundle(text: string): RekorBundle | undefined {
  try {
    const b = JSON.parse(text) as RekorBundle;
    const p = b?.Payload;
    const ok =
      typeof b.SignedEntryTimestamp === 'string' &&
      typeof p?.body === 'string' &&
      Number.isSafeInteger(p.integratedTime) &&
      Number.isSafeInteger(p.logIndex) &&
      typeof p.logID === 'string';
    return ok ? b : undefined;
  } catch {
    return undefined;
  }
}

/** The log entry's kind and version are inside its canonical body. */
function kindVersion(body: string): { kind: string; version: string } | undefined {
  try {
    const entry = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as {
      kind?: unknown;
      apiVersion?: unknown;
    };
    if (typeof entry.kind === 'string' && typeof entry.apiVersion === 'string')
      return { kind: entry.kind, version: entry.apiVersion };
  } catch {}
  return undefined;
}

/**
 * A v0.1 sigstore bundle (JSON) for one `.sig` layer whose blob is `payload`, or a reason there can be none. A
 * missing Rekor annotation gives a bundle with no log entry, which verification then rejects as such.
 */
export function legacySignatureBundle(
  annotations: Readonly<Record<string, string>>,
  payload: Buffer,
): { bundle: object } | { reason: string } {
  const signature = annotations[SIGNATURE];
  if (!signature) return { reason: `the layer has no ${SIGNATURE} annotation` };
  const pem = annotations[CERTIFICATE];
  if (!pem)
    return { reason: 'signed with a key, not keylessly (no certificate); only keyless signatures count' };
  let certDer: Buffer;
  try {
    certDer = new X509Certificate(pem).raw;
  } catch {
    return { reason: `the ${CERTIFICATE} annotation is not a PEM certificate` };
  }
  const tlogEntries = [];
  const rekorText = annotations[REKOR_BUNDLE];
  if (rekorText) {
    const rekor = parseRekorBundle(rekorText);
    const kv = rekor && kindVersion(rekor.Payload.body);
    if (!rekor || !kv) return { reason: `the ${REKOR_BUNDLE} annotation is not a Rekor bundle` };
    tlogEntries.push({
      logIndex: String(rekor.Payload.logIndex),
      logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex').toString('base64') },
      kindVersion: kv,
      integratedTime: String(rekor.Payload.integratedTime),
      inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
      canonicalizedBody: rekor.Payload.body,
    });
  }
  return {
    bundle: {
      mediaType: BUNDLE_V01,
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: certDer.toString('base64') }] },
        tlogEntries,
      },
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: createHash('sha256').update(payload).digest('base64'),
        },
        signature,
      },
    },
  };
}
