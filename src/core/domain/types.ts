/**
 * Data shared across modules. Pure: no behaviour, no imports of effects.
 */

export const REGISTRY_PROVIDERS = [
  'dockerhub',
  'distribution',
  'harbor',
  'quay',
  'acr',
  'gar',
  'ecr',
  'jfrog',
  'nexus',
  'github',
  'gitea',
  'cdevents',
] as const;
export type RegistryProvider = (typeof REGISTRY_PROVIDERS)[number];

/** A registry said a tag was pushed. A hint only: the worker confirms it with the registry before use. */
export interface ImagePushed {
  /** Canonical image name (`docker.io/library/nginx`, `ghcr.io/acme/web`), no tag or digest. */
  readonly image: string;
  readonly tag: string;
  readonly digest: string | null;
  readonly provider: RegistryProvider;
}

/** What a policy resolved to: the values markers are rewritten with (Flux's `latestRef`). */
export interface PolicyResult {
  /** The image repository as the policy declares it (ImageRepository `spec.image`, verbatim). */
  readonly name: string;
  readonly tag: string;
  readonly digest?: string;
}

/** Keyed by the marker key `namespace:name`. */
export type PolicyResults = Readonly<Record<string, PolicyResult>>;

/** The Kubernetes object a change sits in, when the YAML document is one. */
export interface ObjectId {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** Which part of the policy's result a marker holds: the full reference, or its tag, name or digest. */
export type MarkerField = 'ref' | 'tag' | 'name' | 'digest';

/** One rewritten marker value. Feeds commit messages and PR bodies. */
export interface MarkerChange {
  /** Path relative to the scanned root, `/`-separated. */
  readonly file: string;
  /** 1-based line and column of the value. */
  readonly line: number;
  readonly column: number;
  /** The marker value, e.g. `flux-system:podinfo:tag`. */
  readonly setter: string;
  /** The policy it names, `namespace:name`. */
  readonly key: string;
  readonly field: MarkerField;
  readonly old: string;
  readonly new: string;
  readonly object?: ObjectId;
}

/** A whole file's new content. */
export interface FileChange {
  readonly file: string;
  readonly oldText: string;
  readonly newText: string;
  readonly changes: readonly MarkerChange[];
}

export interface Warning {
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
}

/** A pull request as GitHub reports it: plain facts, no interpretation (the plan reads tidemark's metadata). */
export interface PullRequestFacts {
  readonly number: number;
  readonly nodeId: string;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly headRef: string;
  readonly headSha: string;
  readonly baseRef: string;
  readonly title: string;
  readonly body: string;
  readonly htmlUrl: string;
  readonly labels: readonly string[];
  /** The login that opened it (`tidemark[bot]` for the App). */
  readonly author: string;
  /** Its head branch lives in another repository (a fork). */
  readonly fromFork: boolean;
  /** When it was opened (ISO), for `update.prHourlyLimit`. */
  readonly createdAt?: string;
  /** GitHub has auto-merge armed on it (REST `auto_merge` is not null); absent when the source does not say. */
  readonly autoMerge?: boolean;
  /** It is a draft (GitHub does not auto-merge a draft). */
  readonly draft?: boolean;
}

/** A repository on GitHub: the one identity every module uses (`owner/repo`). */
export interface RepoId {
  readonly owner: string;
  readonly repo: string;
}

/** A repository tidemark works on: where it is, how to reach it, and which installation may write to it. */
export interface RepoTarget extends RepoId {
  readonly installationId: number;
  readonly cloneUrl: string;
  readonly defaultBranch: string;
}

/** `installationId/owner/repo`: the key of a repo in queues, caches and indexes. */
export function repoKeyOf(t: Pick<RepoTarget, 'installationId' | 'owner' | 'repo'>): string {
  return `${t.installationId}/${t.owner}/${t.repo}`.toLowerCase();
}

/** GitHub's repository permission levels (`GET /repos/{owner}/{repo}/collaborators/{username}/permission`). */
export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';
