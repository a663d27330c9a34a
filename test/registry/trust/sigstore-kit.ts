/**
 * A private sigstore for tests: a Fulcio-like CA with a CT log and a Rekor log (`@sigstore/mock`), all on one
 * fixed clock, and the `trusted_root.json` that trusts exactly them. It signs what cosign signs: legacy `.sig`
 * layers (simple-signing payload, certificate, Rekor bundle annotation) and cosign v3 / GitHub-style DSSE
 * bundles of in-toto statements.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { initializeCA, initializeCTLog, initializeTLog } from '@sigstore/mock';

const TRUSTED_SINCE = '2025-01-01T00:00:00Z';
const REKOR_URL = 'https://rekor.tidemark.test';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const IN_TOTO = 'application/vnd.in-toto+json';

/** Who a certificate is issued to, and the CI claims Fulcio copies into it. */
export interface Identity {
  readonly subject: string;
  readonly issuer: string;
  readonly sourceRepository?: string;
  readonly ref?: string;
}

export interface LegacyLayer {
  readonly payload: Buffer;
  readonly annotations: Record<string, string>;
}

export interface Sigstore {
  readonly trustedRoot: object;
  /** A `.sig` layer signing `payload` (see `simpleSigningPayload`); `tlog: false` leaves out the Rekor bundle. */
  legacySignature(payload: Buffer, who: Identity, o?: { tlog?: boolean }): Promise<LegacyLayer>;
  /** A sigstore bundle v0.3 with a DSSE envelope of `statement`, logged in Rekor with an inclusion proof. */
  dsseBundle(statement: object, who: Identity): Promise<Record<string, unknown>>;
}

/** The mock hands out `ArrayBufferView`s. */
const bytes = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();
const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/** The Rekor v1 entry the mock logs: one value keyed by its UUID. */
interface LoggedEntry {
  body: string;
  integratedTime: number;
  logIndex: number;
  logID: string;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: {
      logIndex: number;
      rootHash: string;
      treeSize: number;
      hashes: string[];
      checkpoint: string;
    };
  };
}

function onlyEntry(logged: object): LoggedEntry {
  return Object.values(logged)[0] as LoggedEntry;
}

function trustedRootFor(caRoot: Buffer, ctlogId: Buffer, ctlogKey: Buffer, tlogKey: Buffer): object {
  const validFor = { start: TRUSTED_SINCE };
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: REKOR_URL,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
        logId: { keyId: b64(sha256(tlogKey)) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: 'https://fulcio.tidemark.test',
        certChain: { certificates: [{ rawBytes: b64(caRoot) }] },
        validFor,
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ct.tidemark.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
        logId: { keyId: b64(ctlogId) },
      },
    ],
    timestampAuthorities: [],
  };
}

export async function startSigstore(): Promise<Sigstore> {
  // Every certificate is issued and every entry logged at this one instant, so no verdict depends on how long
  // a test takes. It cannot be a constant: the mock's root certificate is valid from the wall-clock moment it is
  // made, for a year; a minute after that is inside it.
  const CLOCK = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
  const ctlog = await initializeCTLog(ecKeys(), CLOCK);
  const ca = await initializeCA(ecKeys(), ctlog, CLOCK);
  const tlog = await initializeTLog(REKOR_URL, ecKeys(), CLOCK);
  const caPem = new X509Certificate(bytes(ca.rootCertificate)).toString();

  /** A fresh key and a certificate for it, as Fulcio issues per signing. */
  async function issue(who: Identity): Promise<{ key: KeyObject; der: Buffer; pem: string }> {
    const { publicKey, privateKey } = ecKeys();
    const extensions = [
      { oid: '1.3.6.1.4.1.57264.1.1', value: who.issuer, legacy: true },
      { oid: '1.3.6.1.4.1.57264.1.8', value: who.issuer },
      ...(who.sourceRepository ? [{ oid: '1.3.6.1.4.1.57264.1.12', value: who.sourceRepository }] : []),
      ...(who.ref ? [{ oid: '1.3.6.1.4.1.57264.1.14', value: who.ref }] : []),
    ];
    const der = bytes(
      await ca.issueCertificate({
        publicKey: publicKey.export({ format: 'der', type: 'spki' }),
        subjectAltName: who.subject,
        extensions,
      }),
    );
    return { key: privateKey, der, pem: new X509Certificate(der).toString() };
  }

  return {
    trustedRoot: trustedRootFor(
      bytes(ca.rootCertificate),
      bytes(ctlog.logID),
      ctlog.publicKey,
      tlog.publicKey,
    ),

    async legacySignature(payload, who, o = {}) {
      const cert = await issue(who);
      const signature = sign('sha256', payload, cert.key);
      const annotations: Record<string, string> = {
        'dev.cosignproject.cosign/signature': b64(signature),
        'dev.sigstore.cosign/certificate': cert.pem,
        'dev.sigstore.cosign/chain': caPem,
      };
      if (o.tlog !== false) {
        const e = onlyEntry(
          await tlog.log({
            apiVersion: '0.0.1',
            kind: 'hashedrekord',
            spec: {
              data: { hash: { algorithm: 'sha256', value: sha256(payload).toString('hex') } },
              signature: { content: b64(signature), publicKey: { content: b64(cert.pem) } },
            },
          }),
        );
        annotations['dev.sigstore.cosign/bundle'] = JSON.stringify({
          SignedEntryTimestamp: e.verification.signedEntryTimestamp,
          Payload: { body: e.body, integratedTime: e.integratedTime, logIndex: e.logIndex, logID: e.logID },
        });
      }
      return { payload, annotations };
    },

    async dsseBundle(statement, who) {
      const cert = await issue(who);
      const payload = Buffer.from(JSON.stringify(statement));
      const sig = sign('sha256', dsse.preAuthEncoding(IN_TOTO, payload), cert.key);
      const e = onlyEntry(
        await tlog.log({
          apiVersion: '0.0.1',
          kind: 'dsse',
          spec: {
            payloadHash: { algorithm: 'sha256', value: sha256(payload).toString('hex') },
            signatures: [{ signature: b64(sig), verifier: b64(cert.pem) }],
          },
        }),
      );
      const p = e.verification.inclusionProof;
      return {
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: {
          certificate: { rawBytes: b64(cert.der) },
          tlogEntries: [
            {
              logIndex: String(e.logIndex),
              logId: { keyId: b64(Buffer.from(e.logID, 'hex')) },
              kindVersion: { kind: 'dsse', version: '0.0.1' },
              integratedTime: String(e.integratedTime),
              inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
              inclusionProof: {
                logIndex: String(p.logIndex),
                rootHash: b64(Buffer.from(p.rootHash, 'hex')),
                treeSize: String(p.treeSize),
                hashes: p.hashes,
                checkpoint: { envelope: p.checkpoint },
              },
              canonicalizedBody: e.body,
            },
          ],
        },
        dsseEnvelope: {
          payload: b64(payload),
          payloadType: IN_TOTO,
          signatures: [{ sig: b64(sig), keyid: '' }],
        },
      };
    },
  };
}

/** cosign's simple-signing payload for an image digest. */
export function simpleSigningPayload(image: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': image },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** An in-toto v1 statement about one image digest. */
export function statement(
  image: string,
  digest: string,
  predicateType: string,
  predicate: object = {},
): object {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: image, digest: { sha256: digest.replace(/^sha256:/, '') } }],
    predicateType,
    predicate,
  };
}
