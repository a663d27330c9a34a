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
  readonly source: PolicySource;
}

export type Selection =
  | { readonly kind: 'selected'; readonly tag: string }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly error: string };

/** The marker key of a policy: `namespace:name`. */
export function policyKey(p: Pick<ImagePolicySpec, 'namespace' | 'name'>): string {
  return `${p.namespace}:${p.name}`;
}
