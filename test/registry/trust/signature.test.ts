/**
 * Keyless signature checks against a real Distribution registry (no referrers API: the `.sig` tag and the
 * referrers fallback tag) and an OCI 1.1 registry stub (the referrers API), with material from a private
 * sigstore and a trusted root made for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryUnavailableError } from '../../../src/core/errors.js';
import { OciRegistryClient } from '../../../src/registry/oci-client.js';
import {
  type SignaturePolicy,
  type TrustVerdict,
  verifySignature,
} from '../../../src/registry/trust/index.js';
import { type Registry, startRegistry } from '../../support/registry.js';
import {
  distributionStore,
  type OciStore,
  pushBundleReferrer,
  pushFallbackIndex,
  pushSigTag,
  pushTestImage,
  type ReferrersRegistry,
  startReferrersRegistry,
} from './oci-store.js';
import {
  GITHUB_ISSUER,
  type Identity,
  type Sigstore,
  simpleSigningPayload,
  startSigstore,
  statement,
} from './sigstore-kit.js';

const RELEASE = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ACME: Identity = { subject: RELEASE, issuer: GITHUB_ISSUER };
const POLICY: SignaturePolicy = { issuer: GITHUB_ISSUER, subject: RELEASE };
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';

let registry: Registry;
let store: OciStore;
let sigstore: Sigstore;
const client = new OciRegistryClient({ retry: { attempts: 1 } });

beforeAll(async () => {
  [registry, sigstore] = await Promise.all([startRegistry(), startSigstore()]);
  store = distributionStore(registry.url);
});
afterAll(async () => {
  await registry?.stop();
});

/** A fresh image in its own repository, so cases do not see each other's signatures. */
async function freshImage(repo: string) {
  const image = await pushTestImage(store, repo, 'v1', repo);
  return { ref: `${store.host}/${repo}`, descriptor: image, digest: image.digest };
}

/** A legacy cosign signature of `digest` by `who`, pushed under the `.sig` tag of `repo`. */
async function signLegacy(repo: string, digest: string, who: Identity = ACME, o: { tlog?: boolean } = {}) {
  const layer = await sigstore.legacySignature(simpleSigningPayload(`${store.host}/${repo}`, digest), who, o);
  await pushSigTag(store, repo, digest, [layer]);
  return layer;
}

function verify(ref: string, digest: string, policy: SignaturePolicy = POLICY): Promise<TrustVerdict> {
  return verifySignature(client, ref, digest, policy, { trustedRoot: sigstore.trustedRoot });
}

function reasonOf(v: TrustVerdict): string {
  if (v.ok) throw new Error(`expected a rejection, got ${JSON.stringify(v.evidence)}`);
  return v.reason;
}

describe('verifySignature: legacy cosign .sig tag on a real docker-registry', () => {
  it('accepts a good keyless signature, with issuer, subject and log index as evidence', async () => {
    const img = await freshImage('acme/good');
    await signLegacy('acme/good', img.digest);
    const v = await verify(img.ref, img.digest);
    expect(v).toEqual({
      ok: true,
      evidence: {
        issuer: GITHUB_ISSUER,
        subject: RELEASE,
        logIndex: expect.stringMatching(/^\d+$/),
        source: 'sig-tag',
      },
    });
  });

  it('rejects a signature by another identity, naming who signed and who the policy wants', async () => {
    const img = await freshImage('acme/wrong-identity');
    const evil = 'https://github.com/evil/x/.github/workflows/release.yml@refs/heads/main';
    await signLegacy('acme/wrong-identity', img.digest, { subject: evil, issuer: GITHUB_ISSUER });
    const reason = reasonOf(await verify(img.ref, img.digest));
    expect(reason).toContain(`signed by ${evil} (issuer ${GITHUB_ISSUER}); the policy wants ${RELEASE}`);
    expect(reason).not.toContain('\n');
  });

  it('rejects the right subject from another issuer', async () => {
    const img = await freshImage('acme/wrong-issuer');
    await signLegacy('acme/wrong-issuer', img.digest, {
      subject: RELEASE,
      issuer: 'https://accounts.example.com',
    });
    expect(reasonOf(await verify(img.ref, img.digest))).toContain(
      `(issuer https://accounts.example.com); the policy wants ${RELEASE} (issuer ${GITHUB_ISSUER})`,
    );
  });

  it('rejects a tampered payload', async () => {
    const img = await freshImage('acme/tampered');
    const good = await sigstore.legacySignature(
      simpleSigningPayload(`${store.host}/acme/tampered`, img.digest),
      ACME,
    );
    const payload = Buffer.from(good.payload.toString().replace('acme/tampered', 'acme/tampereX'));
    await pushSigTag(store, 'acme/tampered', img.digest, [{ payload, annotations: good.annotations }]);
    expect(reasonOf(await verify(img.ref, img.digest))).toMatch(/does not verify/);
  });

  it('rejects a signature with no transparency-log entry', async () => {
    const img = await freshImage('acme/no-tlog');
    await signLegacy('acme/no-tlog', img.digest, ACME, { tlog: false });
    expect(reasonOf(await verify(img.ref, img.digest))).toContain('has no transparency-log entry');
  });

  it('rejects a signature made for another digest, copied under this digest', async () => {
    const img = await freshImage('acme/other-digest');
    const other = await freshImage('acme/other-digest-2');
    const layer = await sigstore.legacySignature(simpleSigningPayload(other.ref, other.digest), ACME);
    await pushSigTag(store, 'acme/other-digest', img.digest, [layer]);
    expect(reasonOf(await verify(img.ref, img.digest))).toContain(
      `the signature is for ${other.digest}, not ${img.digest}`,
    );
  });

  it('says "no signature found" for an unsigned image', async () => {
    const img = await freshImage('acme/unsigned');
    expect(reasonOf(await verify(img.ref, img.digest))).toMatch(
      new RegExp(`^no signature found for ${img.digest}`),
    );
  });

  it('rejects a key-based signature (no certificate): only keyless counts', async () => {
    const img = await freshImage('acme/keyed');
    const layer = await sigstore.legacySignature(simpleSigningPayload(img.ref, img.digest), ACME);
    const {
      'dev.sigstore.cosign/certificate': _cert,
      'dev.sigstore.cosign/chain': _chain,
      ...keyed
    } = layer.annotations;
    await pushSigTag(store, 'acme/keyed', img.digest, [{ payload: layer.payload, annotations: keyed }]);
    expect(reasonOf(await verify(img.ref, img.digest))).toContain('not keylessly');
  });

  it('accepts when one of several signatures is acceptable, and lists the rejected ones otherwise', async () => {
    const img = await freshImage('acme/several');
    const evil = await sigstore.legacySignature(simpleSigningPayload(img.ref, img.digest), {
      subject: 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main',
      issuer: GITHUB_ISSUER,
    });
    const good = await sigstore.legacySignature(simpleSigningPayload(img.ref, img.digest), ACME);
    await pushSigTag(store, 'acme/several', img.digest, [evil, good]);
    expect((await verify(img.ref, img.digest)).ok).toBe(true);
    await pushSigTag(store, 'acme/several', img.digest, [evil, evil]);
    expect(reasonOf(await verify(img.ref, img.digest))).toMatch(
      /^no acceptable signature for .*evil.*; .*evil/,
    );
  });
});

describe('verifySignature: subject patterns are anchored', () => {
  // Each trap: a pattern someone would write, and a subject an unanchored search accepts.
  const traps = [
    {
      name: 'a prefix trick',
      pattern: 'https://github.com/acme/.*',
      subject:
        'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main?https://github.com/acme/app',
    },
    {
      name: 'a look-alike repository (app.evil.com)',
      pattern: 'https://github.com/acme/app',
      subject: 'https://github.com/acme/app.evil.com/.github/workflows/release.yml@refs/heads/main',
    },
    {
      name: 'a suffix trick on the ref',
      pattern: 'https://github.com/acme/app/\\.github/workflows/release\\.yml@refs/heads/main',
      subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main-evil',
    },
    {
      name: 'an alternation that naive ^…$ anchors only at its ends',
      pattern: 'https://github.com/acme/app/.*|https://github.com/acme/lib/.*',
      subject:
        'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main#https://github.com/acme/lib/x',
    },
  ];

  it.each(traps)('blocks $name', async ({ pattern, subject }) => {
    // The trap is real: an unanchored search (and the naive ^pattern$) accepts the subject.
    expect(new RegExp(pattern).test(subject)).toBe(true);
    const repo = `acme/trap-${traps.findIndex((t) => t.subject === subject)}`;
    const img = await freshImage(repo);
    await signLegacy(repo, img.digest, { subject, issuer: GITHUB_ISSUER });
    const reason = reasonOf(
      await verify(img.ref, img.digest, { issuer: GITHUB_ISSUER, subjectPattern: pattern }),
    );
    expect(reason).toContain(`the policy wants a match of ^(?:${pattern})$`);
  });

  it('still accepts what the anchored pattern describes', async () => {
    const img = await freshImage('acme/pattern-ok');
    await signLegacy('acme/pattern-ok', img.digest);
    const v = await verify(img.ref, img.digest, {
      issuer: GITHUB_ISSUER,
      subjectPattern: 'https://github.com/acme/.*',
    });
    expect(v.ok).toBe(true);
  });

  it('rejects a policy with both subject and pattern, or an invalid pattern, without reading the registry', async () => {
    const img = await freshImage('acme/bad-policy');
    expect(
      reasonOf(
        await verify(img.ref, img.digest, { issuer: GITHUB_ISSUER, subject: RELEASE, subjectPattern: '.*' }),
      ),
    ).toBe('the signature policy needs exactly one of subject and subjectPattern');
    expect(
      reasonOf(await verify(img.ref, img.digest, { issuer: GITHUB_ISSUER, subjectPattern: '(' })),
    ).toMatch(/^subjectPattern: invalid RE2 regular expression/);
  });
});

describe('verifySignature: cosign v3 bundles as referrers', () => {
  let stub: ReferrersRegistry;
  beforeAll(async () => {
    stub = await startReferrersRegistry();
  });
  afterAll(async () => {
    await stub?.close();
  });

  it('finds a bundle through the referrers API (OCI 1.1 registry)', async () => {
    const image = await pushTestImage(stub, 'acme/app', 'v1', 'referrers-api');
    const ref = `${stub.host}/acme/app`;
    const bundle = await sigstore.dsseBundle(statement(ref, image.digest, COSIGN_SIGN), ACME);
    await pushBundleReferrer(stub, 'acme/app', image, bundle, COSIGN_SIGN);
    const v = await verifySignature(client, ref, image.digest, POLICY, { trustedRoot: sigstore.trustedRoot });
    expect(v).toEqual({
      ok: true,
      evidence: {
        issuer: GITHUB_ISSUER,
        subject: RELEASE,
        logIndex: expect.stringMatching(/^\d+$/),
        source: 'referrers',
      },
    });
    expect(stub.seen).toContain(
      `GET /v2/acme/app/referrers/${image.digest}?artifactType=${encodeURIComponent('application/vnd.dev.sigstore.bundle.v0.3+json')}`,
    );
  });

  it('finds a bundle through the fallback tag on a registry without the referrers API', async () => {
    const img = await freshImage('acme/fallback');
    const bundle = await sigstore.dsseBundle(statement(img.ref, img.digest, COSIGN_SIGN), ACME);
    const referrer = await pushBundleReferrer(store, 'acme/fallback', img.descriptor, bundle, COSIGN_SIGN);
    await pushFallbackIndex(store, 'acme/fallback', img.digest, [referrer]);
    const v = await verify(img.ref, img.digest);
    expect(v.ok && v.evidence.source).toBe('tag-fallback');
  });

  it('rejects a bundle whose statement is about another digest', async () => {
    const img = await freshImage('acme/bundle-other');
    const other = `sha256:${'ab'.repeat(32)}`;
    const bundle = await sigstore.dsseBundle(statement(img.ref, other, COSIGN_SIGN), ACME);
    const referrer = await pushBundleReferrer(
      store,
      'acme/bundle-other',
      img.descriptor,
      bundle,
      COSIGN_SIGN,
    );
    await pushFallbackIndex(store, 'acme/bundle-other', img.digest, [referrer]);
    expect(reasonOf(await verify(img.ref, img.digest))).toContain(
      `the signature is for ${other}, not ${img.digest}`,
    );
  });

  it('rejects a bundle with its log entry removed, and one with a tampered envelope', async () => {
    const img = await freshImage('acme/bundle-bad');
    const good = await sigstore.dsseBundle(statement(img.ref, img.digest, COSIGN_SIGN), ACME);
    const noTlog = structuredClone(good) as { verificationMaterial: { tlogEntries: unknown[] } };
    noTlog.verificationMaterial.tlogEntries = [];
    const tampered = structuredClone(good) as { dsseEnvelope: { payload: string } };
    const st = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString()) as {
      subject: { name: string }[];
    };
    st.subject[0]!.name = 'ghcr.io/evil/x';
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    const referrers = [
      await pushBundleReferrer(store, 'acme/bundle-bad', img.descriptor, noTlog, COSIGN_SIGN),
      await pushBundleReferrer(store, 'acme/bundle-bad', img.descriptor, tampered, COSIGN_SIGN),
    ];
    await pushFallbackIndex(store, 'acme/bundle-bad', img.digest, referrers);
    const reason = reasonOf(await verify(img.ref, img.digest));
    expect(reason).toContain(`referrer ${referrers[0]!.digest}: it has no transparency-log entry`);
    expect(reason).toMatch(new RegExp(`referrer ${referrers[1]!.digest}: it does not verify`));
  });

  it('throws, rather than answering "not signed", when the registry cannot be reached', async () => {
    const gone = await startReferrersRegistry();
    await gone.close();
    await expect(
      verifySignature(client, `${gone.host}/acme/app`, `sha256:${'0'.repeat(64)}`, POLICY, {
        trustedRoot: sigstore.trustedRoot,
      }),
    ).rejects.toBeInstanceOf(RegistryUnavailableError);
  });
});
