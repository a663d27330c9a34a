/**
 * User regular expressions run on RE2 (through re2js): linear time, no backtracking, so a pattern from a
 * config repo cannot stall the worker. Lookaround and backreferences are rejected, as Go's regexp does.
 */

import { RE2JS } from 're2js';
import { AppError } from '../errors.js';

export interface CompiledRegex {
  readonly source: string;
  /** Capture groups: how many, and the named ones. */
  readonly groups: { readonly count: number; readonly names: readonly string[] };
  test(s: string): boolean;
  /** Go `Regexp.Expand` of `template` over the first match, or undefined when there is no match. */
  expandFirst(s: string, template: string): string | undefined;
}

/** A filterTags pattern RE2 cannot compile: never retried. */
export class RegexSyntaxError extends AppError {
  readonly code = 'regex_invalid';
  readonly retryable = false;
}

/** Results are memoised per (pattern, input): a repo's tag list changes by a few tags between runs. */
const MEMO_LIMIT = 250_000;

/**
 * `memo: false` for a caller that keeps its own per-tag results (a compiled policy does): one map per tag is
 * enough, and on a first selection over 100,000 tags each extra map costs tens of milliseconds.
 */
export function compileRegex(source: string, opts: { memo?: boolean } = {}): CompiledRegex {
  const memo = opts.memo ?? true;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new RegexSyntaxError(
      `invalid RE2 regular expression ${JSON.stringify(source)}: ${msg.replace(/^error parsing regexp: /, '')}`,
    );
  }
  const names = re.namedGroups() as Record<string, number>;
  const groupCount = re.groupCount();
  const tested = new Map<string, boolean>();
  const expanded = new Map<string, string | undefined>();
  return {
    source,
    groups: { count: groupCount, names: Object.keys(names) },
    test(s) {
      if (!memo) return re.test(s);
      let hit = tested.get(s);
      if (hit === undefined) {
        if (tested.size >= MEMO_LIMIT) tested.clear();
        hit = re.test(s);
        tested.set(s, hit);
      }
      return hit;
    },
    expandFirst(s, template) {
      if (!memo) return expandOnce(s, template);
      const key = `${template}\u0000${s}`;
      if (expanded.has(key)) return expanded.get(key);
      if (expanded.size >= MEMO_LIMIT) expanded.clear();
      const value = expandOnce(s, template);
      expanded.set(key, value);
      return value;
    },
  };

  function expandOnce(s: string, template: string): string | undefined {
    const m = re.matcher(s);
    if (!m.find()) return undefined;
    const group = (i: number): string => (i <= groupCount ? (m.group(i) ?? '') : '');
    return expandTemplate(template, (name, num) => {
      if (num >= 0) return group(num);
      const idx = names[name];
      return idx === undefined ? '' : group(idx);
    });
  }
}

const WORD = /[\p{L}\p{Nd}_]/u;

/** Go's `Regexp.Expand` template language: `$1`, `${1}`, `$name` (longest word run), `${name}`, `$$`. */
export function expandTemplate(template: string, value: (name: string, num: number) => string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const i = rest.indexOf('$');
    if (i < 0) break;
    out += rest.slice(0, i);
    rest = rest.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractRef(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    rest = ref.rest;
    out += value(ref.name, ref.num);
  }
  return out + rest;
}

/**
 * The groups a template refers to that `groups` does not define (`$3` with two groups, `$num` with no group
 * named `num`). Go expands them to "" silently; tidemark refuses them, since the sort key would be empty.
 */
export function undefinedTemplateRefs(
  template: string,
  groups: { readonly count: number; readonly names: readonly string[] },
): string[] {
  const missing: string[] = [];
  expandTemplate(template, (name, num) => {
    const ok = num >= 0 ? num <= groups.count : groups.names.includes(name);
    if (!ok) missing.push(`$${name}`);
    return '';
  });
  return missing;
}

function extractRef(str: string): { name: string; num: number; rest: string } | undefined {
  if (str === '') return undefined;
  let s = str;
  const brace = s.startsWith('{');
  if (brace) s = s.slice(1);
  let i = 0;
  const chars = [...s];
  let name = '';
  while (i < chars.length && WORD.test(chars[i]!)) name += chars[i++];
  if (name === '') return undefined;
  let consumed = name.length;
  if (brace) {
    if (s[consumed] !== '}') return undefined;
    consumed++;
  }
  let num = /^[0-9]+$/.test(name) && name.length <= 8 ? Number(name) : -1;
  if (name.length > 1 && name.startsWith('0')) num = -1;
  return { name, num, rest: s.slice(consumed) };
}
