/**
 * The data that goes in and comes out of trust checks. The planner receives a `TrustVerdict` as a fact, so
 * everything here is plain data: no classes, no errors for "not signed".
 */

/** Who must have signed: the Fulcio certificate's OIDC issuer (exact) and subject (exact, or an anchored RE2 pattern). */
export interface SignaturePolicy {
  readonly issuer: string;
  /** The certificate's subject (SAN) exactly, e.g. `https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main`. */
  readonly subject?: string;
  /** An RE2 pattern the whole subject must match: it is always anchored as `^(?:pattern)$`. */
  readonly subjectPattern?: string;
}

/** Fields an SLSA v1 provenance predicate must carry. Unset fields are not checked. */
export interface ProvenancePolicy {
  /** `runDetails.builder.id`, e.g. `https://github.com/actions/runner/github-hosted`. */
  readonly builder?: string;
  /** The source repository the build ran from, e.g. `https://github.com/acme/app`. */
  readonly sourceRepository?: string;
  /** The git ref the build ran from, e.g. `refs/tags/v1.4.0`. */
  readonly ref?: string;
  /**
   * Who must have signed the attestation. Without it any valid keyless signer is accepted, so anyone able to
   * push to the repository could attach provenance naming another builder; set it wherever the signer is known.
   */
  readonly signer?: SignaturePolicy;
}

/** Where the accepted material was found. */
export type TrustSource = 'referrers' | 'tag-fallback' | 'sig-tag';

export interface TrustEvidence {
  readonly issuer: string;
  readonly subject: string;
  /** The Rekor log index of the accepted entry. */
  readonly logIndex?: string;
  readonly source: TrustSource;
  readonly builder?: string;
  readonly sourceRepository?: string;
  readonly ref?: string;
}

export type TrustVerdict =
  | { readonly ok: true; readonly evidence: TrustEvidence }
  /** `reason` is one line a person can act on. */
  | { readonly ok: false; readonly reason: string };

/**
 * The registry reads trust checks need; `OciRegistryClient` provides all three. A missing manifest or blob must be
 * reported by throwing `RegistryNotFoundError` (it means "not there", never "retry"); any other error is passed
 * on to the caller unchanged.
 */
export interface TrustRegistry {
  getManifest(image: string, ref: string, o?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
  getBlob(image: string, digest: string, o?: { signal?: AbortSignal }): Promise<Buffer>;
  /** The OCI 1.1 referrers index of `digest`, or undefined when the registry has no referrers API (404). */
  listReferrers?(
    image: string,
    digest: string,
    o?: { artifactType?: string; signal?: AbortSignal },
  ): Promise<Record<string, unknown> | undefined>;
}

export interface TrustOptions {
  /** A parsed sigstore `trusted_root.json`, e.g. `defaultTrustedRoot()`. */
  readonly trustedRoot: object;
  readonly signal?: AbortSignal;
}
