/**
 * SLSA v1 provenance checks: DSSE bundles attached as referrers (fallback tag on a real docker-registry, the
 * referrers API on an OCI 1.1 stub), signed by a private mock sigstore; BuildKit's unsigned in-index
 * provenance never counts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../../src/registry/oci-client.js';
import {
  type ProvenancePolicy,
  type TrustVerdict,
  verifyProvenance,
} from '../../../src/registry/trust/index.js';
import { type Registry, startRegistry } from '../../support/registry.js';
import {
  type Descriptor,
  distributionStore,
  type OciStore,
  pushBuildKitIndex,
  pushBundleReferrer,
  pushFallbackIndex,
  pushTestImage,
  startReferrersRegistry,
} from './oci-store.js';
import { GITHUB_ISSUER, type Identity, type Sigstore, startSigstore, statement } from './sigstore-kit.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/sigstore/${name}`, import.meta.url), 'utf8');
const PREDICATE = JSON.parse(fixture('github-slsa-provenance-v1.predicate.json')) as {
  buildDefinition: { externalParameters: { workflow: { repository: string; ref: string } } };
  runDetails: { builder: { id: string } };
};
const SLSA = 'https://slsa.dev/provenance/v1';
const BUILDER = 'https://github.com/actions/runner/github-hosted';
const REPO = 'https://github.com/acme/app';
const REF = 'refs/tags/v1.4.0';
const RELEASE = `${REPO}/.github/workflows/release.yml@${REF}`;
const ACME: Identity = { subject: RELEASE, issuer: GITHUB_ISSUER, sourceRepository: REPO, ref: REF };
const POLICY: ProvenancePolicy = {
  builder: BUILDER,
  sourceRepository: REPO,
  ref: REF,
  signer: {
    issuer: GITHUB_ISSUER,
    subjectPattern: 'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*',
  },
};

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

/** The fixture predicate with some fields changed. */
function predicate(o: { builder?: string; repository?: string; ref?: string } = {}): object {
  const p = structuredClone(PREDICATE);
  if (o.builder) p.runDetails.builder.id = o.builder;
  if (o.repository) p.buildDefinition.externalParameters.workflow.repository = o.repository;
  if (o.ref) p.buildDefinition.externalParameters.workflow.ref = o.ref;
  return p;
}

async function freshImage(repo: string) {
  const descriptor = await pushTestImage(store, repo, 'v1.4.0', repo);
  return { ref: `${store.host}/${repo}`, descriptor, digest: descriptor.digest };
}

/** Sign `st` as `who` and attach it to `img` the way a registry without the referrers API holds it. */
async function attach(repo: string, img: { descriptor: Descriptor }, st: object, who: Identity = ACME) {
  const bundle = await sigstore.dsseBundle(st, who);
  const referrer = await pushBundleReferrer(store, repo, img.descriptor, bundle, SLSA);
  await pushFallbackIndex(store, repo, img.descriptor.digest, [referrer]);
}

function verify(ref: string, digest: string, policy: ProvenancePolicy = POLICY): Promise<TrustVerdict> {
  return verifyProvenance(client, ref, digest, policy, { trustedRoot: sigstore.trustedRoot });
}

function reasonOf(v: TrustVerdict): string {
  if (v.ok) throw new Error(`expected a rejection, got ${JSON.stringify(v.evidence)}`);
  return v.reason;
}

describe('verifyProvenance', () => {
  it('accepts signed provenance with the wanted builder, source and ref, and reports them', async () => {
    const img = await freshImage('acme/prov-good');
    await attach('acme/prov-good', img, statement(img.ref, img.digest, SLSA, predicate()));
    expect(await verify(img.ref, img.digest)).toEqual({
      ok: true,
      evidence: {
        issuer: GITHUB_ISSUER,
        subject: RELEASE,
        logIndex: expect.stringMatching(/^\d+$/),
        source: 'tag-fallback',
        builder: BUILDER,
        sourceRepository: REPO,
        ref: REF,
      },
    });
  });

  it('rejects another builder', async () => {
    const img = await freshImage('acme/prov-builder');
    const self = 'https://github.com/acme/app/.github/workflows/self-hosted.yml';
    await attach(
      'acme/prov-builder',
      img,
      statement(img.ref, img.digest, SLSA, predicate({ builder: self })),
    );
    expect(reasonOf(await verify(img.ref, img.digest))).toContain(
      `its builder is ${self}; the policy wants ${BUILDER}`,
    );
  });

  it('rejects another source repository', async () => {
    const img = await freshImage('acme/prov-source');
    const fork = 'https://github.com/acme/app-fork';
    const forkBuild: Identity = {
      ...ACME,
      subject: `${fork}/.github/workflows/release.yml@${REF}`,
      sourceRepository: fork,
    };
    await attach(
      'acme/prov-source',
      img,
      statement(img.ref, img.digest, SLSA, predicate({ repository: fork })),
      forkBuild,
    );
    const { signer: _signer, ...fieldsOnly } = POLICY;
    expect(reasonOf(await verify(img.ref, img.digest, fieldsOnly))).toContain(
      `its source repository is ${fork}; the policy wants ${REPO}`,
    );
  });

  it('rejects provenance whose subject is another digest', async () => {
    const img = await freshImage('acme/prov-subject');
    const other = `sha256:${'cd'.repeat(32)}`;
    await attach('acme/prov-subject', img, statement(img.ref, other, SLSA, predicate()));
    expect(reasonOf(await verify(img.ref, img.digest))).toContain(
      `the provenance is for ${other}, not ${img.digest}`,
    );
  });

  it("ignores BuildKit's unsigned in-index provenance, and says so", async () => {
    const img = await freshImage('acme/prov-buildkit');
    const unsigned = JSON.parse(
      fixture('buildkit-provenance.statement.json').replace('SUBJECT_DIGEST', img.digest.slice(7)),
    );
    const index = await pushBuildKitIndex(store, 'acme/prov-buildkit', 'v1.4.0', img.descriptor, unsigned);
    expect(reasonOf(await verify(img.ref, index.digest, { builder: BUILDER }))).toBe(
      `no signed SLSA v1 provenance found for ${index.digest} among its referrers; the image index carries BuildKit's in-index provenance, which is unsigned and does not count`,
    );
    expect(reasonOf(await verify(img.ref, img.digest, { builder: BUILDER }))).toBe(
      `no signed SLSA v1 provenance found for ${img.digest} among its referrers`,
    );
  });

  it('rejects provenance whose certificate was issued to another repository than it claims', async () => {
    const img = await freshImage('acme/prov-forged');
    const evil: Identity = {
      subject: 'https://github.com/evil/x/.github/workflows/forge.yml@refs/heads/main',
      issuer: GITHUB_ISSUER,
      sourceRepository: 'https://github.com/evil/x',
      ref: 'refs/heads/main',
    };
    await attach('acme/prov-forged', img, statement(img.ref, img.digest, SLSA, predicate()), evil);
    const { signer: _signer, ...fieldsOnly } = POLICY;
    expect(reasonOf(await verify(img.ref, img.digest, fieldsOnly))).toContain(
      `it names source repository ${REPO}, but its certificate was issued to https://github.com/evil/x`,
    );
    expect(reasonOf(await verify(img.ref, img.digest))).toContain(`signed by ${evil.subject}`);
  });

  it('finds provenance through the referrers API', async () => {
    const stub = await startReferrersRegistry();
    try {
      const image = await pushTestImage(stub, 'acme/app', 'v1.4.0', 'prov-referrers');
      const ref = `${stub.host}/acme/app`;
      const bundle = await sigstore.dsseBundle(statement(ref, image.digest, SLSA, predicate()), ACME);
      await pushBundleReferrer(stub, 'acme/app', image, bundle, SLSA);
      const v = await verifyProvenance(client, ref, image.digest, POLICY, {
        trustedRoot: sigstore.trustedRoot,
      });
      expect(v.ok && v.evidence.source).toBe('referrers');
    } finally {
      await stub.close();
    }
  });
});
