/**
 * Flux's `applyPolicy`: exclusions, then filterTags (pattern + extract), then the policer. Candidates are
 * first sorted byte-wise descending, as image-reflector-controller stores them, which decides ties.
 */
import { compareGoFloats, type GoFloat, parseGoFloat } from './go-float.js';
import { type CompiledRegex, compileRegex } from './regex.js';
import { compareVersions, parseSemverRange, parseTagVersion, type SemVersion, type SemverRange, satisfies } from './semver.js';
import type { ImagePolicySpec, Selection } from './types.js';

export const DEFAULT_EXCLUSION_LIST: readonly string[] = ['^.*\\.sig$'];

export interface SelectionDetail {
  /** Tags that reached the policy (after exclusions and the filter). */
  readonly considered: number;
  /** Tags dropped with a reason worth telling the user (not merely "did not match"). */
  readonly skipped: readonly { readonly tag: string; readonly why: string }[];
}

export type DetailedSelection = Selection & SelectionDetail;

export interface CompiledPolicy {
  readonly spec: ImagePolicySpec;
  select(tags: readonly string[]): DetailedSelection;
}

const byteDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/** Compile once, select many times. Throws nothing: an invalid policy selects `invalid`. */
export function compilePolicy(spec: ImagePolicySpec): CompiledPolicy {
  let exclusions: CompiledRegex[];
  let filter: CompiledRegex | undefined;
  let range: SemverRange | undefined;
  try {
    exclusions = spec.exclusionList.map(compileRegex);
    filter = spec.filterTags && spec.filterTags.pattern !== '' ? compileRegex(spec.filterTags.pattern) : undefined;
    if ('semver' in spec.policy) range = parseSemverRange(spec.policy.semver.range);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { spec, select: () => ({ kind: 'invalid', error, considered: 0, skipped: [] }) };
  }
  const extract = spec.filterTags?.extract ?? '';
  return {
    spec,
    select(tags) {
      const sorted = [...tags].sort(byteDesc);
      const kept = exclusions.length === 0 ? sorted : sorted.filter((t) => !exclusions.some((re) => re.test(t)));
      // key → original tag; a later tag (byte-descending) with the same key overwrites the earlier one.
      const candidates = new Map<string, string>();
      for (const tag of kept) {
        if (!filter) {
          candidates.set(tag, tag);
          continue;
        }
        if (extract === '') {
          if (filter.test(tag)) candidates.set(tag, tag);
          continue;
        }
        if (!filter.test(tag)) continue;
        const key = filter.expandFirst(tag, extract);
        if (key !== undefined) candidates.set(key, tag);
      }
      const keys = [...candidates.keys()].sort(byteDesc);
      if (keys.length === 0) {
        const reason =
          tags.length === 0
            ? 'the registry lists no tags for this image'
            : kept.length === 0
              ? `all ${tags.length} tags are excluded by exclusionList`
              : `no tag matches filterTags.pattern ${JSON.stringify(spec.filterTags?.pattern)}`;
        return { kind: 'none', reason, considered: 0, skipped: [] };
      }
      const picked = pick(spec, range, keys);
      const detail = { considered: keys.length, skipped: picked.skipped };
      if (picked.key === undefined) return { kind: 'none', reason: picked.reason, ...detail };
      return { kind: 'selected', tag: candidates.get(picked.key)!, ...detail };
    },
  };
}

export function selectLatest(spec: ImagePolicySpec, tags: readonly string[]): DetailedSelection {
  return compilePolicy(spec).select(tags);
}

interface Picked {
  readonly key?: string;
  readonly reason: string;
  readonly skipped: { tag: string; why: string }[];
}

function pick(spec: ImagePolicySpec, range: SemverRange | undefined, keys: readonly string[]): Picked {
  const skipped: { tag: string; why: string }[] = [];
  if (range) {
    let best: SemVersion | undefined;
    for (const k of keys) {
      const v = parseTagVersion(k);
      if (!v || !satisfies(v, range)) continue;
      if (!best || compareVersions(v, best) > 0) best = v;
    }
    return best
      ? { key: best.original, reason: '', skipped }
      : { reason: `no tag satisfies semver range ${JSON.stringify(range.source)}`, skipped };
  }
  if ('alphabetical' in spec.policy) {
    // keys are byte-descending: asc picks the greatest, desc the smallest.
    const key = spec.policy.alphabetical.order === 'desc' ? keys[keys.length - 1] : keys[0];
    return { key, reason: '', skipped };
  }
  const desc = 'numerical' in spec.policy && spec.policy.numerical.order === 'desc';
  let latest: string | undefined;
  let pv: GoFloat | undefined;
  for (const k of keys) {
    const cv = parseGoFloat(k);
    if (cv.kind === 'error' || cv.kind === 'nan') {
      skipped.push({ tag: k, why: cv.kind === 'nan' ? 'NaN cannot be ordered' : `not a number (${cv.reason})` });
      continue;
    }
    // Flux: a later candidate replaces the current one unless strictly worse; ties go to the later one.
    if (pv !== undefined) {
      const c = compareGoFloats(cv, pv);
      if ((!desc && c < 0) || (desc && c > 0)) continue;
    }
    latest = k;
    pv = cv;
  }
  return latest !== undefined
    ? { key: latest, reason: '', skipped }
    : { reason: `none of the ${keys.length} candidate tags is a number`, skipped };
}
