/**
 * The file half of a run: collect the registry's facts (tags per image, digests of the chosen tags,
 * provenance), and let the pure plan (`core/plan/plan-files.ts`) decide the rewrites and groups. The only
 * effect here is the registry, passed in; git and GitHub are the caller's business (the CLI writes files; the
 * worker publishes commits and PRs).
 */
import type { Logger } from 'pino';
import type { RepoConfig } from '../core/config/repo-config.js';
import { notifiedImage, tagOfChartVersion } from '../core/domain/chart-ref.js';
import { DIGEST_RE } from '../core/domain/image-ref.js';
import type { ImagePushed, Warning } from '../core/domain/types.js';
import { AppError, RegistryProtocolError } from '../core/errors.js';
import { type IgnoreRule, ignoredBy } from '../core/plan/commands.js';
import {
  type Chosen,
  choose,
  currentTags,
  imageKey,
  imagesOf,
  type MarkerReadings,
  needsDigest,
  planFiles,
  type RegistryFailure,
  readMarkedFiles,
  type TagLookup,
  withProvenance,
} from '../core/plan/plan-files.js';
import type { PolicyOutcome, ReconcilePlan } from '../core/plan/publish-plan.js';
import { type Rollback, rollbackHold } from '../core/plan/rollback.js';
import type { PolicyUpdate } from '../core/plan/update.js';
import { policyKey } from '../core/policy/types.js';
import type { ImageMetadata, RegistryClient } from '../registry/types.js';
import { chooseGated, type GateSources } from './collect-gates.js';

export interface ReconcileDeps {
  readonly registry: RegistryClient;
  /** Facts for trust gates (first-seen times, signatures); without it gated policies wait, saying why. */
  readonly gates?: GateSources;
  /** The run's "now", for minimum ages and windows (injected: tests advance a clock instead of sleeping). */
  readonly now?: () => number;
  readonly log?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Markers read in earlier runs, reused for files whose content did not change. */
  readonly readings?: MarkerReadings;
}

export interface ReconcileInput {
  readonly config: RepoConfig;
  /** Files under `update.path` that contain the `"$imagepolicy"` token, paths relative to the repo root. */
  readonly files: readonly { readonly path: string; readonly text: string }[];
  /** The registry pushes that triggered this run (hints: confirmed against the registry before use). */
  readonly events?: readonly ImagePushed[];
  /** Tags the user declined (a PR closed unmerged), by policy key: not proposed again. */
  readonly skippedTags?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly ignoreRules?: ReadonlyMap<string, readonly IgnoreRule[]>;
  /** Rollbacks in force (git history, minus those released): their policies are held at the person's value. */
  readonly rollbacks?: readonly Rollback[];
  /**
   * List every image's tags fresh (not from the client's short cache): the periodic reconcile, which exists
   * to catch pushes whose webhook never came, must see them within one interval.
   */
  readonly freshTags?: boolean;
  /**
   * Tags known to exist, by policy key: what tidemark's open PRs propose. Tag lists come from a per-process
   * cache; with several workers another process may have proposed a tag pushed after this process cached its
   * list. A cached list that lacks a known tag (or a tag the files hold) is listed again fresh, so a run never
   * proposes an older tag than a PR already carries.
   */
  readonly knownTags?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Look up OCI source/revision of old and new images for PR compare links. */
  readonly withProvenance?: boolean;
  readonly signal?: AbortSignal;
}

export type { PolicyOutcome, ReconcilePlan };

export async function reconcile(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcilePlan> {
  const { config, signal } = input;
  const files = readMarkedFiles(input.files, deps.readings);
  const held = currentTags(files);

  // Collect: tags, once per image. An image named by a triggering event is listed fresh, so a just-pushed tag
  // is seen if — and only if — the registry has it. A cached list missing a tag known to exist is stale.
  const eventImages = new Set((input.events ?? []).map((e) => e.image));
  const known = new Map<string, Set<string>>();
  for (const spec of config.policies) {
    const image = imageKey(spec.image);
    const key = policyKey(spec);
    for (const tag of [...(held.get(key) ?? []), ...(input.knownTags?.get(key) ?? [])])
      known.set(image, (known.get(image) ?? new Set()).add(tag));
  }
  const tags = new Map<string, TagLookup>(
    await Promise.all(
      imagesOf(config).map(async (image): Promise<[string, TagLookup]> => {
        try {
          const fresh = input.freshTags === true || eventImages.has(notifiedImage(image));
          let list = await deps.registry.listTags(image, { fresh, signal });
          if (!fresh && [...(known.get(image) ?? [])].some((t) => !list.includes(t)))
            list = await deps.registry.listTags(image, { fresh: true, signal });
          return [image, { tags: list }];
        } catch (error) {
          return [image, { error: toError(error) }];
        }
      }),
    ),
  );
  signal?.throwIfAborted();

  // Plan (pure): each policy's choice.
  const choices = choose(config, tags, input.skippedTags, input.ignoreRules);
  for (const [key, o] of Object.entries(choices.outcomes))
    if (o.status === 'none') deps.log?.info({ policy: key, reason: o.reason }, 'no tag selected');

  // Collect: the chosen tags' digests, and the triggering events checked against them.
  const outcomes: Record<string, PolicyOutcome> = { ...choices.outcomes };
  const registryErrors: RegistryFailure[] = [...choices.registryErrors];
  const warnings: Warning[] = [...choices.warnings];
  const chosen: Chosen[] = [];
  const now = deps.now?.() ?? Date.now();
  const wakeAt: number[] = [];
  await Promise.all(
    choices.chosen.map(async (picked) => {
      let c: Chosen = picked;
      if (picked.spec.gates) {
        // Trust gates: walk the candidates newest first until one passes (collect → decide per candidate).
        const lookup = tags.get(imageKey(picked.spec.image));
        const list = lookup && 'tags' in lookup ? lookup.tags : [];
        const gated = await chooseGated(
          {
            registry: deps.registry,
            sources: deps.gates ?? { firstSeen: async (_i, _t, at) => at },
            now,
            ...(signal && { signal }),
          },
          picked.spec,
          list,
          held.get(picked.key) ?? new Set(),
          (tag) =>
            input.skippedTags?.get(picked.key)?.has(tag) === true ||
            ignoredBy(input.ignoreRules?.get(picked.key), tag) !== undefined,
        );
        if (!gated) return;
        if (gated.kind === 'waiting') {
          outcomes[picked.key] = {
            status: 'waiting',
            tag: gated.tag,
            reason: gated.reason,
            ...(gated.until !== undefined && { until: gated.until }),
            ...(gated.waiting.length > 0 && { waiting: gated.waiting }),
          };
          if (gated.until !== undefined) wakeAt.push(gated.until);
          return;
        }
        for (const w of gated.waiting) if (w.until !== undefined) wakeAt.push(w.until);
        c = {
          ...picked,
          tag: gated.tag,
          // The digest the gates judged is pinned only where the policy reflects digests.
          ...(gated.digest && needsDigest(picked) && { digest: gated.digest }),
          ...(gated.checks.length > 0 && { checks: gated.checks }),
          ...(gated.waiting.length > 0 && { waiting: gated.waiting }),
        };
      }
      const rollback = input.rollbacks?.find((r) => r.key === c.key);
      const hold = rollback && rollbackHold(c.spec, rollback, c.tag);
      if (rollback && hold) {
        outcomes[c.key] = { status: 'waiting', tag: c.tag, reason: hold };
        return;
      }
      let digest: string | undefined = c.digest;
      if (needsDigest(c) && digest === undefined) {
        try {
          digest = await deps.registry.resolveDigest(c.spec.image, c.tag, { signal });
          if (!DIGEST_RE.test(digest))
            throw new RegistryProtocolError(
              `${c.spec.image}:${c.tag}: the registry answered ${JSON.stringify(digest.slice(0, 80))}, which is not a digest`,
            );
        } catch (error) {
          registryErrors.push({ image: c.spec.image, error: toError(error) });
          outcomes[c.key] = { status: 'registry-error', reason: toError(error).message };
          return;
        }
      }
      const mismatch = await crossCheckEvent(deps.registry, input, c, digest);
      if (mismatch) warnings.push(mismatch);
      chosen.push({ ...c, ...(digest && { digest }) });
    }),
  );
  signal?.throwIfAborted();

  // Plan (pure): rewrites and groups; then collect provenance for the updates it made.
  const filePlan = planFiles({ config, files, chosen, outcomes, warnings, registryErrors });
  const plan = wakeAt.length > 0 ? { ...filePlan, wakeAt: Math.min(...wakeAt) } : filePlan;
  for (const w of plan.warnings) deps.log?.debug({ code: w.code, file: w.file }, w.message);
  if (!input.withProvenance || plan.updates.length === 0) return plan;
  const provenance = new Map(
    await Promise.all(
      plan.updates.map(async (u) => [u.key, await provenanceOf(deps.registry, u, signal)] as const),
    ),
  );
  return withProvenance(plan, provenance);
}

/** Trust rule: an event whose digest disagrees with the registry is reported; the registry wins. */
async function crossCheckEvent(
  registry: RegistryClient,
  input: ReconcileInput,
  c: Chosen,
  known: string | undefined,
): Promise<Warning | undefined> {
  const image = imageKey(c.spec.image);
  // An OCI chart is notified as the registry path it lives at, its version's `+` stored as `_`.
  const event = input.events?.find(
    (e) =>
      e.image === notifiedImage(image) && (e.tag === c.tag || e.tag === tagOfChartVersion(c.tag)) && e.digest,
  );
  if (!event?.digest) return undefined;
  let actual = known;
  try {
    actual ??= await registry.resolveDigest(c.spec.image, c.tag, input.signal && { signal: input.signal });
  } catch {
    return undefined; // The tag was just listed; a failed digest look-up here is not worth failing the run.
  }
  if (actual === event.digest) return undefined;
  return {
    code: 'event-digest-mismatch',
    message: `${image}:${c.tag}: the webhook said ${event.digest} but the registry has ${actual}; using the registry's`,
  };
}

async function provenanceOf(
  registry: RegistryClient,
  u: PolicyUpdate,
  signal: AbortSignal | undefined,
): Promise<NonNullable<PolicyUpdate['provenance']>> {
  const get = registry.getImageMetadata?.bind(registry);
  const safe = async (tag: string | undefined): Promise<ImageMetadata | undefined> => {
    if (tag === undefined || !get) return undefined;
    try {
      return await get(u.image, tag, signal && { signal });
    } catch {
      return undefined;
    }
  };
  const [o, n] = await Promise.all([safe(u.oldTag), safe(u.newTag)]);
  return {
    ...(o && { old: { source: o.source, revision: o.revision } }),
    ...(n && { new: { source: n.source, revision: n.revision } }),
  };
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export function hasRetryableRegistryError(plan: ReconcilePlan): boolean {
  return plan.registryErrors.some((r) => !(r.error instanceof AppError) || r.error.retryable);
}
