/**
 * A policy for an image, inferred from the tag it runs today and the tags its registry has. Pure. Each rule
 * names its evidence (how many tags fit, the newest two) and is checked by running Flux's selection on the real
 * tags; a tag that fits no rule gets no guess (the proposal then carries a commented-out stub).
 *
 *   1.4.2, v2.0.1, 0.0.1-rc1-cee9778  → semver, keeping today's major (prereleases only if today's is one)
 *   production-40672                   → numerical on the number, only `production-<n>` tags
 *   main-0a1b2c3-1700000000            → numerical on the timestamp, only `main-<sha>-<ts>` tags
 *   20240115, 2024-01-15.3             → alphabetical, only tags of the same shape
 *   latest, stable, main               → keep the tag, pin its digest (digestReflectionPolicy: Always)
 */

import { selectLatest } from '../policy/select-latest.js';
import { parseTagVersion } from '../policy/semver.js';
import type { DigestReflectionPolicy, FilterTags, ImagePolicySpec, PolicyChoice } from '../policy/types.js';

export interface Inference {
  readonly scheme: 'semver' | 'numbered' | 'sha-timestamp' | 'date' | 'mutable' | 'none';
  readonly policy?: PolicyChoice;
  readonly filterTags?: FilterTags;
  readonly digestReflectionPolicy?: DigestReflectionPolicy;
  /** The tag Flux's selection picks from the tags with this policy. */
  readonly picks?: string;
  readonly confidence: 'high' | 'medium' | 'low';
  /** One sentence a person can check: the rule, how many tags fit, the newest two. */
  readonly evidence: string;
}

const MUTABLE = new Set([
  'latest',
  'stable',
  'main',
  'master',
  'edge',
  'nightly',
  'dev',
  'develop',
  'prod',
  'production',
]);
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function check(
  image: string,
  policy: PolicyChoice,
  tags: readonly string[],
  filterTags?: FilterTags,
): { picks?: string; fit: string[] } {
  const spec: ImagePolicySpec = {
    name: 'inferred',
    namespace: 'x',
    image,
    exclusionList: ['^.*\\.sig$'],
    ...(filterTags && { filterTags }),
    policy,
    digestReflectionPolicy: 'Never',
    source: { kind: 'native' },
  };
  const sel = selectLatest(spec, tags);
  const re = filterTags ? new RegExp(filterTags.pattern.replace(/\(\?P</g, '(?<')) : undefined;
  const fit = re ? tags.filter((t) => re.test(t)) : tags.filter((t) => parseTagVersion(t) !== undefined);
  return sel.kind === 'selected' ? { picks: sel.tag, fit } : { fit };
}

function newestTwo(sorted: readonly string[]): string {
  return sorted.slice(0, 2).join(', ');
}

function confidence(fit: number): Inference['confidence'] {
  return fit >= 5 ? 'high' : fit >= 2 ? 'medium' : 'low';
}

export function inferPolicy(image: string, current: string, tags: readonly string[]): Inference {
  if (MUTABLE.has(current.toLowerCase())) {
    return {
      scheme: 'mutable',
      policy: { alphabetical: { order: 'asc' } },
      filterTags: { pattern: `^${reEscape(current)}$` },
      digestReflectionPolicy: 'Always',
      picks: current,
      confidence: tags.includes(current) ? 'high' : 'low',
      evidence: `"${current}" is a moving tag: the tag is kept and its digest pinned, so a new push under "${current}" becomes a visible change`,
    };
  }

  const v = parseTagVersion(current);
  if (v) {
    const pre = v.pre !== '';
    const prefix = current.startsWith('v') ? 'v' : '';
    const base = `${v.major}.${v.minor}.${v.patch}${pre ? `-${v.pre}` : ''}`;
    const next = `${v.major + 1n}.0.0${pre ? '-0' : ''}`;
    const range = `>=${base} <${next}`;
    const policy: PolicyChoice = { semver: { range } };
    const { picks, fit } = check(image, policy, tags);
    const sameLine = fit.filter(
      (t) => parseTagVersion(t)?.major === v.major && (t.startsWith('v') ? 'v' : '') === prefix,
    );
    if (picks) {
      const sorted = [...sameLine].sort((a, b) =>
        a === picks ? -1 : b === picks ? 1 : b.localeCompare(a, 'en', { numeric: true }),
      );
      return {
        scheme: 'semver',
        policy,
        picks,
        confidence: confidence(sameLine.length),
        evidence: `${sameLine.length} of ${tags.length} tags are versions of major ${v.major}${pre ? ' (prereleases admitted: today’s tag is one)' : ''}; newest: ${newestTwo(sorted)}`,
      };
    }
  }

  // <prefix>-<sha>-<timestamp>, e.g. main-0a1b2c3-1700000000
  const shaTs = /^(?<p>[A-Za-z][\w.]*?)-(?<sha>[0-9a-f]{7,40})-(?<ts>[0-9]{9,})$/.exec(current);
  if (shaTs?.groups) {
    const filterTags = { pattern: `^${reEscape(shaTs.groups.p!)}-[0-9a-f]+-(?P<ts>[0-9]+)$`, extract: '$ts' };
    const policy: PolicyChoice = { numerical: { order: 'asc' } };
    const { picks, fit } = check(image, policy, tags, filterTags);
    if (picks) {
      const ts = (t: string) => Number(/-(\d+)$/.exec(t)?.[1] ?? 0);
      return {
        scheme: 'sha-timestamp',
        policy,
        filterTags,
        picks,
        confidence: confidence(fit.length),
        evidence: `${fit.length} of ${tags.length} tags are ${shaTs.groups.p}-<sha>-<timestamp>; ordered by the timestamp; newest: ${newestTwo([...fit].sort((a, b) => ts(b) - ts(a)))}`,
      };
    }
  }

  // <prefix>-<number>, e.g. production-40672
  const numbered = /^(?<p>[A-Za-z][\w.-]*?)[-_.](?<n>[0-9]+)$/.exec(current);
  if (numbered?.groups) {
    const sep = current.charAt(numbered.groups.p!.length);
    const filterTags = { pattern: `^${reEscape(numbered.groups.p! + sep)}(?P<n>[0-9]+)$`, extract: '$n' };
    const policy: PolicyChoice = { numerical: { order: 'asc' } };
    const { picks, fit } = check(image, policy, tags, filterTags);
    if (picks) {
      const n = (t: string) => Number(/(\d+)$/.exec(t)?.[1] ?? 0);
      return {
        scheme: 'numbered',
        policy,
        filterTags,
        picks,
        confidence: confidence(fit.length),
        evidence: `${fit.length} of ${tags.length} tags are ${numbered.groups.p}${sep}<number>; ordered by the number; newest: ${newestTwo([...fit].sort((a, b) => n(b) - n(a)))}`,
      };
    }
  }

  // Dates and timestamps: 20240115, 2024-01-15, 20240115T1030, 2024.01.15-3
  if (/^\d{4}[-.]?\d{2}[-.]?\d{2}/.test(current)) {
    const shape = current.replace(/[0-9]/g, '0');
    const pattern = `^${reEscape(shape).replace(/0/g, '[0-9]')}$`;
    const filterTags = { pattern };
    const policy: PolicyChoice = { alphabetical: { order: 'asc' } };
    const { picks, fit } = check(image, policy, tags, filterTags);
    if (picks)
      return {
        scheme: 'date',
        policy,
        filterTags,
        picks,
        confidence: confidence(fit.length),
        evidence: `${fit.length} of ${tags.length} tags are dates shaped like "${current}"; ordered alphabetically; newest: ${newestTwo([...fit].sort().reverse())}`,
      };
  }

  return {
    scheme: 'none',
    confidence: 'low',
    evidence: `"${current}" fits no scheme tidemark knows (semver, <name>-<number>, <name>-<sha>-<timestamp>, dates, moving tags) among ${tags.length} tags; write the policy by hand`,
  };
}
