/**
 * Turn a Flux ImagePolicy (with its ImageRepository) or a native `.github/tidemark.yml` policy entry into an
 * ImagePolicySpec, validating everything a selection needs: ranges, regexes, orders. Errors name the field.
 */
import {
  FLUX_IMAGE_POLICY_SPEC_SCHEMA,
  FLUX_IMAGE_REPOSITORY_SPEC_SCHEMA,
  TIDEMARK_CONFIG_SCHEMA,
} from '../config/schema.js';
import { chartImage } from '../domain/chart-ref.js';
import { unknownFieldErrors } from '../domain/did-you-mean.js';
import { parseImageRef } from '../domain/image-ref.js';
import { gatesFromAnnotations, parseGates } from './gates.js';
import { type CompiledRegex, compileRegex, undefinedTemplateRefs } from './regex.js';
import { DEFAULT_EXCLUSION_LIST } from './select-latest.js';
import { parseSemverRange } from './semver.js';
import type {
  DigestReflectionPolicy,
  FilterTags,
  ImagePolicySpec,
  PolicyChoice,
  PolicySource,
  SortOrder,
} from './types.js';

export interface FieldError {
  /** Dotted path of the field, e.g. `spec.policy.semver.range` or `policies[1].filterTags.pattern`. */
  readonly path: string;
  readonly message: string;
}

export type PolicyParseResult =
  | { readonly ok: true; readonly spec: ImagePolicySpec }
  | { readonly ok: false; readonly errors: FieldError[] };

export const FLUX_IMAGE_API_VERSIONS = [
  'image.toolkit.fluxcd.io/v1beta1',
  'image.toolkit.fluxcd.io/v1beta2',
  'image.toolkit.fluxcd.io/v1',
] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const DIGEST_POLICIES: readonly DigestReflectionPolicy[] = ['Never', 'IfNotPresent', 'Always'];

function parseOrder(v: unknown, path: string, errors: FieldError[]): SortOrder {
  if (v === undefined || v === null || v === '') return 'asc';
  if (typeof v === 'string' && /^(asc|desc)$/i.test(v)) return v.toLowerCase() as SortOrder;
  errors.push({ path, message: `expected "asc" or "desc", got ${JSON.stringify(v)}` });
  return 'asc';
}

/** `policy` block, shared by Flux (`spec.policy`) and native (`policy`) forms. Flux precedence: semver > alphabetical > numerical. */
function parseChoice(v: unknown, path: string, errors: FieldError[]): PolicyChoice | undefined {
  if (!isObj(v)) {
    errors.push({ path, message: 'required: one of semver, alphabetical or numerical' });
    return undefined;
  }
  const known = ['semver', 'alphabetical', 'numerical'];
  for (const k of Object.keys(v)) {
    if (!known.includes(k))
      errors.push({ path: `${path}.${k}`, message: `unknown policy kind; use one of ${known.join(', ')}` });
  }
  if (v.semver !== undefined) {
    const s = v.semver;
    const range = isObj(s) ? s.range : undefined;
    if (typeof range !== 'string' || range.trim() === '') {
      errors.push({
        path: `${path}.semver.range`,
        message: 'required: a semver range such as ">=1.0.0" or "^2.3"',
      });
      return undefined;
    }
    try {
      parseSemverRange(range);
    } catch {
      errors.push({ path: `${path}.semver.range`, message: `invalid range ${JSON.stringify(range)}` });
      return undefined;
    }
    return { semver: { range } };
  }
  if (v.alphabetical !== undefined) {
    const a = isObj(v.alphabetical) ? v.alphabetical : {};
    return { alphabetical: { order: parseOrder(a.order, `${path}.alphabetical.order`, errors) } };
  }
  if (v.numerical !== undefined) {
    const n = isObj(v.numerical) ? v.numerical : {};
    return { numerical: { order: parseOrder(n.order, `${path}.numerical.order`, errors) } };
  }
  errors.push({ path, message: 'required: one of semver, alphabetical or numerical' });
  return undefined;
}

function parseFilter(v: unknown, path: string, errors: FieldError[]): FilterTags | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    errors.push({ path, message: 'expected an object with pattern and optional extract' });
    return undefined;
  }
  const pattern = v.pattern ?? '';
  const extract = v.extract;
  if (typeof pattern !== 'string') {
    errors.push({ path: `${path}.pattern`, message: 'expected a string' });
    return undefined;
  }
  if (extract !== undefined && typeof extract !== 'string') {
    errors.push({ path: `${path}.extract`, message: 'expected a string' });
    return undefined;
  }
  let groups: CompiledRegex['groups'] = { count: 0, names: [] };
  try {
    if (pattern !== '') groups = compileRegex(pattern).groups;
  } catch (err) {
    errors.push({ path: `${path}.pattern`, message: (err as Error).message });
    return undefined;
  }
  if (typeof extract === 'string' && extract !== '') {
    const missing = undefinedTemplateRefs(extract, groups);
    if (missing.length > 0) {
      const defined = [
        ...Array.from({ length: groups.count }, (_, i) => `$${i + 1}`),
        ...groups.names.map((n) => `$${n}`),
      ];
      errors.push({
        path: `${path}.extract`,
        message: `${missing.join(', ')} ${missing.length === 1 ? 'names no group' : 'name no groups'} of the pattern (the sort key would be empty); ${defined.length > 0 ? `use ${defined.join(', ')}` : 'add a capture group such as (?P<v>...) to the pattern'}`,
      });
      return undefined;
    }
  }
  return { pattern, ...(extract !== undefined && extract !== '' && { extract }) };
}

function parseExclusions(v: unknown, path: string, errors: FieldError[]): readonly string[] {
  if (v === undefined || v === null) return DEFAULT_EXCLUSION_LIST;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    errors.push({ path, message: 'expected a list of regular expressions' });
    return DEFAULT_EXCLUSION_LIST;
  }
  if (v.length > 25) errors.push({ path, message: `at most 25 entries (Flux's limit), got ${v.length}` });
  v.forEach((p: string, i) => {
    try {
      compileRegex(p);
    } catch (err) {
      errors.push({ path: `${path}[${i}]`, message: (err as Error).message });
    }
  });
  return v as string[];
}

function parseDigestPolicy(v: unknown, path: string, errors: FieldError[]): DigestReflectionPolicy {
  if (v === undefined || v === null) return 'Never';
  if (typeof v === 'string' && (DIGEST_POLICIES as readonly string[]).includes(v))
    return v as DigestReflectionPolicy;
  errors.push({ path, message: `expected one of ${DIGEST_POLICIES.join(', ')}, got ${JSON.stringify(v)}` });
  return 'Never';
}

function parseImage(v: unknown, path: string, errors: FieldError[]): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') {
    errors.push({ path, message: 'required: the image repository, e.g. ghcr.io/acme/web' });
    return undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    errors.push({
      path,
      message: `remove the scheme: ${JSON.stringify(v.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''))}`,
    });
    return undefined;
  }
  try {
    const ref = parseImageRef(v);
    if (ref.tag !== undefined || ref.digest !== undefined) {
      errors.push({ path, message: `name the repository without a tag or digest (${JSON.stringify(v)})` });
      return undefined;
    }
  } catch (err) {
    errors.push({ path, message: (err as Error).message });
    return undefined;
  }
  return v;
}

/** A Kubernetes object name, as the schema's policy `name` says (the one source of the pattern). */
const NAME_RE = new RegExp(TIDEMARK_CONFIG_SCHEMA.properties.policies.items.properties.name.pattern);

function parseName(v: unknown, path: string, errors: FieldError[]): string | undefined {
  if (typeof v !== 'string' || !NAME_RE.test(v) || v.length > 253) {
    errors.push({
      path,
      message: `expected a Kubernetes name (lower-case letters, digits, - and .), got ${JSON.stringify(v)}`,
    });
    return undefined;
  }
  return v;
}

/**
 * A Flux ImagePolicy and the ImageRepository its `spec.imageRepositoryRef` names. `namespace` is the
 * policy's resolved namespace (metadata, kustomization or default — the caller's job).
 */
export function parseFluxPolicy(
  policy: unknown,
  repository: unknown,
  ctx: { readonly namespace: string; readonly source: PolicySource },
): PolicyParseResult {
  const errors: FieldError[] = [];
  const p = isObj(policy) ? policy : {};
  const meta = isObj(p.metadata) ? p.metadata : {};
  const spec = isObj(p.spec) ? p.spec : {};
  unknownFields(spec, FLUX_POLICY_SPEC, 'spec', errors);
  if (isObj(spec.filterTags))
    unknownFields(spec.filterTags, ['pattern', 'extract'], 'spec.filterTags', errors);
  const name = parseName(meta.name, 'metadata.name', errors);
  const gates = gatesFromAnnotations(meta.annotations, errors);
  const choice = parseChoice(spec.policy, 'spec.policy', errors);
  const filterTags = parseFilter(spec.filterTags, 'spec.filterTags', errors);
  const digestReflectionPolicy = parseDigestPolicy(
    spec.digestReflectionPolicy,
    'spec.digestReflectionPolicy',
    errors,
  );
  const r = isObj(repository) ? repository : undefined;
  const rspec = r && isObj(r.spec) ? r.spec : {};
  if (r) unknownFields(rspec, FLUX_REPOSITORY_SPEC, 'ImageRepository spec', errors);
  if (!r)
    errors.push({ path: 'spec.imageRepositoryRef', message: 'the ImageRepository it names was not found' });
  const image = r ? parseImage(rspec.image, 'ImageRepository spec.image', errors) : undefined;
  const exclusionList = parseExclusions(rspec.exclusionList, 'ImageRepository spec.exclusionList', errors);
  const provider = rspec.provider;
  const providers = ['generic', 'aws', 'azure', 'gcp'] as const;
  if (provider !== undefined && !providers.includes(provider as (typeof providers)[number]))
    errors.push({
      path: 'ImageRepository spec.provider',
      message: `expected one of ${providers.join(', ')}, got ${JSON.stringify(provider)}`,
    });
  const secretRef = isObj(rspec.secretRef) ? rspec.secretRef.name : undefined;
  if (rspec.secretRef !== undefined && (typeof secretRef !== 'string' || !NAME_RE.test(secretRef)))
    errors.push({
      path: 'ImageRepository spec.secretRef.name',
      message: `expected the name of a Secret, got ${JSON.stringify(secretRef)}`,
    });
  if (errors.length > 0 || !name || !choice || !image) return { ok: false, errors };
  return {
    ok: true,
    spec: {
      name,
      namespace: ctx.namespace,
      ...(typeof secretRef === 'string' && { secretRef }),
      image,
      exclusionList,
      ...(filterTags && { filterTags }),
      policy: choice,
      digestReflectionPolicy,
      ...(provider !== undefined && { provider: provider as (typeof providers)[number] }),
      ...(gates && { gates }),
      ...(isObj(meta.labels) && { labels: stringValues(meta.labels) }),
      source: ctx.source,
    },
  };
}

function stringValues(o: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v;
  return out;
}

const FLUX_POLICY_SPEC = Object.keys(FLUX_IMAGE_POLICY_SPEC_SCHEMA.properties);
const FLUX_REPOSITORY_SPEC = Object.keys(FLUX_IMAGE_REPOSITORY_SPEC_SCHEMA.properties);

function unknownFields(
  obj: Record<string, unknown>,
  known: readonly string[],
  path: string,
  errors: FieldError[],
) {
  errors.push(...unknownFieldErrors(obj, known, path));
}

/** The fields of a native policy entry: the schema's, the one source. */
const NATIVE_FIELDS = Object.keys(TIDEMARK_CONFIG_SCHEMA.properties.policies.items.properties);

/** A native policy entry: Flux's field names with the image inline. `prefix` is its path, e.g. `policies[2]`. */
export function parseNativePolicy(
  entry: unknown,
  ctx: {
    readonly defaultNamespace: string;
    readonly source: PolicySource;
    readonly prefix?: string;
    /** Flux source objects in the repo, for a chart's `sourceRef`. */
    readonly fluxSource?: FluxSourceLookup;
  },
): PolicyParseResult {
  const errors: FieldError[] = [];
  const at = (f: string) => (ctx.prefix ? `${ctx.prefix}.${f}` : f);
  if (!isObj(entry))
    return { ok: false, errors: [{ path: ctx.prefix ?? '', message: 'expected a policy object' }] };
  for (const k of Object.keys(entry)) {
    if (!NATIVE_FIELDS.includes(k))
      errors.push({ path: at(k), message: `unknown field; known fields: ${NATIVE_FIELDS.join(', ')}` });
  }
  const name = parseName(entry.name, at('name'), errors);
  const namespace =
    entry.namespace === undefined
      ? ctx.defaultNamespace
      : parseName(entry.namespace, at('namespace'), errors);
  let image: string | undefined;
  if (entry.chart !== undefined && entry.image !== undefined)
    errors.push({
      path: at('chart'),
      message: 'set either image (a container image) or chart (a Helm chart), not both',
    });
  else if (entry.chart !== undefined)
    image = parseChart(entry.chart, at('chart'), namespace ?? ctx.defaultNamespace, ctx.fluxSource, errors);
  else image = parseImage(entry.image, at('image'), errors);
  const choice = parseChoice(entry.policy, at('policy'), errors);
  const filterTags = parseFilter(entry.filterTags, at('filterTags'), errors);
  const exclusionList = parseExclusions(entry.exclusionList, at('exclusionList'), errors);
  const digestReflectionPolicy = parseDigestPolicy(
    entry.digestReflectionPolicy,
    at('digestReflectionPolicy'),
    errors,
  );
  const gates = parseGates(entry, ctx.prefix ?? '', errors);
  if (entry.chart !== undefined) {
    for (const f of IMAGE_ONLY_GATES)
      if (entry[f] !== undefined)
        errors.push({
          path: at(f),
          message: `${f} is about container images; a chart has no ${f === 'platforms' ? 'platforms' : `${f} tidemark can check`}: remove it`,
        });
    if (digestReflectionPolicy !== 'Never')
      errors.push({
        path: at('digestReflectionPolicy'),
        message: 'a chart is bumped by its version only: remove digestReflectionPolicy',
      });
  }
  if (errors.length > 0 || !name || !namespace || !image || !choice) return { ok: false, errors };
  return {
    ok: true,
    spec: {
      name,
      namespace,
      image,
      exclusionList,
      ...(filterTags && { filterTags }),
      policy: choice,
      digestReflectionPolicy,
      ...(gates && { gates }),
      source: ctx.source,
    },
  };
}

/** Gates that only a container image can pass (a chart policy refuses them; repo defaults skip charts). */
export const IMAGE_ONLY_GATES = ['platforms', 'signature', 'provenance'] as const;

/** A Flux source object (source.toolkit.fluxcd.io) found in the repo: where a chart lives. */
export interface FluxSourceObject {
  readonly url: string;
  /** HelmRepository `spec.type` (`default` or `oci`). */
  readonly type?: string;
}
export type FluxSourceLookup = (
  kind: 'HelmRepository' | 'OCIRepository',
  namespace: string,
  name: string,
) => FluxSourceObject | undefined;

/**
 * A native policy's `chart`: where the chart lives (a repository URL or a Flux source in the repo) and its name,
 * as the `image` string a chart policy carries (`core/domain/chart-ref.ts`).
 */
function parseChart(
  v: unknown,
  path: string,
  namespace: string,
  lookup: FluxSourceLookup | undefined,
  errors: FieldError[],
): string | undefined {
  if (!isObj(v)) {
    errors.push({
      path,
      message:
        'expected { repository: https://charts.example.com, name: <chart> } or { sourceRef: { kind: HelmRepository, name: <name> }, name: <chart> }',
    });
    return undefined;
  }
  const chartName = typeof v.name === 'string' && CHART_NAME_RE.test(v.name) ? v.name : undefined;
  if (v.name !== undefined && !chartName)
    errors.push({
      path: `${path}.name`,
      message: `expected a chart name such as cert-manager, got ${JSON.stringify(v.name)}`,
    });
  let repository: string | undefined;
  let ociArtifact = false;
  if (v.repository !== undefined && v.sourceRef !== undefined) {
    errors.push({ path: `${path}.sourceRef`, message: 'set either repository or sourceRef, not both' });
    return undefined;
  }
  if (typeof v.repository === 'string') {
    repository = repositoryUrl(v.repository, `${path}.repository`, errors);
  } else if (isObj(v.sourceRef)) {
    const ref = v.sourceRef;
    const kind = ref.kind === 'HelmRepository' || ref.kind === 'OCIRepository' ? ref.kind : undefined;
    if (!kind) {
      errors.push({
        path: `${path}.sourceRef.kind`,
        message: `expected HelmRepository or OCIRepository, got ${JSON.stringify(ref.kind)}`,
      });
      return undefined;
    }
    const ns = typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : namespace;
    const found = typeof ref.name === 'string' ? lookup?.(kind, ns, ref.name) : undefined;
    if (!found) {
      errors.push({
        path: `${path}.sourceRef`,
        message: `${kind} "${ns}/${String(ref.name)}" was not found in the repository; add it (source.toolkit.fluxcd.io) or write chart.repository instead`,
      });
      return undefined;
    }
    ociArtifact = kind === 'OCIRepository';
    if (kind === 'HelmRepository' && found.type === 'oci' && !found.url.startsWith('oci://')) {
      errors.push({
        path: `${path}.sourceRef`,
        message: `HelmRepository "${ns}/${String(ref.name)}" has type oci but its url ${JSON.stringify(found.url)} does not start with oci://`,
      });
      return undefined;
    }
    repository = repositoryUrl(found.url, `${path}.sourceRef`, errors);
  } else {
    errors.push({
      path: `${path}.repository`,
      message: 'required: the Helm repository (https://… or oci://…), or a sourceRef',
    });
    return undefined;
  }
  if (!repository) return undefined;
  if (ociArtifact) {
    if (v.name !== undefined)
      errors.push({
        path: `${path}.name`,
        message: "an OCIRepository's url names the chart already: remove name",
      });
    if (!repository.startsWith('oci://')) {
      errors.push({
        path: `${path}.sourceRef`,
        message: `an OCIRepository's url starts with oci://, got ${JSON.stringify(repository)}`,
      });
      return undefined;
    }
    // An OCIRepository's `spec.ref.tag` holds the OCI tag itself (no `_` → `+`): watched like an image.
    return repository.slice('oci://'.length);
  }
  if (!chartName) {
    if (v.name === undefined)
      errors.push({ path: `${path}.name`, message: "required: the chart's name, e.g. cert-manager" });
    return undefined;
  }
  return chartImage(repository, chartName);
}

const CHART_NAME_RE = new RegExp(
  TIDEMARK_CONFIG_SCHEMA.properties.policies.items.properties.chart.properties.name.pattern,
);

function repositoryUrl(v: string, path: string, errors: FieldError[]): string | undefined {
  if (v.startsWith('oci://')) {
    try {
      const ref = parseImageRef(v.slice(6));
      if (ref.tag !== undefined || ref.digest !== undefined)
        throw new Error('name the repository without a tag or digest');
    } catch (err) {
      errors.push({ path, message: `${JSON.stringify(v)}: ${(err as Error).message}` });
      return undefined;
    }
    return v.replace(/\/+$/, '');
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    errors.push({
      path,
      message: `expected https://… (an HTTP Helm repository) or oci://…, got ${JSON.stringify(v)}`,
    });
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash) {
    errors.push({
      path,
      message: `write the repository's URL without credentials, query or fragment, got ${JSON.stringify(v)}`,
    });
    return undefined;
  }
  return url.toString().replace(/\/+$/, '');
}
