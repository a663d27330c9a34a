/**
 * What one publish carries: the policies it bumps and the files it changes. Built by reconcile, turned into
 * branch names, commit messages and PR text by the functions beside this file.
 */
import type { FileChange, MarkerChange } from '../domain/types.js';
import { parseTagVersion } from '../policy/semver.js';
import type { GateCheck } from './gates.js';

export interface ImageProvenance {
  readonly source?: string;
  readonly revision?: string;
}

export interface PolicyUpdate {
  /** Marker key `namespace:name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** The image as the policy declares it. */
  readonly image: string;
  /** The tag the markers held before (the most common old tag value), when known. */
  readonly oldTag?: string;
  readonly newTag: string;
  readonly digest?: string;
  readonly changes: readonly MarkerChange[];
  readonly provenance?: { readonly old?: ImageProvenance; readonly new?: ImageProvenance };
  /** The trust gates the new tag passed, with their evidence (the PR's `tidemark/gates` check). */
  readonly checks?: readonly GateCheck[];
  /** The policy's own `autoMerge` (overrides the per-level settings). */
  readonly autoMerge?: boolean;
}

export interface UpdateGroup {
  /** `per-policy` groups have exactly one update; `all` groups carry every update of the run. */
  readonly kind: 'per-policy' | 'all';
  readonly branch: string;
  readonly updates: readonly PolicyUpdate[];
  readonly files: readonly FileChange[];
  /** The onboarding PR (`tidemark init` as a PR): its own title, body (metadata block included) and commit text. */
  readonly onboarding?: { readonly title: string; readonly body: string; readonly commitBody: string };
}

const BRANCH_PREFIX = 'tidemark/';

function sanitizeRefPart(s: string): string {
  // git check-ref-format: no spaces, no `..`, no `~^:?*[\`, no leading `.` or trailing `.lock`.
  return s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '')
    .replace(/\.lock$/, '-lock');
}

/** `tidemark/<namespace>-<policy>` for a per-policy group, `tidemark/all` (or a custom name) otherwise. */
export function branchNameFor(group: 'per-policy' | 'all', key?: string, custom?: string): string {
  if (group === 'all' || key === undefined) return custom ?? `${BRANCH_PREFIX}all`;
  const [ns, name] = splitKey(key);
  return `${BRANCH_PREFIX}${sanitizeRefPart(ns)}-${sanitizeRefPart(name)}`;
}

export function isTidemarkBranch(ref: string): boolean {
  return ref.replace(/^refs\/heads\//, '').startsWith(BRANCH_PREFIX);
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf(':');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}

/**
 * The semver level of a bump, when both tags read as versions the way the semver policy reads them (Flux's
 * `version.ParseVersion`: `1.2.3`, `v1.2.3-rc.1`; not `1.2` or `main-abc`). One version parser for policies and
 * auto-merge alike.
 */
export function semverLevel(
  oldTag: string | undefined,
  newTag: string,
): 'major' | 'minor' | 'patch' | undefined {
  if (oldTag === undefined) return undefined;
  const a = parseTagVersion(oldTag);
  const b = parseTagVersion(newTag);
  if (!a || !b) return undefined;
  if (a.major !== b.major) return 'major';
  if (a.minor !== b.minor) return 'minor';
  return 'patch';
}
