/**
 * The file half of a run's plan, pure: each policy's choice from the tags collected, the marked values that
 * change, and how the changes group into publishes (one per policy, or one for all). Each file's markers are
 * read once per run (`readMarkedFiles`) and applied for every group from that one reading.
 */
import { type Automation, isUnder } from '../config/automations.js';
import type { RepoConfig } from '../config/repo-config.js';
import { isChart } from '../domain/chart-ref.js';
import { didYouMean } from '../domain/did-you-mean.js';
import { canonicalImageName, TAG_RE } from '../domain/image-ref.js';
import type { FileChange, MarkerField, PolicyResult, Warning } from '../domain/types.js';
import {
  applyMarkers,
  isTemplateFile,
  type Marker,
  parseMarkerComment,
  readMarkers,
} from '../markers/index.js';
import { selectLatest } from '../policy/index.js';
import { type ImagePolicySpec, policyKey } from '../policy/types.js';
import { type IgnoreRule, ignoredBy } from './commands.js';
import type { GateCheck, WaitingCandidate } from './gates.js';
import type { PolicyOutcome, ReconcilePlan } from './publish-plan.js';
import { branchNameFor, type PolicyUpdate, type UpdateGroup } from './update.js';

/** A file under `update.path` holding the marker token, with its markers read once. */
export interface MarkedFile {
  readonly path: string;
  readonly text: string;
  readonly markers: readonly Marker[];
  /** Why the file's markers cannot be used (YAML that does not parse). */
  readonly problems?: readonly Warning[];
}

/**
 * Markers already read, by file path and content: a run reuses the reading of every file that did not change
 * since an earlier run (the App's periodic reconcile mostly meets unchanged files). Bounded by the caller.
 */
export interface MarkerReadings {
  get(path: string, text: string): ReturnType<typeof readMarkers> | undefined;
  set(path: string, text: string, reading: ReturnType<typeof readMarkers>): void;
}

export function readMarkedFiles(
  files: readonly { path: string; text: string }[],
  readings?: MarkerReadings,
): MarkedFile[] {
  return files.map((f) => {
    let r = readings?.get(f.path, f.text);
    if (!r) {
      r = readMarkers(f.path, f.text);
      readings?.set(f.path, f.text, r);
    }
    return {
      path: f.path,
      text: f.text,
      markers: r.markers,
      ...(r.warnings.length > 0 && { problems: r.warnings }),
    };
  });
}

/** What the registry said about an image: its tags, or why they could not be read. */
export type TagLookup = { readonly tags: readonly string[] } | { readonly error: Error };

export interface RegistryFailure {
  readonly image: string;
  readonly error: Error;
}

/** A policy whose newest allowed tag was found (and not declined): the registry is asked for its digest next. */
export interface Chosen {
  readonly key: string;
  readonly spec: ImagePolicySpec;
  readonly tag: string;
  readonly digest?: string;
  /** The gates it passed (policies with gates). */
  readonly checks?: readonly GateCheck[];
  /** Newer candidates a gate held back. */
  readonly waiting?: readonly WaitingCandidate[];
}

export interface Choices {
  readonly chosen: readonly Chosen[];
  /** Outcomes of the policies that chose nothing: invalid, no tag, declined, registry error. */
  readonly outcomes: Readonly<Record<string, PolicyOutcome>>;
  readonly warnings: readonly Warning[];
  readonly registryErrors: readonly RegistryFailure[];
}

/** The key of an image in the tag facts: its canonical name (or itself, when it does not parse). */
export function imageKey(image: string): string {
  try {
    // A chart keeps its scheme: an OCI chart's tags are read as chart versions, an HTTP chart's from index.yaml.
    if (image.startsWith('oci://')) return `oci://${canonicalImageName(image.slice(6))}`;
    if (isChart(image)) return image;
    return canonicalImageName(image);
  } catch {
    return image;
  }
}

/** A Helm chart version (SemVer 2, build metadata allowed), bounded like a tag. */
const CHART_VERSION_RE = /^[\w][\w.+-]{0,127}$/;

/** The images whose tags a run must read, each once. */
export function imagesOf(config: RepoConfig): string[] {
  return [...new Set(config.policies.map((p) => imageKey(p.image)))];
}

/** Each policy's choice from its image's tags (Flux's selection), declined versions set aside. */
export function choose(
  config: RepoConfig,
  tags: ReadonlyMap<string, TagLookup>,
  skippedTags?: ReadonlyMap<string, ReadonlySet<string>>,
  /** Version lines people asked tidemark to ignore (`/tidemark ignore this minor|major`), by policy key. */
  ignoreRules?: ReadonlyMap<string, readonly IgnoreRule[]>,
): Choices {
  const chosen: Chosen[] = [];
  const outcomes: Record<string, PolicyOutcome> = {};
  const warnings: Warning[] = [];
  const registryErrors: RegistryFailure[] = [];
  const reportedImages = new Set<string>();
  for (const spec of config.policies) {
    const key = policyKey(spec);
    const lookup = tags.get(imageKey(spec.image)) ?? {
      error: new Error(`tags of ${spec.image} were not read`),
    };
    if ('error' in lookup) {
      registryErrors.push({ image: spec.image, error: lookup.error });
      outcomes[key] = { status: 'registry-error', reason: lookup.error.message };
      continue;
    }
    // A registry is not trusted to list only tags: anything outside the OCI tag grammar (a newline, a quote,
    // `../`, 70,000 characters) is never compared or written, and is reported once per image.
    // A chart's versions are SemVer 2 (`+` allowed: an OCI chart's `_` is read back as `+`).
    const grammar = isChart(spec.image) ? CHART_VERSION_RE : TAG_RE;
    const valid = lookup.tags.filter((t) => grammar.test(t));
    if (valid.length < lookup.tags.length && !reportedImages.has(spec.image)) {
      reportedImages.add(spec.image);
      const bad = lookup.tags.filter((t) => !grammar.test(t));
      warnings.push({
        code: 'tag-invalid',
        message: `${spec.image}: the registry listed ${bad.length} ${isChart(spec.image) ? 'version' : 'tag'}${bad.length === 1 ? '' : 's'} that ${bad.length === 1 ? 'is' : 'are'} not a valid ${isChart(spec.image) ? 'chart version' : 'OCI tag'} (e.g. ${JSON.stringify(bad[0]!.slice(0, 40))}); skipped`,
      });
    }
    const selection = selectLatest(spec, valid);
    if (selection.kind === 'invalid') {
      outcomes[key] = { status: 'invalid', reason: selection.error };
      warnings.push({
        code: 'policy-invalid',
        message: `${key}: ${selection.error}`,
        file: spec.source.file,
      });
      continue;
    }
    if (selection.kind === 'none') {
      outcomes[key] = { status: 'none', reason: selection.reason };
      continue;
    }
    if (skippedTags?.get(key)?.has(selection.tag)) {
      outcomes[key] = {
        status: 'skipped',
        tag: selection.tag,
        reason: `a pull request for ${selection.tag} was closed without merging`,
      };
      continue;
    }
    const rule = ignoredBy(ignoreRules?.get(key), selection.tag);
    if (rule) {
      outcomes[key] = {
        status: 'skipped',
        tag: selection.tag,
        reason: `${rule.scope === 'major' ? `${rule.major}.x` : `${rule.major}.${rule.minor}.x`} ignored by @${rule.by} (PR #${rule.pr})`,
      };
      continue;
    }
    chosen.push({ key, spec, tag: selection.tag });
  }
  return { chosen, outcomes, warnings, registryErrors };
}

/** The policies whose digest the registry must be asked for (digest reflection on). */
export function needsDigest(c: Chosen): boolean {
  return c.spec.digestReflectionPolicy !== 'Never';
}

export interface FilePlanInput {
  readonly config: RepoConfig;
  readonly files: readonly MarkedFile[];
  /** Chosen policies, with their digests where the registry gave one. */
  readonly chosen: readonly Chosen[];
  readonly outcomes: Readonly<Record<string, PolicyOutcome>>;
  readonly warnings: readonly Warning[];
  readonly registryErrors: readonly RegistryFailure[];
}

/** The marker rewrites and publish groups for the chosen policies. */
export function planFiles(input: FilePlanInput): ReconcilePlan {
  const { config } = input;
  // Several ImageUpdateAutomations: a marker is applied only under the path of an automation that selects its
  // policy (Flux's semantics); the others are reported.
  const automations = config.automations;
  const warnings: Warning[] = [...input.warnings];
  const charts = new Set(config.policies.filter((p) => isChart(p.image)).map(policyKey));
  const usable = charts.size > 0 ? input.files.map((f) => withChartTags(f, charts, warnings)) : input.files;
  const files = automations ? usable.map((f) => withApplicable(f, automations)) : usable;
  const perPolicy: Record<string, PolicyOutcome> = { ...input.outcomes };
  const results: Record<string, PolicyResult> = {};
  const byKey = [...input.chosen].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const c of byKey)
    results[c.key] = { name: c.spec.image, tag: c.tag, ...(c.digest && { digest: c.digest }) };

  warnings.push(...files.flatMap((f) => f.problems ?? []), ...markersThatDoNothing(config, input.files));
  const markerCount = new Map<string, number>();
  for (const f of files) for (const m of f.markers) markerCount.set(m.key, (markerCount.get(m.key) ?? 0) + 1);
  const held = currentTags(files);

  // All policies together (push mode and `group: all`).
  const changes: FileChange[] = [];
  for (const f of files) {
    const out = applyMarkers(f.path, f.text, f.markers, results);
    // Markers naming no policy are reported once, with "did you mean", by markersThatDoNothing.
    warnings.push(...out.warnings.filter((w) => w.code !== 'marker-unknown-policy'));
    if (out.text !== f.text)
      changes.push({ file: f.path, oldText: f.text, newText: out.text, changes: out.changes });
  }
  const markerChanges = changes.flatMap((c) => c.changes);

  const updates: PolicyUpdate[] = [];
  const groups: UpdateGroup[] = [];
  for (const c of byKey) {
    const own = markerChanges.filter((m) => m.key === c.key);
    const previous = mostCommon(own.map((m) => tagOfValue(m.old, m.field)).filter((t) => t !== undefined));
    perPolicy[c.key] = {
      status: 'selected',
      tag: c.tag,
      ...(c.digest && { digest: c.digest }),
      ...(previous && { previous }),
      markers: markerCount.get(c.key) ?? 0,
      current: [...(held.get(c.key) ?? [])].sort(),
      ...(c.checks?.length && { checks: c.checks }),
      ...(c.waiting?.length && { waiting: c.waiting }),
    };
    if (own.length === 0) continue;
    const update: PolicyUpdate = {
      key: c.key,
      namespace: c.spec.namespace,
      name: c.spec.name,
      image: c.spec.image,
      ...(previous && { oldTag: previous }),
      newTag: c.tag,
      ...(c.digest && { digest: c.digest }),
      ...(c.checks?.length && { checks: c.checks }),
      ...(c.spec.gates?.autoMerge !== undefined && { autoMerge: c.spec.gates.autoMerge }),
      changes: own,
    };
    updates.push(update);
    if (config.update.group === 'per-policy') {
      const touched = new Set(own.map((m) => m.file));
      const fileChanges: FileChange[] = [];
      for (const f of files) {
        if (!touched.has(f.path)) continue;
        const mine = f.markers.filter((m) => m.key === c.key);
        const out = applyMarkers(f.path, f.text, mine, { [c.key]: results[c.key]! });
        fileChanges.push({ file: f.path, oldText: f.text, newText: out.text, changes: out.changes });
      }
      groups.push({
        kind: 'per-policy',
        branch: branchNameFor('per-policy', c.key),
        updates: [update],
        files: fileChanges,
      });
    }
  }
  if (automations && config.update.strategy === 'pull-request' && updates.length > 0) {
    groups.push(...automationGroups(automations, files, results, updates));
  } else if (config.update.group === 'all' && updates.length > 0) {
    groups.push({
      kind: 'all',
      branch: branchNameFor('all', undefined, config.update.branch),
      updates,
      files: changes,
    });
  }
  if (automations) warnings.push(...markersNoAutomationApplies(input.files, files, automations));
  warnings.push(...mutableTagWarnings(config.policies, files));
  return { perPolicy, updates, groups, changes, warnings, registryErrors: [...input.registryErrors] };
}

/**
 * What a user wrote that will never do anything, each with what to write instead: a policy no marker under
 * `update.path` uses, a marker naming a policy that does not exist (with "did you mean"), and a comment that
 * mentions `$imagepolicy` but is not a marker Flux reads (single quotes, `:tags`, a typo in the key).
 */
export function markersThatDoNothing(config: RepoConfig, files: readonly MarkedFile[]): Warning[] {
  const out: Warning[] = [];
  const keys = config.policies.map((p) => policyKey(p));
  const used = new Set<string>();
  for (const f of files) {
    const lines = f.text.split('\n');
    const markerLines = new Set<number>();
    for (const m of f.markers) {
      used.add(m.key);
      // A marker's comment is on its value's line, or (a sequence item's head comment) on the line above.
      markerLines.add(lines[m.line - 1]?.includes('$imagepolicy') ? m.line : m.line - 1);
      if (!keys.includes(m.key)) {
        const hint = didYouMean(m.key, keys);
        out.push({
          code: 'marker-unknown-policy',
          message: `${f.path}:${m.line}: marker "${m.setter}" names policy ${m.key}, which is not defined${hint ? `; did you mean "${hint}"?` : keys.length > 0 ? `; defined: ${keys.join(', ')}` : ''}`,
          file: f.path,
          line: m.line,
        });
      }
    }
    if (f.problems?.length) continue; // a file that does not parse is reported once, above
    const template = isTemplateFile(f.path, f.text);
    lines.forEach((line, i) => {
      if (!line.includes('$imagepolicy') || markerLines.has(i + 1)) return;
      const hash = line.indexOf('#');
      if (hash < 0) return;
      const comment = line.slice(hash);
      const at = `${f.path}:${i + 1}`;
      const valid = parseMarkerComment(comment) !== undefined;
      const message =
        template && valid && line.slice(0, hash).includes('{{')
          ? `${at}: the value is a template expression ({{ … }}), which tidemark leaves alone; put the image or tag in a plain value and keep the marker after it`
          : template && valid && line.slice(0, hash).trim() === ''
            ? `${at}: in a template the marker must follow its value on the same line (key: value # {"$imagepolicy": …}); a marker on the line above is not applied`
            : `${at}: this comment mentions $imagepolicy but is not a marker Flux reads (${comment.trim().slice(0, 80)}); write # {"$imagepolicy": "<namespace>:<policy>"} (optionally :tag, :name or :digest) after the value on the same line`;
      out.push({ code: 'marker-not-understood', message, file: f.path, line: i + 1 });
    });
  }
  for (const key of keys) {
    if (used.has(key)) continue;
    const policy = config.policies.find((p) => policyKey(p) === key);
    const source = policy?.source;
    const marker = policy && isChart(policy.image) ? `${key}:tag` : key;
    out.push({
      code: 'policy-unused',
      message: `${key}: no marker under update.path "${config.update.path}" uses this policy, so it changes nothing; add # {"$imagepolicy": "${marker}"} after the ${marker === key ? 'image' : 'chart version'} it should update (docs/markers.md)`,
      ...(source?.file && { file: source.file }),
      ...(source?.line && { line: source.line }),
    });
  }
  return out;
}

/** The updates and groups with each policy's image provenance (for PR compare links) attached. */
export function withProvenance(
  plan: ReconcilePlan,
  provenance: ReadonlyMap<string, NonNullable<PolicyUpdate['provenance']>>,
): ReconcilePlan {
  if (provenance.size === 0) return plan;
  const attach = (u: PolicyUpdate): PolicyUpdate => {
    const p = provenance.get(u.key);
    return p ? { ...u, provenance: p } : u;
  };
  return {
    ...plan,
    updates: plan.updates.map(attach),
    groups: plan.groups.map((g) => ({ ...g, updates: g.updates.map(attach) })),
  };
}

/**
 * A marker whose current tag the policy cannot order (`latest`, a branch name, a tag the filter drops) points
 * at a moving target: the deployed image can change without a commit. Suggest pinning a version or digest.
 */
export function mutableTagWarnings(
  policies: readonly ImagePolicySpec[],
  files: readonly MarkedFile[],
): Warning[] {
  const byKey = new Map(policies.map((p) => [policyKey(p), p]));
  const out: Warning[] = [];
  for (const f of files) {
    for (const m of f.markers) {
      const spec = byKey.get(m.key);
      if (!spec || (m.field !== 'tag' && m.field !== 'ref')) continue;
      const tag = tagOfValue(m.value, m.field);
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

/** A chart's version is all a marker can hold of it: `…:tag` markers only; the others are reported and left alone. */
function withChartTags(f: MarkedFile, charts: ReadonlySet<string>, warnings: Warning[]): MarkedFile {
  const markers = f.markers.filter((m) => {
    if (!charts.has(m.key) || m.field === 'tag') return true;
    warnings.push({
      code: 'marker-chart-field',
      message: `the marker for ${m.key} holds a whole image reference, but ${m.key} watches a Helm chart: a chart's marker sits on its version and ends in ":tag" ({"$imagepolicy": "${m.key}:tag"})`,
      file: f.path,
      line: m.line,
    });
    return false;
  });
  return markers.length === f.markers.length ? f : { ...f, markers };
}

/** A file's markers that some automation applies: under its path, naming a policy it selects. */
function withApplicable(f: MarkedFile, automations: readonly Automation[]): MarkedFile {
  const own = automations.filter((a) => isUnder(f.path, a.path));
  return { ...f, markers: f.markers.filter((m) => own.some((a) => a.policies.includes(m.key))) };
}

/** The PR branch of an automation: its push branch, or one of tidemark's named after it. */
export function automationBranch(a: Automation): string {
  return a.pushBranch && a.pushBranch !== a.checkoutBranch
    ? a.pushBranch
    : branchNameFor('per-policy', a.id.replace('/', ':'));
}

/**
 * One group per automation branch (automations pushing to one branch share it), carrying the changes of the
 * markers under their paths for the policies they select: Flux pushes an automation's changes as one commit.
 */
function automationGroups(
  automations: readonly Automation[],
  files: readonly MarkedFile[],
  results: Readonly<Record<string, PolicyResult>>,
  updates: readonly PolicyUpdate[],
): UpdateGroup[] {
  const byBranch = new Map<string, Automation[]>();
  for (const a of automations)
    byBranch.set(automationBranch(a), [...(byBranch.get(automationBranch(a)) ?? []), a]);
  const groups: UpdateGroup[] = [];
  for (const [branch, list] of byBranch) {
    const fileChanges: FileChange[] = [];
    for (const f of files) {
      const own = list.filter((a) => isUnder(f.path, a.path));
      const mine = f.markers.filter((m) => own.some((a) => a.policies.includes(m.key)));
      if (mine.length === 0) continue;
      const out = applyMarkers(f.path, f.text, mine, results);
      if (out.text !== f.text)
        fileChanges.push({ file: f.path, oldText: f.text, newText: out.text, changes: out.changes });
    }
    if (fileChanges.length === 0) continue;
    const changed = fileChanges.flatMap((c) => c.changes);
    const own = updates.flatMap((u) => {
      const mine = changed.filter((m) => m.key === u.key);
      return mine.length > 0 ? [{ ...u, changes: mine }] : [];
    });
    groups.push({ kind: 'all', branch, updates: own, files: fileChanges });
  }
  return groups;
}

/** Markers no automation applies: their file is under no path of an automation selecting their policy. */
function markersNoAutomationApplies(
  all: readonly MarkedFile[],
  applied: readonly MarkedFile[],
  automations: readonly Automation[],
): Warning[] {
  const out: Warning[] = [];
  all.forEach((f, i) => {
    const kept = new Set(applied[i]?.markers ?? []);
    for (const m of f.markers) {
      if (kept.has(m)) continue;
      const selecting = automations.filter((a) => a.policies.includes(m.key));
      if (selecting.length === 0) continue; // reported once per policy as policy-unselected (or unknown)
      out.push({
        code: 'marker-no-automation',
        message: `${f.path}:${m.line}: marker for ${m.key} is outside the path of every automation that selects that policy (${selecting.map((a) => `${a.id}: ${a.path}`).join(', ')}), so it is not updated; move the file or widen spec.update.path`,
        file: f.path,
        line: m.line,
      });
    }
  });
  return out;
}

/** The tags the markers hold now, by policy key: a gated walk never goes below them. */
export function currentTags(files: readonly MarkedFile[]): Map<string, Set<string>> {
  const held = new Map<string, Set<string>>();
  for (const f of files)
    for (const m of f.markers) {
      const tag = tagOfValue(m.value, m.field);
      if (tag !== undefined) held.set(m.key, (held.get(m.key) ?? new Set()).add(tag));
    }
  return held;
}

/** The tag a marker value carries: the value itself for `tag`, the part after the last `:` of a full ref. */
export function tagOfValue(value: string, field: MarkerField): string | undefined {
  if (field === 'tag') return value;
  if (field === 'name' || field === 'digest') return undefined;
  const noDigest = value.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}
