/**
 * The trust gates of a policy, as written: native fields (`minAge`, `platforms`, `signature`, `provenance`,
 * `schedule`, `freeze`, `autoMerge` on a policy or as defaults under `update:`) or `tidemark.dev/*`
 * annotations on a Flux ImagePolicy (so Flux users keep their CRDs unchanged). Both forms go through one
 * parser, so they accept and refuse the same values with the same messages.
 */
import { Cron } from 'croner';
import { didYouMean, unknownFieldErrors } from '../domain/did-you-mean.js';
import { durationHint, parseDuration } from '../domain/duration.js';
import type { FieldError } from './parse.js';
import { compileRegex } from './regex.js';
import type { Freeze, PolicyGates, ProvenanceRule, Schedule, SignatureRule } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The gate fields of a native policy entry (and of `update:` as repo defaults). */
export const GATE_FIELDS = [
  'minAge',
  'platforms',
  'signature',
  'provenance',
  'schedule',
  'freeze',
  'autoMerge',
] as const;

/** `tidemark.dev/<name>` annotation → the native field it sets (lists are comma-separated). */
export const GATE_ANNOTATIONS: Readonly<Record<string, string>> = {
  'tidemark.dev/min-age': 'minAge',
  'tidemark.dev/platforms': 'platforms',
  'tidemark.dev/signature-issuer': 'signature.issuer',
  'tidemark.dev/signature-subject': 'signature.subject',
  'tidemark.dev/signature-subject-pattern': 'signature.subjectPattern',
  'tidemark.dev/provenance-builder': 'provenance.builder',
  'tidemark.dev/provenance-source-repository': 'provenance.sourceRepository',
  'tidemark.dev/provenance-ref': 'provenance.ref',
  'tidemark.dev/schedule': 'schedule.windows',
  'tidemark.dev/timezone': 'schedule.timezone',
  'tidemark.dev/auto-merge': 'autoMerge',
};

const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/** `linux/arm64` and `linux/arm64/v8` are one platform (the OCI image spec's normalisation). */
export function normalizePlatform(p: string): string {
  const [os, arch, variant] = p.toLowerCase().split('/');
  if (arch === 'arm64' && (variant === undefined || variant === 'v8')) return `${os}/arm64`;
  if (arch === 'amd64' && variant === 'v1') return `${os}/amd64`;
  return [os, arch, variant].filter(Boolean).join('/');
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function validCron(pattern: string): string | undefined {
  if (pattern.trim().split(/\s+/).length !== 5)
    return `expected 5 cron fields (minute hour day-of-month month day-of-week), e.g. "* 9-16 * * 1-5", got ${JSON.stringify(pattern)}`;
  try {
    new Cron(pattern, { paused: true });
    return undefined;
  } catch (err) {
    return `invalid cron pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`;
  }
}

function str(v: unknown, path: string, errors: FieldError[], what: string): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  errors.push({ path, message: `expected ${what}, got ${JSON.stringify(v)}` });
  return undefined;
}

function unknownKeys(v: Obj, known: readonly string[], path: string, errors: FieldError[]): void {
  errors.push(...unknownFieldErrors(v, known, path));
}

function parseSignature(v: unknown, path: string, errors: FieldError[]): SignatureRule | undefined {
  if (!isObj(v)) {
    errors.push({ path, message: 'expected { issuer, subject } or { issuer, subjectPattern }' });
    return undefined;
  }
  unknownKeys(v, ['issuer', 'subject', 'subjectPattern'], path, errors);
  const issuer = str(
    v.issuer,
    `${path}.issuer`,
    errors,
    'the OIDC issuer URL, e.g. https://token.actions.githubusercontent.com',
  );
  if (issuer && !/^https:\/\/\S+$/.test(issuer))
    errors.push({
      path: `${path}.issuer`,
      message: `expected an https:// URL, got ${JSON.stringify(issuer)}`,
    });
  if ((v.subject === undefined) === (v.subjectPattern === undefined)) {
    errors.push({
      path,
      message:
        'set exactly one of subject (the exact identity, e.g. https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main) or subjectPattern (an RE2 pattern, always anchored)',
    });
    return undefined;
  }
  if (v.subject !== undefined) {
    const subject = str(v.subject, `${path}.subject`, errors, 'the certificate identity');
    return issuer && subject ? { issuer, subject } : undefined;
  }
  const pattern = str(v.subjectPattern, `${path}.subjectPattern`, errors, 'an RE2 pattern');
  if (pattern === undefined) return undefined;
  try {
    compileRegex(`^(?:${pattern})$`);
  } catch (err) {
    errors.push({ path: `${path}.subjectPattern`, message: (err as Error).message });
    return undefined;
  }
  return issuer ? { issuer, subjectPattern: pattern } : undefined;
}

function parseProvenance(v: unknown, path: string, errors: FieldError[]): ProvenanceRule | undefined {
  if (!isObj(v)) {
    errors.push({ path, message: 'expected an object with builder, sourceRepository and/or ref' });
    return undefined;
  }
  const known = ['builder', 'sourceRepository', 'ref'];
  unknownKeys(v, known, path, errors);
  const out: Record<string, string> = {};
  for (const k of known) {
    if (v[k] === undefined) continue;
    const s = str(v[k], `${path}.${k}`, errors, 'a string');
    if (s) out[k] = s;
  }
  if (Object.keys(out).length === 0 && errors.length === 0)
    errors.push({ path, message: 'name at least one of builder, sourceRepository, ref' });
  return Object.keys(out).length > 0 ? (out as ProvenanceRule) : undefined;
}

function parseSchedule(v: unknown, path: string, errors: FieldError[]): Schedule | undefined {
  if (!isObj(v)) {
    errors.push({ path, message: 'expected { timezone, windows: ["<cron>", …] }' });
    return undefined;
  }
  unknownKeys(v, ['timezone', 'windows'], path, errors);
  const timezone =
    v.timezone === undefined ? 'UTC' : str(v.timezone, `${path}.timezone`, errors, 'an IANA time zone');
  if (timezone && !validTimezone(timezone)) {
    errors.push({
      path: `${path}.timezone`,
      message: `unknown time zone ${JSON.stringify(timezone)}; use an IANA name such as Europe/Berlin or UTC`,
    });
    return undefined;
  }
  const list = typeof v.windows === 'string' ? [v.windows] : v.windows;
  if (!Array.isArray(list) || list.length === 0 || list.some((w) => typeof w !== 'string')) {
    errors.push({
      path: `${path}.windows`,
      message: 'expected a list of cron patterns, e.g. ["* 9-16 * * 1-5"]',
    });
    return undefined;
  }
  let ok = true;
  list.forEach((w: string, i) => {
    const problem = validCron(w);
    if (problem) {
      errors.push({ path: `${path}.windows[${i}]`, message: problem });
      ok = false;
    }
  });
  return ok && timezone ? { timezone, windows: list as string[] } : undefined;
}

function parseFreeze(v: unknown, path: string, errors: FieldError[]): Freeze[] | undefined {
  if (!Array.isArray(v)) {
    errors.push({ path, message: 'expected a list of { from, to } or { cron, timezone } entries' });
    return undefined;
  }
  const out: Freeze[] = [];
  v.forEach((e, i) => {
    const at = `${path}[${i}]`;
    if (!isObj(e)) {
      errors.push({ path: at, message: 'expected { from, to, reason } or { cron, timezone, reason }' });
      return;
    }
    unknownKeys(e, ['from', 'to', 'cron', 'timezone', 'reason'], at, errors);
    const reason = typeof e.reason === 'string' ? e.reason.slice(0, 200) : undefined;
    if (e.cron !== undefined) {
      const cron = str(e.cron, `${at}.cron`, errors, 'a cron pattern');
      const problem = cron && validCron(cron);
      if (problem) errors.push({ path: `${at}.cron`, message: problem });
      const timezone = e.timezone === undefined ? 'UTC' : String(e.timezone);
      if (!validTimezone(timezone)) {
        errors.push({ path: `${at}.timezone`, message: `unknown time zone ${JSON.stringify(timezone)}` });
        return;
      }
      if (cron && !problem) out.push({ cron, timezone, ...(reason && { reason }) });
      return;
    }
    const when = (k: 'from' | 'to') => {
      const raw = e[k] instanceof Date ? (e[k] as Date).toISOString() : e[k];
      if (
        typeof raw === 'string' &&
        /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/.test(raw) &&
        !Number.isNaN(Date.parse(raw))
      )
        return raw;
      errors.push({
        path: `${at}.${k}`,
        message: `expected a date or time with its offset, e.g. 2026-12-20 or 2026-12-20T18:00:00+01:00, got ${JSON.stringify(raw)}`,
      });
      return undefined;
    };
    const from = when('from');
    const to = when('to');
    if (from && to) {
      if (Date.parse(to) <= Date.parse(from))
        errors.push({ path: `${at}.to`, message: 'must be after from' });
      else out.push({ from, to, ...(reason && { reason }) });
    }
  });
  return out;
}

/**
 * The gate fields of `v` (a native policy entry, or `update:`); undefined when it sets none. Errors name the
 * field under `prefix`.
 */
export function parseGates(v: Obj, prefix: string, errors: FieldError[]): PolicyGates | undefined {
  const at = (f: string) => (prefix ? `${prefix}.${f}` : f);
  const gates: { -readonly [K in keyof PolicyGates]: PolicyGates[K] } = {};
  if (v.minAge !== undefined) {
    const ms = typeof v.minAge === 'string' ? parseDuration(v.minAge) : undefined;
    if (ms === undefined) errors.push({ path: at('minAge'), message: durationHint(v.minAge) });
    else gates.minAge = ms;
  }
  if (v.platforms !== undefined) {
    const list = typeof v.platforms === 'string' ? v.platforms.split(',').map((s) => s.trim()) : v.platforms;
    if (!Array.isArray(list) || list.length === 0) {
      errors.push({ path: at('platforms'), message: 'expected a list such as [linux/amd64, linux/arm64]' });
    } else {
      const bad = list.filter((p) => typeof p !== 'string' || !PLATFORM_RE.test(p));
      if (bad.length > 0)
        errors.push({
          path: at('platforms'),
          message: `expected os/architecture[/variant] such as linux/amd64 or linux/arm/v7, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
        });
      else gates.platforms = [...new Set((list as string[]).map(normalizePlatform))];
    }
  }
  if (v.signature !== undefined) {
    const s = parseSignature(v.signature, at('signature'), errors);
    if (s) gates.signature = s;
  }
  if (v.provenance !== undefined) {
    const p = parseProvenance(v.provenance, at('provenance'), errors);
    if (p) gates.provenance = p;
  }
  if (v.schedule !== undefined) {
    const s = parseSchedule(v.schedule, at('schedule'), errors);
    if (s) gates.schedule = s;
  }
  if (v.freeze !== undefined) {
    const f = parseFreeze(v.freeze, at('freeze'), errors);
    if (f && f.length > 0) gates.freeze = f;
  }
  if (v.autoMerge !== undefined) {
    const b = v.autoMerge === 'true' ? true : v.autoMerge === 'false' ? false : v.autoMerge;
    if (typeof b !== 'boolean')
      errors.push({
        path: at('autoMerge'),
        message: `expected true or false, got ${JSON.stringify(v.autoMerge)}`,
      });
    else gates.autoMerge = b;
  }
  return Object.keys(gates).length > 0 ? gates : undefined;
}

/**
 * The `tidemark.dev/*` annotations of a Flux ImagePolicy as gate fields. Other annotations are Flux's or the
 * user's business; an unknown `tidemark.dev/` one is a typo, reported with "did you mean".
 */
export function gatesFromAnnotations(annotations: unknown, errors: FieldError[]): PolicyGates | undefined {
  if (!isObj(annotations)) return undefined;
  const native: Obj = {};
  const known = Object.keys(GATE_ANNOTATIONS);
  for (const [k, v] of Object.entries(annotations)) {
    if (!k.startsWith('tidemark.dev/')) continue;
    const path = `metadata.annotations.${k}`;
    const field = GATE_ANNOTATIONS[k];
    if (!field) {
      const hint = didYouMean(k, known);
      errors.push({
        path,
        message: `unknown tidemark annotation${hint ? `; did you mean "${hint}"?` : `; known: ${known.join(', ')}`}`,
      });
      continue;
    }
    if (typeof v !== 'string') {
      errors.push({ path, message: `annotation values are strings; quote it: "${String(v)}"` });
      continue;
    }
    const [head, sub] = field.split('.') as [string, string | undefined];
    if (!sub) native[head] = v;
    else {
      const obj = (isObj(native[head]) ? native[head] : {}) as Obj;
      native[head] = obj;
      obj[sub] = head === 'schedule' && sub === 'windows' ? v.split(';').map((s) => s.trim()) : v;
    }
  }
  if (Object.keys(native).length === 0) return undefined;
  const before = errors.length;
  const gates = parseGates(native, 'metadata.annotations', errors);
  // Name the annotation, not the native field it became.
  for (let i = before; i < errors.length; i++) {
    const e = errors[i]!;
    const field = e.path.replace(/^metadata\.annotations\./, '').replace(/\[\d+\]$/, '');
    const ann = Object.entries(GATE_ANNOTATIONS).find(
      ([, f]) => f === field || field.startsWith(`${f}.`),
    )?.[0];
    if (ann) errors[i] = { path: `metadata.annotations.${ann}`, message: e.message };
  }
  return gates;
}

/** A policy's own gates over the repo's defaults (`update:`): the policy's value wins, freezes add up. */
export function mergeGates(
  defaults: PolicyGates | undefined,
  own: PolicyGates | undefined,
): PolicyGates | undefined {
  if (!defaults) return own;
  if (!own) return defaults;
  const freeze = [...(defaults.freeze ?? []), ...(own.freeze ?? [])];
  return { ...defaults, ...own, ...(freeze.length > 0 && { freeze }) };
}
