/**
 * The trust gates, decided purely from collected facts: is a candidate old enough (by tidemark's own first
 * sight of its tag → digest mapping, never the image's self-declared `created`), does its index carry every
 * platform, is it signed by the expected identity, does it carry the expected provenance, and is now inside
 * the policy's windows. The run collects the facts (run/collect-gates.ts) and walks candidates newest first
 * until one passes: an older, mature tag beats a fresh one, and nothing older than what is deployed is chosen.
 */
import { Cron } from 'croner';
import { formatDuration } from '../domain/duration.js';
import { normalizePlatform } from '../policy/gates.js';
import type { Freeze, PolicyGates, Schedule } from '../policy/types.js';

/** A signature or provenance check's result, as the registry trust module reports it. */
export type TrustFact =
  | {
      readonly ok: true;
      readonly evidence: {
        readonly issuer?: string;
        readonly subject?: string;
        readonly logIndex?: string;
        readonly builder?: string;
        readonly sourceRepository?: string;
        readonly ref?: string;
      };
    }
  | { readonly ok: false; readonly reason: string };

/** What the run learnt about one candidate tag. Absent fields were not needed (no such gate). */
export interface CandidateFacts {
  readonly tag: string;
  readonly digest?: string;
  /** When tidemark first saw this tag at this digest (a webhook's or its own listing's time), ms since epoch. */
  readonly firstSeen?: number;
  /** Platforms the image offers (`os/arch[/variant]`), attestation manifests left out. */
  readonly platforms?: readonly string[];
  readonly signature?: TrustFact;
  readonly provenance?: TrustFact;
  /** Collecting a fact failed (registry error): the candidate cannot be judged this run. */
  readonly error?: string;
}

export type GateName = 'minAge' | 'platforms' | 'signature' | 'provenance' | 'schedule' | 'freeze';

export interface GateCheck {
  readonly gate: GateName;
  readonly status: 'pass' | 'wait' | 'block';
  /** The evidence, or why it waits or is blocked — one line for the PR check and the dashboard. */
  readonly detail: string;
  /** When a waiting check will pass by itself (a maturity time, the end of a freeze). */
  readonly until?: number;
}

/** A candidate newer than the chosen one, held back by a gate (shown on the dashboard and the PR check). */
export interface WaitingCandidate {
  readonly tag: string;
  readonly status: 'wait' | 'block';
  readonly reason: string;
  readonly until?: number;
}

export interface Verdict {
  readonly status: 'pass' | 'wait' | 'block';
  readonly checks: readonly GateCheck[];
  readonly until?: number;
}

/** Does the policy have any candidate gate (not counting windows)? */
export function hasCandidateGates(g: PolicyGates | undefined): boolean {
  return !!g && (g.minAge !== undefined || !!g.platforms || !!g.signature || !!g.provenance);
}

export function hasWindows(g: PolicyGates | undefined): boolean {
  return !!g && (!!g.schedule || !!g.freeze?.length);
}

/** How long after first sight a missing or wrong signature or attestation is looked at again, not yet blocked. */
export const SIGNATURE_GRACE_MS = 15 * 60_000;
/** How often, during that grace. */
export const RECHECK_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The candidate gates for one candidate. Windows are judged separately (`windowCheck`): they are about now. */
export function judgeCandidate(gates: PolicyGates, facts: CandidateFacts, now: number): Verdict {
  const checks: GateCheck[] = [];
  if (facts.error) {
    const gate: GateName =
      gates.minAge !== undefined
        ? 'minAge'
        : gates.platforms
          ? 'platforms'
          : gates.signature
            ? 'signature'
            : 'provenance';
    return {
      status: 'wait',
      checks: [{ gate, status: 'wait', detail: `could not be checked: ${facts.error}` }],
    };
  }
  if (gates.minAge !== undefined) {
    const seen = facts.firstSeen ?? now;
    const age = Math.max(0, now - seen);
    const matures = seen + gates.minAge;
    checks.push(
      age >= gates.minAge
        ? {
            gate: 'minAge',
            status: 'pass',
            detail: `${facts.tag}${facts.digest ? ` (${facts.digest.slice(0, 19)}…)` : ''} first seen by tidemark at ${iso(seen)}, mature since ${iso(matures)} (minAge ${formatDuration(gates.minAge)})`,
          }
        : {
            gate: 'minAge',
            status: 'wait',
            detail: `first seen ${iso(seen)}; matures at ${iso(matures)} (minAge ${formatDuration(gates.minAge)})`,
            until: matures,
          },
    );
  }
  if (gates.platforms) {
    const offered = new Set((facts.platforms ?? []).map(normalizePlatform));
    const missing = gates.platforms.filter((p) => !offered.has(normalizePlatform(p)));
    checks.push(
      missing.length === 0
        ? { gate: 'platforms', status: 'pass', detail: `index lists ${gates.platforms.join(', ')}` }
        : {
            gate: 'platforms',
            status: 'wait',
            detail: `missing ${missing.join(', ')} (found ${[...offered].sort().join(', ') || 'none'})`,
          },
    );
  }
  if (gates.signature) {
    const s = facts.signature;
    checks.push(
      s?.ok
        ? {
            gate: 'signature',
            status: 'pass',
            detail: `signed by ${s.evidence.subject ?? '?'} (issuer ${s.evidence.issuer ?? '?'}${s.evidence.logIndex ? `, Rekor log index ${s.evidence.logIndex}` : ''})`,
          }
        : { gate: 'signature', status: 'block', detail: s ? s.reason : 'not checked' },
    );
  }
  if (gates.provenance) {
    const p = facts.provenance;
    checks.push(
      p?.ok
        ? {
            gate: 'provenance',
            status: 'pass',
            detail: `SLSA provenance: builder ${p.evidence.builder ?? '?'}, source ${p.evidence.sourceRepository ?? '?'}${p.evidence.ref ? ` @ ${p.evidence.ref}` : ''}`,
          }
        : { gate: 'provenance', status: 'block', detail: p ? p.reason : 'not checked' },
    );
  }
  // Signatures and attestations are usually pushed a little after the image (cosign signs what was pushed):
  // a fresh candidate without them is looked at again shortly, and blocked only once its grace is over.
  const seen = facts.firstSeen;
  if (seen !== undefined && now - seen < SIGNATURE_GRACE_MS)
    for (const [i, c] of checks.entries())
      if (c.status === 'block' && (c.gate === 'signature' || c.gate === 'provenance'))
        checks[i] = {
          ...c,
          status: 'wait',
          detail: `${c.detail} (pushed ${formatDuration(now - seen)} ago: looked at again until ${iso(seen + SIGNATURE_GRACE_MS)})`,
          until: Math.min(now + RECHECK_MS, seen + SIGNATURE_GRACE_MS),
        };
  const status = checks.some((c) => c.status === 'block')
    ? 'block'
    : checks.some((c) => c.status === 'wait')
      ? 'wait'
      : 'pass';
  const untils = checks.flatMap((c) => (c.until !== undefined ? [c.until] : []));
  // A candidate waiting on anything but time (a platform not pushed yet) has no known time to look again.
  const timeOnly = checks.every((c) => c.status === 'pass' || c.until !== undefined);
  return {
    status,
    checks,
    ...(status === 'wait' && timeOnly && untils.length > 0 && { until: Math.max(...untils) }),
  };
}

/** Is `now` inside the policy's schedule and outside every freeze? When not, until when (if known). */
export function windowCheck(gates: PolicyGates | undefined, now: number): GateCheck | undefined {
  if (!gates) return undefined;
  for (const f of gates.freeze ?? []) {
    const until = freezeUntil(f, now);
    if (until !== undefined)
      return {
        gate: 'freeze',
        status: 'wait',
        detail: `change freeze${f.reason ? ` (${f.reason})` : ''} until ${iso(until)}`,
        until,
      };
  }
  if (gates.schedule && !inSchedule(gates.schedule, now)) {
    const next = nextScheduled(gates.schedule, now);
    return {
      gate: 'schedule',
      status: 'wait',
      detail: `outside the schedule (${gates.schedule.windows.join(' | ')}, ${gates.schedule.timezone})${next !== undefined ? `; next window ${iso(next)}` : ''}`,
      ...(next !== undefined && { until: next }),
    };
  }
  return undefined;
}

function cronOf(pattern: string, timezone: string): Cron {
  return new Cron(pattern, { timezone, paused: true });
}

function minuteOf(ms: number): Date {
  return new Date(Math.floor(ms / 60_000) * 60_000);
}

function inSchedule(s: Schedule, now: number): boolean {
  return s.windows.some((w) => cronOf(w, s.timezone).match(minuteOf(now)));
}

function nextScheduled(s: Schedule, now: number): number | undefined {
  const runs = s.windows.flatMap((w) => {
    const next = cronOf(w, s.timezone).nextRun(new Date(now));
    return next ? [next.getTime()] : [];
  });
  return runs.length > 0 ? Math.min(...runs) : undefined;
}

/** The end of the freeze `now` is in, or undefined when `now` is not frozen by `f`. */
function freezeUntil(f: Freeze, now: number): number | undefined {
  if ('from' in f) {
    const from = Date.parse(f.from);
    const to = Date.parse(f.to);
    return now >= from && now < to ? to : undefined;
  }
  const cron = cronOf(f.cron, f.timezone);
  if (!cron.match(minuteOf(now))) return undefined;
  // Walk the matching minutes forward (bounded: a week) to the first minute that does not match.
  let t = minuteOf(now).getTime();
  for (let i = 0; i < 7 * 24 * 60; i++) {
    t += 60_000;
    if (!cron.match(new Date(t))) return t;
  }
  return undefined;
}

/** The one-line summary of a verdict that is not a pass (for outcomes and the dashboard). */
export function verdictReason(v: Verdict): string {
  return v.checks
    .filter((c) => c.status !== 'pass')
    .map((c) => `${c.gate}: ${c.detail}`)
    .join('; ');
}

const MARK: Readonly<Record<GateCheck['status'], string>> = { pass: '✅', wait: '⏳', block: '⛔' };

/** One gate as a Markdown list item; the evidence comes from registries and certificates, so it is escaped. */
export function gateLine(c: GateCheck, esc: (s: string) => string): string {
  return `- ${MARK[c.status]} **${c.gate}**: ${esc(c.detail)}`;
}

/**
 * The `tidemark/gates` check on a tidemark PR's head: every gate each bump passed, with its evidence (age and
 * its source, platforms found, signer identity and Rekor log index, provenance builder). Undefined when no
 * bump of the group has gates.
 */
export function gatesCheck(
  updates: readonly {
    readonly key: string;
    readonly newTag: string;
    readonly checks?: readonly GateCheck[];
  }[],
  esc: (s: string) => string,
): { conclusion: 'success'; title: string; summary: string; text: string; name: string } | undefined {
  const gated = updates.filter((u) => u.checks && u.checks.length > 0);
  if (gated.length === 0) return undefined;
  const n = gated.reduce((k, u) => k + u.checks!.length, 0);
  const text = gated
    .map((u) =>
      [`### ${esc(u.key)} → \`${esc(u.newTag)}\``, '', ...u.checks!.map((c) => gateLine(c, esc))].join('\n'),
    )
    .join('\n\n');
  return {
    name: 'tidemark/gates',
    conclusion: 'success',
    title: `${n} gate${n === 1 ? '' : 's'} passed`,
    summary: `Every bump in this pull request passed the trust gates its policy sets.`,
    text,
  };
}
