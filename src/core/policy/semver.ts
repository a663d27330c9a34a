/**
 * Masterminds/semver v3 semantics, as Flux's image-reflector-controller uses them: the constraint grammar
 * (`NewConstraint`), coercing version parsing (`NewVersion`) behind Flux's three-part pre-check
 * (`version.ParseVersion`), ordering with build metadata ignored, and the Masterminds ≥ 3.4 prerelease rule
 * (a prerelease qualifies only in an AND-group that names a prerelease, and then of any version).
 */
import { AppError } from '../errors.js';

export interface SemVersion {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: string;
  readonly original: string;
}

const LOOSE_VERSION =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** Masterminds `NewVersion` (coercing): optional `v`, missing minor/patch = 0, leading zeros allowed. */
export function parseLooseVersion(s: string): SemVersion | undefined {
  const m = LOOSE_VERSION.exec(s);
  if (!m) return undefined;
  const pre = m[4] ?? '';
  if (pre !== '') {
    for (const id of pre.split('.')) {
      // A numeric identifier with a leading zero is invalid (ErrSegmentStartsZero).
      if (/^[0-9]+$/.test(id) && id.length > 1 && id.startsWith('0')) return undefined;
    }
  }
  return {
    major: BigInt(m[1]!),
    minor: BigInt((m[2] ?? '.0').slice(1)),
    patch: BigInt((m[3] ?? '.0').slice(1)),
    pre,
    original: s,
  };
}

/** Flux `version.ParseVersion`: exactly three `.`-separated parts, then Masterminds' coercing parse. */
export function parseTagVersion(tag: string): SemVersion | undefined {
  // strings.SplitN(tag, ".", 3) must yield 3 parts: at least two dots.
  const first = tag.indexOf('.');
  if (first < 0 || tag.indexOf('.', first + 1) < 0) return undefined;
  return parseLooseVersion(tag);
}

function comparePrePart(a: string, b: string): number {
  if (a === b) return 0;
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : 1;
}

export function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const ap = a.split('.');
  const bp = b.split('.');
  const n = Math.max(ap.length, bp.length);
  for (let i = 0; i < n; i++) {
    const x = ap[i];
    const y = bp[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = comparePrePart(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

export function compareVersions(a: SemVersion, b: SemVersion): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  return comparePrerelease(a.pre, b.pre);
}

type Op = '' | '=' | '!=' | '>' | '<' | '>=' | '=>' | '<=' | '=<' | '~' | '~>' | '^';

interface Comparator {
  readonly op: Op;
  readonly con: SemVersion;
  readonly dirty: boolean;
  readonly minorDirty: boolean;
  readonly patchDirty: boolean;
}

export interface SemverRange {
  readonly source: string;
  readonly groups: readonly (readonly Comparator[])[];
}

const CV = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const CV_NOGROUP = String.raw`v?[0-9|x|X|\*]+(?:\.[0-9|x|X|\*]+)?(?:\.[0-9|x|X|\*]+)?(?:-[0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*)?(?:\+[0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*)?`;
// Longest operators first: JavaScript alternation is leftmost-first, and a version can never start with `=`.
const OPS = String.raw`!=|>=|=>|<=|=<|~>|=|>|<|~|\^|`;
const CONSTRAINT = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const RANGE = new RegExp(String.raw`\s*(${CV_NOGROUP})\s+-\s+(${CV_NOGROUP})\s*`, 'g');
const FIND = new RegExp(String.raw`(${OPS})\s*(${CV_NOGROUP})`, 'g');
const VALID = new RegExp(
  String.raw`^(\s*(?:${OPS})\s*(?:${CV_NOGROUP})\s*)((?:\s+|,\s*)(?:${OPS})\s*(?:${CV_NOGROUP})\s*)*$`,
);

const isX = (s: string) => s === 'x' || s === 'X' || s === '*';

/** A semver range Masterminds/semver would refuse: never retried. */
export class SemverRangeError extends AppError {
  readonly code = 'semver_range_invalid';
  readonly retryable = false;
}

function parseComparator(text: string): Comparator {
  const m = CONSTRAINT.exec(text);
  if (!m) throw new SemverRangeError(`improper constraint: ${text}`);
  const op = m[1] as Op;
  const major = m[3] ?? '';
  const minor = m[4] ?? '';
  const patch = m[5] ?? '';
  const pre = m[6] ?? '';
  let ver = m[2]!;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor.slice(1)) || minor === '') {
    minorDirty = dirty = true;
    ver = `${major}.0.0${pre}`;
  } else if (isX(patch.slice(1)) || patch === '') {
    patchDirty = dirty = true;
    ver = `${major}${minor}.0${pre}`;
  }
  const con = parseLooseVersion(ver);
  if (!con) throw new SemverRangeError(`improper constraint: ${text}`);
  return { op, con, dirty, minorDirty, patchDirty };
}

/** Masterminds `NewConstraint`. Throws SemverRangeError for an invalid range. */
export function parseSemverRange(source: string): SemverRange {
  const rewritten = source.replace(RANGE, (_, a: string, b: string) => `>= ${a}, <= ${b} `);
  const groups = rewritten.split('||').map((segment) => {
    if (!VALID.test(segment))
      throw new SemverRangeError(`improper constraint: ${segment.trim() || '(empty)'}`);
    const found = [...segment.matchAll(FIND)].map((m) => m[0]);
    return (found.length > 0 ? found : [segment]).map(parseComparator);
  });
  return { source, groups };
}

function tilde(v: SemVersion, c: Comparator): boolean {
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty)
    return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function check(v: SemVersion, c: Comparator): boolean {
  const cmp = () => compareVersions(v, c.con);
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : cmp() === 0;
    case '!=':
      if (c.dirty) {
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return cmp() !== 0;
    case '>':
      if (!c.dirty) return cmp() > 0;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return cmp() > 0;
    case '<':
      return cmp() < 0;
    case '>=':
    case '=>':
      return cmp() >= 0;
    case '<=':
    case '=<':
      if (!c.dirty) return cmp() <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      if (cmp() < 0) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return c.con.patch === v.patch;
  }
}

/** Masterminds ≥ 3.4 `Check`: OR over AND-groups; prereleases only in groups that name one. */
export function satisfies(v: SemVersion, range: SemverRange): boolean {
  return range.groups.some(
    (group) => (v.pre === '' || group.some((c) => c.con.pre !== '')) && group.every((c) => check(v, c)),
  );
}
