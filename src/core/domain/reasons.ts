/**
 * Why a repo is run: a typed union, one member per source. Reasons travel through the queue (and Redis) as
 * plain JSON; `parseReason` reads one back at the run's door, so nothing downstream casts a bag of fields.
 */
import type { ImagePushed } from './types.js';
import { REGISTRY_PROVIDERS } from './types.js';

interface ReasonBase {
  /** When the input arrived (ms since the epoch), for push-to-PR latency. */
  readonly receivedAt?: number;
  /** Trace context of the delivery (W3C carrier); not part of the reason's identity. */
  readonly trace?: Readonly<Record<string, string>>;
}

export type JobReason = ReasonBase &
  (
    | {
        /** A registry said `image:tag` was pushed (a hint; the run confirms it with the registry). */
        readonly kind: 'registry-push';
        readonly key: string;
        readonly detail: { readonly event: ImagePushed };
      }
    | {
        /** A push to the repo's default branch that touched configuration. */
        readonly kind: 'github-push';
        readonly detail: { readonly ref: string; readonly after: string; readonly delivery: string };
      }
    | {
        /** One of tidemark's PRs was closed (merged or declined): its state must be read fresh. */
        readonly kind: 'pull-request-closed';
        readonly detail: { readonly number: number; readonly merged: boolean; readonly delivery: string };
      }
    | {
        /** Someone commented `/tidemark …` on a pull request (whose, and whether they may, the run checks). */
        readonly kind: 'pr-command';
        readonly detail: {
          readonly number: number;
          readonly commentId: number;
          readonly user: string;
          readonly text: string;
          readonly delivery: string;
        };
      }
    | {
        /** Someone edited the dashboard issue: boxes they ticked (`unhold:12`, `retry`, …), maybe none. */
        readonly kind: 'dashboard-edit';
        readonly detail: {
          readonly issue: number;
          readonly user: string;
          readonly boxes: readonly string[];
          readonly delivery: string;
        };
      }
    | {
        /** Someone's pull request was opened or pushed to: preview what its configuration would do. */
        readonly kind: 'pr-preview';
        readonly detail: { readonly number: number; readonly headSha: string; readonly delivery: string };
      }
    /** `gate-due`: a trust gate's time came (a candidate matured, a freeze ended). */
    | { readonly kind: 'installation' | 'periodic' | 'manual' | 'gate-due' }
  );

export type JobReasonKind = JobReason['kind'];

/** The reasons a run reads PR state fresh for (not from the per-repo cache). */
export function wantsFreshPulls(r: JobReason): boolean {
  return (
    r.kind === 'pull-request-closed' ||
    r.kind === 'manual' ||
    r.kind === 'pr-command' ||
    r.kind === 'dashboard-edit'
  );
}

/** The registry event a reason carries, if any. */
export function eventOf(r: JobReason): ImagePushed | undefined {
  return r.kind === 'registry-push' ? r.detail.event : undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): v is string => typeof v === 'string';

/** A reason as it came out of the queue, checked; undefined when it is not one tidemark writes. */
export function parseReason(raw: unknown): JobReason | undefined {
  if (!isObj(raw) || !str(raw.kind)) return undefined;
  const base: ReasonBase = {
    ...(typeof raw.receivedAt === 'number' && { receivedAt: raw.receivedAt }),
    ...(isObj(raw.trace) && { trace: raw.trace as Record<string, string> }),
  };
  const d = isObj(raw.detail) ? raw.detail : {};
  switch (raw.kind) {
    case 'registry-push': {
      const e = isObj(d.event) ? d.event : undefined;
      const event =
        e &&
        str(e.image) &&
        str(e.tag) &&
        (e.digest === null || str(e.digest)) &&
        (REGISTRY_PROVIDERS as readonly unknown[]).includes(e.provider)
          ? (e as unknown as ImagePushed)
          : undefined;
      if (!str(raw.key) || !event) return undefined;
      return { ...base, kind: 'registry-push', key: raw.key, detail: { event } };
    }
    case 'github-push':
      if (!str(d.ref) || !str(d.after)) return undefined;
      return {
        ...base,
        kind: 'github-push',
        detail: { ref: d.ref, after: d.after, delivery: str(d.delivery) ? d.delivery : '' },
      };
    case 'pull-request-closed':
      if (typeof d.number !== 'number') return undefined;
      return {
        ...base,
        kind: 'pull-request-closed',
        detail: { number: d.number, merged: d.merged === true, delivery: str(d.delivery) ? d.delivery : '' },
      };
    case 'pr-command':
      if (
        typeof d.number !== 'number' ||
        typeof d.commentId !== 'number' ||
        !str(d.user) ||
        !str(d.text) ||
        d.text.length > 100
      )
        return undefined;
      return {
        ...base,
        kind: 'pr-command',
        detail: {
          number: d.number,
          commentId: d.commentId,
          user: d.user,
          text: d.text,
          delivery: str(d.delivery) ? d.delivery : '',
        },
      };
    case 'dashboard-edit': {
      const boxes = Array.isArray(d.boxes) ? d.boxes.filter(str).filter((b) => b.length <= 40) : [];
      if (typeof d.issue !== 'number' || !str(d.user)) return undefined;
      return {
        ...base,
        kind: 'dashboard-edit',
        detail: {
          issue: d.issue,
          user: d.user,
          boxes: boxes.slice(0, 100),
          delivery: str(d.delivery) ? d.delivery : '',
        },
      };
    }
    case 'pr-preview':
      if (typeof d.number !== 'number' || !str(d.headSha) || !/^[0-9a-f]{40}$/.test(d.headSha))
        return undefined;
      return {
        ...base,
        kind: 'pr-preview',
        detail: { number: d.number, headSha: d.headSha, delivery: str(d.delivery) ? d.delivery : '' },
      };
    case 'installation':
    case 'periodic':
    case 'gate-due':
    case 'manual':
      return { ...base, kind: raw.kind };
    default:
      return undefined;
  }
}
