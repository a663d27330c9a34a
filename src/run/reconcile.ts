/**
 * One repo, one run: policies → tags → selection → digests → marker rewrites → a plan. The one place where the
 * pure core meets effects; the only effect used here is the registry, passed in. Git and GitHub are the
 * caller's business (the CLI writes files; the worker publishes commits and PRs).
 */
import type { RepoConfig } from '../core/config/repo-config.js';
import { canonicalImageName } from '../core/domain/image-ref.js';
import type { FileChange, ImagePushed, MarkerChange, PolicyResult, Warning } from '../core/domain/types.js';
import { AppError } from '../core/errors.js';
import { findMarkers, rewriteMarkers } from '../core/markers/index.js';
import type { PolicyOutcome, ReconcilePlan } from '../core/plan/publish-plan.js';
import { branchNameFor, type PolicyUpdate, type UpdateGroup } from '../core/plan/update.js';
import { selectLatest } from '../core/policy/index.js';
import { type ImagePolicySpec, policyKey } from '../core/policy/types.js';
import type { ImageMetadata, RegistryClient } from '../registry/types.js';

export interface ReconcileLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ReconcileDeps {
  readonly registry: RegistryClient;
  readonly log?: ReconcileLogger;
}

export interface ReconcileInput {
  readonly config: RepoConfig;
  /** Files under `update.path` that contain the `"$imagepolicy"` token, paths relative to the repo root. */
  readonly files: readonly { readonly path: string; readonly text: string }[];
  /** The registry pushes that triggered this run (hints: confirmed against the registry before use). */
  readonly events?: readonly ImagePushed[];
  /** Tags the user declined (a PR closed unmerged), by policy key: not proposed again. */
  readonly skippedTags?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Look up OCI source/revision of old and new images for PR compare links. */
  readonly withProvenance?: boolean;
  readonly signal?: AbortSignal;
}

export type { PolicyOutcome, ReconcilePlan };

interface TagLookup {
  readonly tags?: readonly string[];
  readonly error?: Error;
}

const noopLog: ReconcileLogger = { info() {}, warn() {}, debug() {} };

export async function reconcile(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcilePlan> {
  const log = deps.log ?? noopLog;
  const { config } = input;
  const warnings: Warning[] = [];
  const registryErrors: { image: string; error: Error }[] = [];
  const perPolicy: Record<string, PolicyOutcome> = {};

  // 1. Tags, once per image. An image named by a triggering event is listed fresh, so a just-pushed tag is
  //    seen if — and only if — the registry has it.
  const eventImages = new Set((input.events ?? []).map((e) => e.image));
  const lookups = new Map<string, Promise<TagLookup>>();
  const tagsOf = (image: string): Promise<TagLookup> => {
    let p = lookups.get(image);
    if (!p) {
      const fresh = eventImages.has(canonicalOrSelf(image));
      p = deps.registry.listTags(image, { fresh, signal: input.signal }).then(
        (tags) => ({ tags }),
        (error: unknown) => ({ error: toError(error) }),
      );
      lookups.set(image, p);
    }
    return p;
  };

  // 2. Select per policy.
  const results: Record<string, PolicyResult> = {};
  const selected = new Map<string, { spec: ImagePolicySpec; tag: string; digest?: string }>();
  await Promise.all(
    config.policies.map(async (spec) => {
      const key = policyKey(spec);
      const lookup = await tagsOf(canonicalOrSelf(spec.image));
      if (lookup.error) {
        registryErrors.push({ image: spec.image, error: lookup.error });
        perPolicy[key] = { status: 'registry-error', reason: lookup.error.message };
        return;
      }
      const selection = selectLatest(spec, lookup.tags ?? []);
      if (selection.kind === 'invalid') {
        perPolicy[key] = { status: 'invalid', reason: selection.error };
        warnings.push({
          code: 'policy-invalid',
          message: `${key}: ${selection.error}`,
          file: spec.source.file,
        });
        return;
      }
      if (selection.kind === 'none') {
        perPolicy[key] = { status: 'none', reason: selection.reason };
        log.info({ policy: key, reason: selection.reason }, 'no tag selected');
        return;
      }
      if (input.skippedTags?.get(key)?.has(selection.tag)) {
        perPolicy[key] = {
          status: 'skipped',
          tag: selection.tag,
          reason: `a pull request for ${selection.tag} was closed without merging`,
        };
        return;
      }
      let digest: string | undefined;
      if (spec.digestReflectionPolicy !== 'Never') {
        try {
          digest = await deps.registry.resolveDigest(spec.image, selection.tag, { signal: input.signal });
        } catch (error) {
          registryErrors.push({ image: spec.image, error: toError(error) });
          perPolicy[key] = { status: 'registry-error', reason: toError(error).message };
          return;
        }
      }
      await crossCheckEvents(deps, input, spec, selection.tag, warnings);
      selected.set(key, { spec, tag: selection.tag, ...(digest && { digest }) });
      results[key] = { name: spec.image, tag: selection.tag, ...(digest && { digest }) };
    }),
  );

  // 3. Rewrite markers: all policies together (for push mode and `group: all`) and per policy (per-policy PRs).
  const { fileChanges: changes, markerChanges } = rewriteAll(input.files, results, warnings);
  const updates: PolicyUpdate[] = [];
  const groups: UpdateGroup[] = [];
  for (const [key, sel] of [...selected].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const own = markerChanges.filter((c) => setterKey(c.setter) === key);
    const previous = mostCommon(own.map((c) => tagOfValue(c.old, c.setter)).filter((t): t is string => !!t));
    perPolicy[key] = {
      status: 'selected',
      tag: sel.tag,
      ...(sel.digest && { digest: sel.digest }),
      ...(previous && { previous }),
    };
    if (own.length === 0) continue;
    const update: PolicyUpdate = {
      key,
      namespace: sel.spec.namespace,
      name: sel.spec.name,
      image: sel.spec.image,
      ...(previous && { oldTag: previous }),
      newTag: sel.tag,
      ...(sel.digest && { digest: sel.digest }),
      changes: own,
      ...(input.withProvenance && { provenance: await provenance(deps, sel.spec.image, previous, sel.tag) }),
    };
    updates.push(update);
    if (config.update.group === 'per-policy') {
      const { fileChanges } = rewriteAll(input.files, { [key]: results[key]! }, []);
      groups.push({
        kind: 'per-policy',
        branch: branchNameFor('per-policy', key),
        updates: [update],
        files: fileChanges,
      });
    }
  }
  if (config.update.group === 'all' && updates.length > 0) {
    groups.push({
      kind: 'all',
      branch: branchNameFor('all', undefined, config.update.branch),
      updates,
      files: changes,
    });
  }
  warnings.push(...mutableTagWarnings(config.policies, input.files));
  for (const w of warnings) log.debug({ code: w.code, file: w.file }, w.message);
  return { perPolicy, updates, groups, changes, warnings, registryErrors };
}

/**
 * A marker whose current tag the policy cannot order (`latest`, a branch name, a tag the filter drops) points
 * at a moving target: the deployed image can change without a commit. Suggest pinning a version or digest.
 */
export function mutableTagWarnings(
  policies: readonly ImagePolicySpec[],
  files: ReconcileInput['files'],
): Warning[] {
  const byKey = new Map(policies.map((p) => [policyKey(p), p]));
  const out: Warning[] = [];
  for (const f of files) {
    for (const m of findMarkers(f.path, f.text)) {
      const spec = byKey.get(m.key);
      if (!spec || (m.field !== 'tag' && m.field !== 'ref')) continue;
      const tag = tagOfValue(m.value, m.setter);
      if (tag === undefined) continue;
      // Admit every version (prereleases too): the question is whether the policy can order it at all.
      const probe: ImagePolicySpec =
        'semver' in spec.policy ? { ...spec, policy: { semver: { range: '>=0.0.0-0' } } } : spec;
      const orderable = tag !== 'latest' && selectLatest(probe, [tag]).kind === 'selected';
      if (!orderable) {
        out.push({
          code: 'mutable-tag',
          message: `${f.path}:${m.line}: "${m.value}" uses a tag that policy ${m.key} cannot order; it may change under you — pin a version (or a digest with digestReflectionPolicy)`,
          file: f.path,
          line: m.line,
        });
      }
    }
  }
  return out;
}

function rewriteAll(
  files: ReconcileInput['files'],
  results: Record<string, PolicyResult>,
  warnings: Warning[],
): { fileChanges: FileChange[]; markerChanges: MarkerChange[] } {
  const fileChanges: FileChange[] = [];
  const markerChanges: MarkerChange[] = [];
  for (const f of files) {
    const out = rewriteMarkers(f.path, f.text, results);
    warnings.push(...out.warnings);
    if (out.text !== f.text) {
      fileChanges.push({ file: f.path, oldText: f.text, newText: out.text, changes: out.changes });
      markerChanges.push(...out.changes);
    }
  }
  return { fileChanges, markerChanges };
}

/** Trust rule: an event whose digest disagrees with the registry is reported; the registry wins. */
async function crossCheckEvents(
  deps: ReconcileDeps,
  input: ReconcileInput,
  spec: ImagePolicySpec,
  tag: string,
  warnings: Warning[],
): Promise<void> {
  const image = canonicalOrSelf(spec.image);
  const event = input.events?.find((e) => e.image === image && e.tag === tag && e.digest);
  if (!event?.digest) return;
  try {
    const actual = await deps.registry.resolveDigest(spec.image, tag, { signal: input.signal });
    if (actual !== event.digest) {
      warnings.push({
        code: 'event-digest-mismatch',
        message: `${image}:${tag}: the webhook said ${event.digest} but the registry has ${actual}; using the registry's`,
      });
    }
  } catch {
    // The tag was just listed; a failed digest look-up here is not worth failing the run.
  }
}

async function provenance(
  deps: ReconcileDeps,
  image: string,
  oldTag: string | undefined,
  newTag: string,
): Promise<PolicyUpdate['provenance']> {
  const get = deps.registry.getImageMetadata?.bind(deps.registry);
  if (!get) return undefined;
  const safe = async (tag: string | undefined): Promise<ImageMetadata | undefined> => {
    if (tag === undefined) return undefined;
    try {
      return await get(image, tag);
    } catch {
      return undefined;
    }
  };
  const [o, n] = await Promise.all([safe(oldTag), safe(newTag)]);
  return {
    ...(o && { old: { source: o.source, revision: o.revision } }),
    ...(n && { new: { source: n.source, revision: n.revision } }),
  };
}

/** `ns:name[:tag|:name|:digest]` → `ns:name`. */
export function setterKey(setter: string): string {
  const parts = setter.split(':');
  return parts.slice(0, 2).join(':');
}

/** The tag a marker value carries: the value itself for `:tag`, the part after the last `:` of a full ref. */
export function tagOfValue(value: string, setter: string): string | undefined {
  const suffix = setter.split(':')[2];
  if (suffix === 'tag') return value;
  if (suffix === 'name' || suffix === 'digest') return undefined;
  const noDigest = value.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}

function canonicalOrSelf(image: string): string {
  try {
    return canonicalImageName(image);
  } catch {
    return image;
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export function hasRetryableRegistryError(plan: ReconcilePlan): boolean {
  return plan.registryErrors.some((r) => !(r.error instanceof AppError) || r.error.retryable);
}
