/**
 * Collect → decide, one candidate at a time, for policies with trust gates: the candidates in Flux's order
 * (newest first, down to what the markers already hold), each candidate's facts (its digest, when tidemark
 * first saw that tag → digest mapping, the platforms of its index, its signature and provenance), and the
 * pure verdict (`core/plan/gates.ts`). The first candidate that passes is chosen; newer ones that wait are
 * kept for the dashboard, with the time they mature.
 */

import {
  type CandidateFacts,
  type GateCheck,
  hasCandidateGates,
  judgeCandidate,
  type TrustFact,
  type Verdict,
  verdictReason,
  type WaitingCandidate,
  windowCheck,
} from '../core/plan/gates.js';
import { imageKey } from '../core/plan/plan-files.js';
import { rankTags } from '../core/policy/select-latest.js';
import type { ImagePolicySpec, ProvenanceRule, SignatureRule } from '../core/policy/types.js';
import type { RegistryClient } from '../registry/types.js';

/** Where the facts come from: the first-seen store and the signature verifier. */
export interface GateSources {
  /** Records `at` as the first sight of `tag@digest` unless an earlier one is known; returns the earliest. */
  firstSeen(image: string, tagAtDigest: string, at: number): Promise<number>;
  verifySignature?(
    registry: RegistryClient,
    image: string,
    digest: string,
    rule: SignatureRule,
    signal?: AbortSignal,
  ): Promise<TrustFact>;
  verifyProvenance?(
    registry: RegistryClient,
    image: string,
    digest: string,
    rule: ProvenanceRule,
    signal?: AbortSignal,
  ): Promise<TrustFact>;
}

/** What the walk reads candidates' facts through, and the run's now. */
export interface GateDeps {
  readonly registry: RegistryClient;
  readonly sources: GateSources;
  readonly now: number;
  readonly signal?: AbortSignal;
}

/** Candidates looked at per policy and run: the newest few are what matters; older ones wait their turn. */
export const MAX_CANDIDATES = 10;

export type GatedChoice =
  | {
      readonly kind: 'chosen';
      readonly tag: string;
      readonly digest?: string;
      readonly checks: readonly GateCheck[];
      /** Newer candidates held back, newest first. */
      readonly waiting: readonly WaitingCandidate[];
    }
  | {
      readonly kind: 'waiting';
      /** The newest candidate, which the outcome names. */
      readonly tag: string;
      readonly reason: string;
      readonly until?: number;
      readonly waiting: readonly WaitingCandidate[];
    };

export async function chooseGated(
  deps: GateDeps,
  spec: ImagePolicySpec,
  tags: readonly string[],
  /** Tags the markers hold now: the walk stops there (never older than what is deployed). */
  current: ReadonlySet<string>,
  /** Tags a person declined or ignored: passed over. */
  passOver: (tag: string) => boolean,
): Promise<GatedChoice | undefined> {
  const gates = spec.gates!;
  const ranked = rankTags(spec, tags, MAX_CANDIDATES, current).filter((t) => !passOver(t));
  if (ranked.length === 0) return undefined;
  // What is deployed already, with no digest to pin: choosing it changes nothing, so nothing needs checking.
  const unchanged = (tag: string) => current.has(tag) && spec.digestReflectionPolicy === 'Never';
  const waiting: WaitingCandidate[] = [];
  let chosen: { tag: string; digest?: string; verdict: Verdict } | undefined;
  for (const tag of ranked) {
    if (unchanged(tag)) {
      chosen = { tag, verdict: { status: 'pass', checks: [] } };
      break;
    }
    const facts = await collectCandidate(deps, spec, tag);
    const verdict = hasCandidateGates(gates)
      ? judgeCandidate(gates, facts, deps.now)
      : { status: 'pass' as const, checks: [] };
    if (verdict.status === 'pass') {
      chosen = { tag, ...(facts.digest && { digest: facts.digest }), verdict };
      break;
    }
    waiting.push({
      tag,
      status: verdict.status,
      reason: verdictReason(verdict),
      ...(verdict.until !== undefined && { until: verdict.until }),
    });
    if (current.has(tag)) break;
  }
  // Windows are about now, not the candidate: a change waits for the window; what is deployed stays.
  const window = windowCheck(gates, deps.now);
  if (chosen && window && !unchanged(chosen.tag)) {
    return {
      kind: 'waiting',
      tag: chosen.tag,
      reason: `${window.gate}: ${window.detail}`,
      ...(window.until !== undefined && { until: window.until }),
      waiting,
    };
  }
  if (chosen)
    return {
      kind: 'chosen',
      tag: chosen.tag,
      ...(chosen.digest && { digest: chosen.digest }),
      checks: [...chosen.verdict.checks, ...(window ? [window] : [])],
      waiting,
    };
  const first = waiting[0]!;
  const untils = waiting.flatMap((w) => (w.until !== undefined ? [w.until] : []));
  return {
    kind: 'waiting',
    tag: first.tag,
    reason: `${first.tag}: ${first.reason}`,
    ...(untils.length > 0 && { until: Math.min(...untils) }),
    waiting,
  };
}

async function collectCandidate(deps: GateDeps, spec: ImagePolicySpec, tag: string): Promise<CandidateFacts> {
  const gates = spec.gates!;
  if (!hasCandidateGates(gates)) return { tag };
  const { registry, sources, signal } = deps;
  const o = signal && { signal };
  try {
    const digest = await registry.resolveDigest(spec.image, tag, o);
    const facts: { -readonly [K in keyof CandidateFacts]: CandidateFacts[K] } = { tag, digest };
    if (gates.minAge !== undefined || gates.signature || gates.provenance)
      facts.firstSeen = await sources.firstSeen(imageKey(spec.image), `${tag}@${digest}`, deps.now);
    if (gates.platforms) facts.platforms = await platformsOf(registry, spec.image, digest, signal);
    if (gates.signature)
      facts.signature = sources.verifySignature
        ? await sources.verifySignature(registry, spec.image, digest, gates.signature, signal)
        : { ok: false, reason: 'signature verification is not available in this process' };
    if (gates.provenance)
      facts.provenance = sources.verifyProvenance
        ? await sources.verifyProvenance(registry, spec.image, digest, gates.provenance, signal)
        : { ok: false, reason: 'provenance verification is not available in this process' };
    return facts;
  } catch (err) {
    signal?.throwIfAborted();
    return { tag, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The platforms an image offers: an index's entries (attestation manifests — BuildKit's `unknown/unknown`
 * with a `vnd.docker.reference.type` annotation — left out), or a single image's config `os/architecture`.
 */
export async function platformsOf(
  registry: RegistryClient,
  image: string,
  digest: string,
  signal?: AbortSignal,
): Promise<string[]> {
  if (!registry.getManifest) return [];
  const o = signal && { signal };
  const manifest = await registry.getManifest(image, digest, o);
  const children = manifest.manifests as
    | {
        platform?: { os?: string; architecture?: string; variant?: string };
        annotations?: Record<string, string>;
      }[]
    | undefined;
  if (Array.isArray(children)) {
    return children.flatMap((c) => {
      if (c.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return [];
      const p = c.platform;
      if (!p?.os || !p.architecture || p.os === 'unknown') return [];
      return [[p.os, p.architecture, p.variant].filter(Boolean).join('/')];
    });
  }
  const config = manifest.config as { digest?: string } | undefined;
  if (!config?.digest || !registry.getBlob) return [];
  const cfg = JSON.parse((await registry.getBlob(image, config.digest, o)).toString('utf8')) as {
    os?: string;
    architecture?: string;
    variant?: string;
  };
  return cfg.os && cfg.architecture
    ? [[cfg.os, cfg.architecture, cfg.variant].filter(Boolean).join('/')]
    : [];
}
