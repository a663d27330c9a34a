/**
 * An image policy, whichever way it was written (a Flux ImagePolicy + ImageRepository pair, or a native
 * entry in `.github/tidemark.yml`). Field names follow Flux.
 */

export type SortOrder = 'asc' | 'desc';

export type PolicyChoice =
  | { readonly semver: { readonly range: string } }
  | { readonly alphabetical: { readonly order: SortOrder } }
  | { readonly numerical: { readonly order: SortOrder } };

export interface FilterTags {
  readonly pattern: string;
  readonly extract?: string;
}

export type DigestReflectionPolicy = 'Never' | 'IfNotPresent' | 'Always';

export interface PolicySource {
  readonly kind: 'flux' | 'native';
  readonly file?: string;
  readonly line?: number;
}

export interface ImagePolicySpec {
  readonly name: string;
  readonly namespace: string;
  /** The image repository as declared (ImageRepository `spec.image` or native `image`), verbatim. */
  readonly image: string;
  /** RE2 patterns; a tag matching any of them is dropped before the policy. Default `^.*\.sig$`. */
  readonly exclusionList: readonly string[];
  readonly filterTags?: FilterTags;
  readonly policy: PolicyChoice;
  readonly digestReflectionPolicy: DigestReflectionPolicy;
  /** Flux `ImageRepository.spec.provider`: which cloud identity may read the image (`generic`: none). */
  readonly provider?: 'generic' | 'aws' | 'azure' | 'gcp';
  /** Flux `ImageRepository.spec.secretRef.name`: pull credentials the operator declared under that name. */
  readonly secretRef?: string;
  /** The Flux ImagePolicy's `metadata.labels`: what an ImageUpdateAutomation's `policySelector` matches. */
  readonly labels?: Readonly<Record<string, string>>;
  /** What a candidate must show before it is proposed (per policy; repo defaults from `update:` merged in). */
  readonly gates?: PolicyGates;
  readonly source: PolicySource;
}

/** A keyless (Sigstore) signer: the certificate's OIDC issuer, and its subject exactly or by anchored RE2. */
export interface SignatureRule {
  readonly issuer: string;
  readonly subject?: string;
  readonly subjectPattern?: string;
}

/** Fields an SLSA v1 provenance attestation must carry (each exact when set). */
export interface ProvenanceRule {
  readonly builder?: string;
  readonly sourceRepository?: string;
  readonly ref?: string;
}

/** Allow windows: a time is inside when any cron pattern (5 fields, minute resolution) matches it. */
export interface Schedule {
  readonly timezone: string;
  readonly windows: readonly string[];
}

/** A change freeze: a fixed period (`from`–`to`), or recurring minutes (`cron`, in `timezone`). */
export type Freeze =
  | { readonly from: string; readonly to: string; readonly reason?: string }
  | { readonly cron: string; readonly timezone: string; readonly reason?: string };

export interface PolicyGates {
  /** A (tag → digest) mapping must have been known this long (ms) — by tidemark's own first sight of it. */
  readonly minAge?: number;
  /** Every one of these platforms must be in the candidate's image index (`os/arch[/variant]`). */
  readonly platforms?: readonly string[];
  readonly signature?: SignatureRule;
  readonly provenance?: ProvenanceRule;
  readonly schedule?: Schedule;
  readonly freeze?: readonly Freeze[];
  /** Auto-merge this policy's PRs (overrides `update.autoMerge` levels for it); never during a freeze. */
  readonly autoMerge?: boolean;
}

export type Selection =
  | { readonly kind: 'selected'; readonly tag: string }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly error: string };

/** The marker key of a policy: `namespace:name`. */
export function policyKey(p: Pick<ImagePolicySpec, 'namespace' | 'name'>): string {
  return `${p.namespace}:${p.name}`;
}
