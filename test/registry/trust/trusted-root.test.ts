/**
 * The embedded public-good trusted root verifies real public-good material offline: a GitHub SLSA v1
 * provenance bundle (Fulcio certificate, Rekor entry with inclusion proof) for the gh CLI.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RegistryNotFoundError } from '../../../src/core/errors.js';
import {
  defaultTrustedRoot,
  type TrustRegistry,
  verifyProvenance,
} from '../../../src/registry/trust/index.js';

const BUNDLE = readFileSync(
  new URL('../../fixtures/sigstore/gh-cli-2.50.0-windows-arm64.provenance.sigstore.json', import.meta.url),
);
const SUBJECT = 'sha256:8aad120b416386b4269ef62c8fdebcad31a70847297817a149daf927edc85548';
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** A registry holding the bundle as the one referrer of SUBJECT: a plain fake of the port. */
function registryWithBundle(): TrustRegistry {
  const blob = `sha256:${createHash('sha256').update(BUNDLE).digest('hex')}`;
  const manifestDigest = `sha256:${'1'.repeat(64)}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: BUNDLE_TYPE,
    layers: [{ mediaType: BUNDLE_TYPE, digest: blob, size: BUNDLE.length }],
  };
  return {
    async getManifest(_image, ref) {
      if (ref === manifestDigest) return manifest;
      throw new RegistryNotFoundError(`manifest ${ref} not found`);
    },
    async getBlob(_image, digest) {
      if (digest === blob) return BUNDLE;
      throw new RegistryNotFoundError(`blob ${digest} not found`);
    },
    async listReferrers(_image, digest) {
      return { manifests: digest === SUBJECT ? [{ digest: manifestDigest, artifactType: BUNDLE_TYPE }] : [] };
    },
  };
}

describe('defaultTrustedRoot', () => {
  it('is the public-good root: a Fulcio CA and the Rekor log', () => {
    const root = defaultTrustedRoot() as {
      mediaType: string;
      tlogs: { baseUrl: string }[];
      certificateAuthorities: { uri: string }[];
    };
    expect(root.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.trustedroot/);
    expect(root.tlogs.map((t) => t.baseUrl)).toContain('https://rekor.sigstore.dev');
    expect(root.certificateAuthorities.some((c) => c.uri === 'https://fulcio.sigstore.dev')).toBe(true);
  });

  it('is one frozen object, so nobody can change what everyone trusts', () => {
    const root = defaultTrustedRoot() as { tlogs: unknown[] };
    expect(defaultTrustedRoot()).toBe(root);
    expect(Object.isFrozen(root.tlogs)).toBe(true);
    expect(() => root.tlogs.push({})).toThrow(TypeError);
  });

  it('verifies a real public-good GitHub provenance bundle offline', async () => {
    const verdict = await verifyProvenance(
      registryWithBundle(),
      'ghcr.io/cli/cli',
      SUBJECT,
      {
        builder: 'https://github.com/actions/runner/github-hosted',
        sourceRepository: 'https://github.com/cli/cli',
        ref: 'refs/heads/trunk',
        signer: {
          issuer: 'https://token.actions.githubusercontent.com',
          subject: 'https://github.com/cli/cli/.github/workflows/deployment.yml@refs/heads/trunk',
        },
      },
      { trustedRoot: defaultTrustedRoot() },
    );
    expect(verdict).toEqual({
      ok: true,
      evidence: {
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'https://github.com/cli/cli/.github/workflows/deployment.yml@refs/heads/trunk',
        logIndex: '97913980',
        source: 'referrers',
        builder: 'https://github.com/actions/runner/github-hosted',
        sourceRepository: 'https://github.com/cli/cli',
        ref: 'refs/heads/trunk',
      },
    });
  });

  it('rejects the same bundle for another source repository, naming both', async () => {
    const verdict = await verifyProvenance(
      registryWithBundle(),
      'ghcr.io/cli/cli',
      SUBJECT,
      { sourceRepository: 'https://github.com/acme/app' },
      { trustedRoot: defaultTrustedRoot() },
    );
    expect(verdict.ok).toBe(false);
    if (!verdict.ok)
      expect(verdict.reason).toMatch(
        /source repository is https:\/\/github\.com\/cli\/cli; the policy wants https:\/\/github\.com\/acme\/app$/,
      );
  });
});
