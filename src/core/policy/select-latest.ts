/**
 * Flux's `applyPolicy`: exclusions, then filterTags (pattern + extract), then the policer. Candidates are
 * first sorted byte-wise descending, as image-reflector-controller stores them, which decides ties.
 */
import { compareGoFloats, type GoFloat, parseGoFloat } from './go-float.js';
import { type CompiledRegex, compileRegex } from './regex.js';
import {
  compareVersions,
  parseSemverRange,
  parseTagVersion,
  type SemVersion,
  type SemverRange,
  satisfies,
} from './semver.js';
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

/** Compile once, select many times. Throws nothing: an invalid policy selects `invalid`. */
export function compilePolicy(spec: ImagePolicySpec): CompiledPolicy {
  let exclusions: CompiledRegex[];
  let filter: CompiledRegex | undefined;
  let range: SemverRange | undefined;
  try {
    // No memo in the regexes: `classify` below keeps one result per tag.
    exclusions = spec.exclusionList.map((p) => compileRegex(p, { memo: false }));
    filter =
      spec.filterTags && spec.filterTags.pattern !== ''
        ? compileRegex(spec.filterTags.pattern, { memo: false })
        : undefined;
    if ('semver' in spec.policy) range = parseSemverRange(spec.policy.semver.range);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { spec, select: () => ({ kind: 'invalid', error, considered: 0, skipped: [] }) };
  }
  const versions = new Map<string, SemVersion | null>();
  const versionOf = (key: string): SemVersion | null => {
    let v = versions.get(key);
    if (v === undefined) {
      if (versions.size >= MEMO_LIMIT) versions.clear();
      const parsed = parseTagVersion(key);
      v = parsed && range && satisfies(parsed, range) ? parsed : null;
      versions.set(key, v);
    }
    return v;
  };
  const extract = spec.filterTags?.extract ?? '';
  // Per tag: null when excluded, undefined-key when filtered out, else its key. Memoised: a repo's tag list
  // changes by a few tags between runs, and the regexes are the expensive part.
  const EXCLUDED = 0;
  const FILTERED = 1;
  const memo = new Map<string, string | typeof EXCLUDED | typeof FILTERED>();
  const classify = (tag: string): string | typeof EXCLUDED | typeof FILTERED => {
    if (exclusions.length > 0 && exclusions.some((re) => re.test(tag))) return EXCLUDED;
    if (!filter) return tag;
    // With an extract template one match does both: no match means filtered out.
    if (extract === '') return filter.test(tag) ? tag : FILTERED;
    return filter.expandFirst(tag, extract) ?? FILTERED;
  };
  return {
    spec,
    select(tags) {
      // key → original tag. Flux walks tags byte-descending and a later tag overwrites an earlier one with the
      // same key, so the byte-wise smallest tag wins a collision. No sort needed: O(n).
      const candidates = new Map<string, string>();
      let kept = 0;
      for (const tag of tags) {
        let key = memo.get(tag);
        if (key === undefined) {
          if (memo.size >= MEMO_LIMIT) memo.clear();
          key = classify(tag);
          memo.set(tag, key);
        }
        if (key === EXCLUDED) continue;
        kept++;
        if (key === FILTERED) continue;
        const prev = candidates.get(key);
        if (prev === undefined || tag < prev) candidates.set(key, tag);
      }
      if (candidates.size === 0) {
        const reason =
          tags.length === 0
            ? 'the registry lists no tags for this image'
            : kept === 0
              ? `all ${tags.length} tags are excluded by exclusionList`
              : `no tag matches filterTags.pattern ${JSON.stringify(spec.filterTags?.pattern)}`;
        return { kind: 'none', reason, considered: 0, skipped: [] };
      }
      const picked = pick(spec, range && { range, versionOf }, candidates.keys());
      const detail = { considered: candidates.size, skipped: picked.skipped };
      if (picked.key === undefined) return { kind: 'none', reason: picked.reason, ...detail };
      return { kind: 'selected', tag: candidates.get(picked.key)!, ...detail };
    },
  };
}

const MEMO_LIMIT = 250_000;

/** Compiled policies are reused across runs, so their regex results stay memoised. */
const COMPILED_LIMIT = 512;
const compiled = new Map<string, CompiledPolicy>();

function cachedPolicy(spec: ImagePolicySpec): CompiledPolicy {
  const key = JSON.stringify([spec.exclusionList, spec.filterTags ?? null, spec.policy]);
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size >= COMPILED_LIMIT) compiled.delete(compiled.keys().next().value!);
    c = compilePolicy(spec);
    compiled.set(key, c);
  }
  return c;
}

export function selectLatest(spec: ImagePolicySpec, tags: readonly string[]): DetailedSelection {
  return cachedPolicy(spec).select(tags);
}

interface Picked {
  readonly key?: string;
  readonly reason: string;
  readonly skipped: { tag: string; why: string }[];
}

function pick(
  spec: ImagePolicySpec,
  semver: { range: SemverRange; versionOf: (key: string) => SemVersion | null } | undefined,
  keys: Iterable<string>,
): Picked {
  const skipped: { tag: string; why: string }[] = [];
  if (semver) {
    const { range } = semver;
    let best: SemVersion | undefined;
    for (const k of keys) {
      // null when the key is not a version or does not satisfy the range.
      const v = semver.versionOf(k);
      if (!v) continue;
      // Flux keeps the first strictly greater version walking byte-descending: on a tie the byte-greatest wins.
      const c = best ? compareVersions(v, best) : 1;
      if (c > 0 || (c === 0 && k > best!.original)) best = v;
    }
    return best
      ? { key: best.original, reason: '', skipped }
      : { reason: `no tag satisfies semver range ${JSON.stringify(range.source)}`, skipped };
  }
  if ('alphabetical' in spec.policy) {
    const desc = spec.policy.alphabetical.order === 'desc';
    let key: string | undefined;
    for (const k of keys) if (key === undefined || (desc ? k < key : k > key)) key = k;
    return { key, reason: '', skipped };
  }
  const desc = 'numerical' in spec.policy && spec.policy.numerical.order === 'desc';
  let latest: string | undefined;
  let pv: GoFloat | undefined;
  let count = 0;
  for (const k of keys) {
    count++;
    const cv = parseGoFloat(k);
    if (cv.kind === 'error' || cv.kind === 'nan') {
      skipped.push({
        tag: k,
        why: cv.kind === 'nan' ? 'NaN cannot be ordered' : `not a number (${cv.reason})`,
      });
      continue;
    }
    if (pv !== undefined && latest !== undefined) {
      // Flux: walking byte-descending, a later candidate replaces the current one unless strictly worse, so on a
      // tie the byte-wise smallest spelling wins.
      const c = compareGoFloats(cv, pv);
      const better = desc ? c < 0 : c > 0;
      if (!better && !(c === 0 && k < latest)) continue;
    }
    latest = k;
    pv = cv;
  }
  return latest !== undefined
    ? { key: latest, reason: '', skipped }
    : { reason: `none of the ${count} candidate tags is a number`, skipped };
}

/**
 * The policy's candidates, best first, up to `limit`: Flux's selection applied again with each winner set
 * aside, so the order follows Flux's exact semantics (ties, extract keys, byte order) and not a second sort.
 * Stops at `floor` (included): nothing older than what is deployed is ever proposed.
 */
export function rankTags(
  spec: ImagePolicySpec,
  tags: readonly string[],
  limit: number,
  floor?: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  let rest = tags;
  while (out.length < limit) {
    const s = selectLatest(spec, rest);
    if (s.kind !== 'selected') break;
    out.push(s.tag);
    if (floor?.has(s.tag)) break;
    rest = rest.filter((t) => t !== s.tag);
  }
  return out;
}
