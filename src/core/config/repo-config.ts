/**
 * A repo's configuration, from the files themselves: Flux ImageRepository / ImagePolicy /
 * ImageUpdateAutomation manifests anywhere in the tree, and tidemark's own `.github/tidemark.yml`. Pure: the
 * caller reads the files. A repo with some bad policies still yields the good ones; every problem names its
 * file, line and field and says what to change.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { type Document, isMap, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import { isChart } from '../domain/chart-ref.js';
import { didYouMean } from '../domain/did-you-mean.js';
import type { Warning } from '../domain/types.js';
import { mergeGates, parseGates } from '../policy/gates.js';
import type { FieldError } from '../policy/parse.js';
import {
  FLUX_IMAGE_API_VERSIONS,
  type FluxSourceLookup,
  type FluxSourceObject,
  IMAGE_ONLY_GATES,
  parseFluxPolicy,
  parseNativePolicy,
} from '../policy/parse.js';
import { type ImagePolicySpec, type PolicyGates, policyKey } from '../policy/types.js';
import {
  type Automation,
  commonPath,
  parseSelector,
  unknownFieldsDeep,
  withPolicies,
} from './automations.js';
import { validate as validateNativeConfig } from './native-config.validate.generated.js';
import { FLUX_IMAGE_UPDATE_AUTOMATION_SPEC_SCHEMA } from './schema.js';

export const NATIVE_CONFIG_PATHS = ['.github/tidemark.yml', '.github/tidemark.yaml'];
/** The API group of Flux's image objects: a YAML file without it holds none. */
export const FLUX_IMAGE_GROUP = 'image.toolkit.fluxcd.io';
/** The API group of Flux's sources (HelmRepository, OCIRepository). */
export const FLUX_SOURCE_GROUP = 'source.toolkit.fluxcd.io';
const DEFAULT_NAMESPACE = 'flux-system';
/** Problems named per configuration file; the rest are counted. */
export const MAX_PROBLEMS_PER_FILE = 50;

export interface RegistrySettings {
  readonly credentials?: {
    readonly usernameEnv?: string;
    readonly passwordEnv?: string;
    readonly tokenEnv?: string;
  };
  readonly rateLimit?: { readonly requestsPerSecond?: number; readonly concurrency?: number };
  readonly insecure?: boolean;
}

export interface UpdateSettings {
  readonly strategy: 'pull-request' | 'push';
  readonly branch?: string;
  readonly path: string;
  readonly scanExtensions: readonly string[];
  readonly group: 'per-policy' | 'all';
  readonly labels: readonly string[];
  readonly labelsByLevel?: {
    readonly major?: readonly string[];
    readonly minor?: readonly string[];
    readonly patch?: readonly string[];
  };
  readonly reviewers?: readonly string[];
  readonly teamReviewers?: readonly string[];
  readonly assignees?: readonly string[];
  readonly draft?: boolean;
  readonly autoMerge: { readonly major?: boolean; readonly minor?: boolean; readonly patch?: boolean };
  readonly commitMessage?: string;
  readonly author?: { readonly name: string; readonly email: string };
  /** Gates every policy gets unless it sets its own (freezes add up). */
  readonly gates?: PolicyGates;
  readonly prConcurrentLimit?: number;
  readonly prHourlyLimit?: number;
}

export interface RepoConfig {
  readonly policies: readonly ImagePolicySpec[];
  readonly update: UpdateSettings;
  readonly registries: Readonly<Record<string, RegistrySettings>>;
  readonly defaultNamespace: string;
  /** The dashboard issue (default on; `dashboard: false` in `.github/tidemark.yml` turns it off). */
  readonly dashboard?: boolean;
  /** Files the configuration came from. */
  readonly sources: readonly string[];
  /**
   * Every ImageUpdateAutomation, when there are several: each updates its own policies under its own path, and
   * in pull-request mode gets its own PR from its push branch. `update` is then the first's, with the folder
   * all their paths lie under.
   */
  readonly automations?: readonly Automation[];
}

export interface ConfigProblem {
  readonly file: string;
  readonly line?: number;
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export interface LoadedConfig {
  readonly config: RepoConfig;
  readonly errors: readonly (ConfigProblem & { readonly text: string })[];
  readonly warnings: readonly Warning[];
  /**
   * How to publish could not be read (an error in `update:` or an ImageUpdateAutomation): nothing is published
   * until it is fixed — a typo must never turn pull requests into pushes to the default branch.
   */
  readonly publishingInvalid?: boolean;
  /** Flux HelmRepository and OCIRepository objects in the repo (where charts live), namespaces resolved. */
  readonly fluxSources: readonly FluxSource[];
}

export interface FluxSource extends FluxSourceObject {
  readonly kind: 'HelmRepository' | 'OCIRepository';
  readonly name: string;
  readonly namespace: string;
  readonly file: string;
}

/** Whether a file may hold configuration; `content` is its text or its raw bytes (screened before decoding). */
export function mightHoldConfig(path: string, content: { includes(s: string): boolean }): boolean {
  if (NATIVE_CONFIG_PATHS.includes(path)) return true;
  if (/(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(path)) return true;
  if (!/\.ya?ml$/.test(path)) return false;
  if (content.includes(FLUX_IMAGE_GROUP)) return true;
  // Flux's HelmRepository / OCIRepository: where a chart lives.
  return (
    content.includes(FLUX_SOURCE_GROUP) &&
    (content.includes('HelmRepository') || content.includes('OCIRepository'))
  );
}

interface ParsedDoc {
  readonly file: string;
  readonly line: number;
  readonly value: Record<string, unknown>;
  readonly doc: Document;
  readonly lc: LineCounter;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `TIDEMARK_CONFIG_SCHEMA`, compiled ahead of time (scripts/native-validator.ts): compiling it here cost 0.13 s
 * of CPU on every command.
 */
const compiled = validateNativeConfig as unknown as ValidateFunction;
function validateNative(value: unknown): { valid: boolean; errors: ErrorObject[] } {
  const valid = compiled(value) as boolean;
  return { valid, errors: compiled.errors ?? [] };
}

/** The first key that appears twice in one map, anywhere in the documents; linear in their size. */
function firstDuplicateKey(docs: readonly Document[]): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  for (const doc of docs) {
    visit(doc, {
      Map(_k, map) {
        const keys = new Set<string>();
        for (const item of map.items) {
          const k = isScalar(item.key) ? String(item.key.value) : JSON.stringify(item.key);
          if (keys.has(k)) {
            const range = (item.key as { range?: [number, number, number] } | null)?.range;
            found = { key: k, offset: range?.[0] ?? 0 };
            return visit.BREAK;
          }
          keys.add(k);
        }
        return undefined;
      },
    });
    if (found) return found;
  }
  return undefined;
}

function pointerToPath(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function dotted(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}

function ajvMessage(e: ErrorObject): { path: (string | number)[]; message: string } {
  const path = pointerToPath(e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const prop = String((e.params as { additionalProperty: string }).additionalProperty);
    // "Did you mean" over the fields the schema allows at that very place (ajv's verbose parentSchema).
    const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const hint = didYouMean(prop, known);
    return { path: [...path, prop], message: `unknown field${hint ? `; did you mean "${hint}"?` : ''}` };
  }
  if (e.keyword === 'enum') {
    return {
      path,
      message: `expected one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
    };
  }
  if (e.keyword === 'required') {
    const prop = (e.params as { missingProperty: string }).missingProperty;
    return { path: [...path, prop], message: 'required' };
  }
  if (e.keyword === 'minProperties' || e.keyword === 'maxProperties') {
    return { path, message: 'set exactly one of semver, alphabetical, numerical' };
  }
  return { path, message: e.message ?? 'invalid' };
}

/** Repo-wide gates a policy inherits: a chart takes none of those only an image can pass. */
function chartDefaults(defaults: PolicyGates, p: ImagePolicySpec): PolicyGates {
  if (!isChart(p.image)) return defaults;
  const out: { -readonly [K in keyof PolicyGates]: PolicyGates[K] } = { ...defaults };
  for (const f of IMAGE_ONLY_GATES) delete out[f];
  return out;
}

function nearestKustomizationNamespace(
  file: string,
  namespaces: ReadonlyMap<string, string>,
): string | undefined {
  let dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  for (;;) {
    const ns = namespaces.get(dir);
    if (ns) return ns;
    if (dir === '') return undefined;
    dir = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
  }
}

function safeRelativePath(p: string): boolean {
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return false;
  let depth = 0;
  for (const part of p.split('/')) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return false;
  }
  return true;
}

export function loadRepoConfig(
  files: readonly { readonly path: string; readonly text: string }[],
  opts: { readonly defaultNamespace?: string } = {},
): LoadedConfig {
  const errors: (ConfigProblem & { text: string })[] = [];
  const warnings: Warning[] = [];
  const problem = (p: ConfigProblem) => errors.push({ ...p, text: formatProblem(p) });
  const fluxDocs: ParsedDoc[] = [];
  /** Flux HelmRepository and OCIRepository objects: where a chart policy's `sourceRef` says a chart lives. */
  const sourceDocs: ParsedDoc[] = [];
  const kustomizeNamespaces = new Map<string, string>();
  const sources = new Set<string>();
  let native: { file: string; doc: Document; lc: LineCounter; value: Record<string, unknown> } | undefined;

  for (const f of files) {
    if (!mightHoldConfig(f.path, f.text)) continue;
    const lc = new LineCounter();
    // The yaml library's own duplicate-key check compares every pair of keys (a 40,000-key file cost 8 s of
    // CPU); duplicates are found here instead, in one pass with a set per map.
    const docs = parseAllDocuments(f.text, { lineCounter: lc, uniqueKeys: false });
    const list = Array.isArray(docs) ? docs : [docs];
    const broken = list.flatMap((d) => d.errors);
    const duplicate = broken.length > 0 ? undefined : firstDuplicateKey(list);
    if (broken.length > 0 || duplicate) {
      const e = broken[0];
      problem({
        file: f.path,
        line: lc.linePos(e ? e.pos[0] : duplicate!.offset).line,
        path: '',
        message: e
          ? `not valid YAML: ${e.message.split('\n')[0]}`
          : `not valid YAML: the key ${JSON.stringify(duplicate!.key.slice(0, 80))} appears twice in one map; keep one`,
      });
      continue;
    }
    for (const doc of list) {
      if (!isMap(doc.contents)) continue;
      const line = lc.linePos(doc.contents.range[0]).line;
      let value: Record<string, unknown>;
      try {
        // The yaml library bounds alias expansion (a "billion laughs" document) by throwing: a configuration
        // problem of this file, reported once, never a crash to retry.
        value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
      } catch (err) {
        problem({
          file: f.path,
          line,
          path: '',
          message: `cannot be read: ${(err as Error).message.split('\n')[0]}; write the values out instead of expanding aliases`,
        });
        continue;
      }
      if (NATIVE_CONFIG_PATHS.includes(f.path)) {
        if (!native) native = { file: f.path, doc, lc, value };
        continue;
      }
      const base = f.path.slice(f.path.lastIndexOf('/') + 1);
      if (/^(kustomization\.ya?ml|Kustomization)$/.test(base) && typeof value.namespace === 'string') {
        kustomizeNamespaces.set(
          f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '',
          value.namespace,
        );
      }
      if (
        typeof value.apiVersion === 'string' &&
        (FLUX_IMAGE_API_VERSIONS as readonly string[]).includes(value.apiVersion)
      ) {
        fluxDocs.push({ file: f.path, line, value, doc, lc });
      } else if (
        typeof value.apiVersion === 'string' &&
        value.apiVersion.startsWith(`${FLUX_SOURCE_GROUP}/`) &&
        (value.kind === 'HelmRepository' || value.kind === 'OCIRepository')
      ) {
        sourceDocs.push({ file: f.path, line, value, doc, lc });
      }
    }
  }

  // Native config: validated against the JSON Schema first.
  let nativeValid: Record<string, unknown> = {};
  if (native) {
    sources.add(native.file);
    const checked = validateNative(native.value);
    if (!checked.valid) {
      const seen = new Set<string>();
      let more = 0;
      for (const e of checked.errors) {
        // "image or chart, exactly one": the policy parser says it, naming the field.
        if (e.keyword === 'oneOf' || e.schemaPath.includes('/oneOf/')) continue;
        const { path, message } = ajvMessage(e);
        const key = `${dotted(path)}|${message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Bounded work per input: a file with 100,000 bad keys gets the first few named (finding a line is a
        // walk of the document) and a count, in time linear in its size.
        if (seen.size > MAX_PROBLEMS_PER_FILE) {
          more++;
          continue;
        }
        problem({
          file: native.file,
          line: lineOf(native.doc, native.lc, path),
          path: dotted(path),
          message,
        });
      }
      if (more > 0)
        problem({
          file: native.file,
          path: '',
          message: `and ${more} more problem${more === 1 ? '' : 's'} like these (the first ${MAX_PROBLEMS_PER_FILE} are shown)`,
        });
    }
    nativeValid = native.value;
  }
  const defaultNamespace =
    (typeof nativeValid.defaultNamespace === 'string' && nativeValid.defaultNamespace) ||
    opts.defaultNamespace ||
    DEFAULT_NAMESPACE;
  const nsOf = (d: ParsedDoc): string => {
    const meta = isObj(d.value.metadata) ? d.value.metadata : {};
    return typeof meta.namespace === 'string' && meta.namespace !== ''
      ? meta.namespace
      : (nearestKustomizationNamespace(d.file, kustomizeNamespaces) ?? defaultNamespace);
  };
  const nameOf = (d: ParsedDoc) => (isObj(d.value.metadata) ? d.value.metadata.name : undefined);

  const policies: ImagePolicySpec[] = [];
  const seenKeys = new Map<string, string>();
  const addPolicy = (spec: ImagePolicySpec, where: string, file: string, line: number | undefined) => {
    const key = policyKey(spec);
    const prev = seenKeys.get(key);
    if (prev) {
      problem({
        file,
        line,
        path: '',
        message: `policy "${key}" is defined twice (also at ${prev}); rename one of them`,
      });
      return;
    }
    seenKeys.set(key, where);
    policies.push(spec);
  };

  // Flux manifests.
  const repositories = fluxDocs.filter((d) => d.value.kind === 'ImageRepository');
  for (const d of fluxDocs) {
    if (d.value.kind === 'ImagePolicy') {
      sources.add(d.file);
      const ns = nsOf(d);
      const spec = isObj(d.value.spec) ? d.value.spec : {};
      const ref = isObj(spec.imageRepositoryRef) ? spec.imageRepositoryRef : {};
      const refNs = typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : ns;
      const repo = repositories.find((r) => nameOf(r) === ref.name && nsOf(r) === refNs);
      if (repo) sources.add(repo.file);
      const r = parseFluxPolicy(d.value, repo?.value, {
        namespace: ns,
        source: { kind: 'flux', file: d.file, line: d.line },
      });
      if (!r.ok) {
        for (const e of r.errors) {
          const message =
            e.path === 'spec.imageRepositoryRef'
              ? `ImageRepository "${refNs}/${String(ref.name)}" was not found in the repository; add it or fix the reference`
              : e.message;
          if (repo && e.path.startsWith('ImageRepository ')) {
            // A problem in the ImageRepository is reported where it is written.
            const field = e.path.slice('ImageRepository '.length);
            problem({
              file: repo.file,
              line: lineOf(repo.doc, repo.lc, field.split('.')) ?? repo.line,
              path: `ImageRepository ${refNs}/${String(ref.name)} ${field}`,
              message,
            });
            continue;
          }
          const fieldLine =
            e.path.startsWith('spec.') || e.path.startsWith('metadata.')
              ? lineOf(d.doc, d.lc, e.path.split('.'))
              : undefined;
          problem({
            file: d.file,
            line: fieldLine ?? d.line,
            path: `ImagePolicy ${ns}/${String(nameOf(d))} ${e.path}`,
            message,
          });
        }
        continue;
      }
      addPolicy(r.spec, `${d.file}:${d.line}`, d.file, d.line);
    }
  }

  // Native policies.
  const fluxSources: FluxSource[] = sourceDocs.flatMap((d) => {
    const spec = isObj(d.value.spec) ? d.value.spec : {};
    const name = nameOf(d);
    if (typeof spec.url !== 'string' || typeof name !== 'string') return [];
    return [
      {
        kind: d.value.kind as FluxSource['kind'],
        name,
        namespace: nsOf(d),
        url: spec.url,
        ...(typeof spec.type === 'string' && { type: spec.type }),
        file: d.file,
      },
    ];
  });
  const fluxSource: FluxSourceLookup = (kind, ns, name) => {
    const found = fluxSources.find((x) => x.kind === kind && x.name === name && x.namespace === ns);
    if (found) sources.add(found.file);
    return found;
  };
  if (native && Array.isArray(nativeValid.policies)) {
    nativeValid.policies.forEach((entry, i) => {
      const line = lineOf(native!.doc, native!.lc, ['policies', i]);
      const r = parseNativePolicy(entry, {
        defaultNamespace,
        fluxSource,
        source: { kind: 'native', file: native!.file, ...(line && { line }) },
        prefix: `policies[${i}]`,
      });
      // A policy the schema already refused is not used, even when the parser could read something from it
      // (two policy kinds at once): an invalid policy never bumps anything.
      const refused = errors.some(
        (x) =>
          x.file === native!.file && (x.path === `policies[${i}]` || x.path.startsWith(`policies[${i}].`)),
      );
      if (r.ok && refused) return;
      if (!r.ok) {
        for (const e of r.errors) {
          const path = e.path
            .replace(/\[(\d+)\]/g, '.$1')
            .split('.')
            .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
          // The schema may have reported this field already.
          if (errors.some((x) => x.file === native!.file && x.path === e.path)) continue;
          problem({
            file: native!.file,
            line: lineOf(native!.doc, native!.lc, path) ?? line,
            path: e.path,
            message: e.message,
          });
        }
        return;
      }
      addPolicy(r.spec, `${native!.file}:${line ?? 1}`, native!.file, line);
    });
  }

  // Update settings: native first, else the ImageUpdateAutomations (every one counts, as in Flux).
  const u = isObj(nativeValid.update) ? nativeValid.update : {};
  const automationDocs = isObj(nativeValid.update)
    ? []
    : fluxDocs.filter((d) => d.value.kind === 'ImageUpdateAutomation');
  const parsedAutomations = automationDocs.map((d) => {
    const spec = isObj(d.value.spec) ? d.value.spec : {};
    const upd = isObj(spec.update) ? spec.update : {};
    const git = isObj(spec.git) ? spec.git : {};
    const checkout = isObj(git.checkout) && isObj(git.checkout.ref) ? git.checkout.ref : {};
    const push = isObj(git.push) ? git.push : {};
    const commit = isObj(git.commit) ? git.commit : {};
    for (const e of unknownFieldsDeep(spec, FLUX_IMAGE_UPDATE_AUTOMATION_SPEC_SCHEMA, 'spec'))
      problem({
        file: d.file,
        line: lineOf(d.doc, d.lc, e.path.split('.')) ?? d.line,
        path: `ImageUpdateAutomation ${nsOf(d)}/${String(nameOf(d))} ${e.path}`,
        message: e.message,
      });
    const selectorProblems: string[] = [];
    const selector = parseSelector(spec.policySelector, selectorProblems);
    for (const m of selectorProblems) {
      const field = m.slice(0, m.indexOf(':'));
      const at = field
        .split(/[.[\]]+/)
        .filter(Boolean)
        .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
      problem({
        file: d.file,
        line: lineOf(d.doc, d.lc, at) ?? d.line,
        path: `ImageUpdateAutomation ${nsOf(d)}/${String(nameOf(d))} ${field}`,
        message: m.slice(m.indexOf(':') + 2),
      });
    }
    if (typeof commit.messageTemplate === 'string') {
      warnings.push({
        code: 'message-template-ignored',
        message: `${d.file}:${d.line}: spec.git.commit.messageTemplate is a Go template tidemark cannot run; tidemark's default message is used (set update.commitMessage in .github/tidemark.yml to choose one)`,
        file: d.file,
        line: d.line,
      });
    }
    const author =
      isObj(commit.author) && typeof commit.author.email === 'string'
        ? {
            name: typeof commit.author.name === 'string' ? commit.author.name : 'tidemark',
            email: commit.author.email,
          }
        : undefined;
    return {
      id: `${nsOf(d)}/${String(nameOf(d))}`,
      namespace: nsOf(d),
      file: d.file,
      line: d.line,
      path: typeof upd.path === 'string' ? upd.path : '.',
      ...(typeof checkout.branch === 'string' && { checkoutBranch: checkout.branch }),
      ...(typeof push.branch === 'string' && { pushBranch: push.branch }),
      ...(author && { author }),
      ...(selector && { selector }),
    };
  });
  for (const a of parsedAutomations) sources.add(a.file);
  let groupFromAutomation: UpdateSettings['group'] | undefined;
  let path = typeof u.path === 'string' ? u.path : '.';
  let strategy: UpdateSettings['strategy'] = u.strategy === 'push' ? 'push' : 'pull-request';
  let branch = typeof u.branch === 'string' ? u.branch : undefined;
  let author: UpdateSettings['author'];
  if (isObj(u.author) && typeof u.author.email === 'string') {
    author = { name: typeof u.author.name === 'string' ? u.author.name : 'tidemark', email: u.author.email };
  }
  const automation = parsedAutomations[0];
  const prMode = (a: (typeof parsedAutomations)[number]) =>
    !!a.pushBranch && a.pushBranch !== a.checkoutBranch;
  if (automation) {
    path =
      parsedAutomations.length === 1 ? automation.path : commonPath(parsedAutomations.map((a) => a.path));
    if (prMode(automation)) {
      // Flux pushes every policy's change in one commit to push.branch: one PR from that branch.
      strategy = 'pull-request';
      branch = automation.pushBranch;
      groupFromAutomation = 'all';
    } else {
      strategy = 'push';
      branch = automation.checkoutBranch;
    }
    author = automation.author;
    for (const other of parsedAutomations.slice(1)) {
      if (prMode(other) === prMode(automation)) continue;
      warnings.push({
        code: 'automation-mode-differs',
        message: `${other.file}:${other.line}: ImageUpdateAutomation ${other.id} ${prMode(other) ? 'pushes to its own branch' : 'pushes to the branch it checks out'}, but ${automation.id} (the first) does not; tidemark ${strategy === 'push' ? "commits every automation's changes to the checked-out branch" : 'opens a PR for each automation'}`,
        file: other.file,
        line: other.line,
      });
    }
  }
  // Repo-wide gates under update: (autoMerge there is the per-level map, not a gate).
  const gateErrors: FieldError[] = [];
  const { autoMerge: _levels, ...updateGateFields } = u;
  const defaultGates = parseGates(updateGateFields, 'update', gateErrors);
  for (const e of gateErrors) {
    if (errors.some((x) => x.file === native?.file && x.path === e.path)) continue;
    problem({
      file: native?.file ?? '.github/tidemark.yml',
      line: native ? lineOf(native.doc, native.lc, e.path.split('.')) : undefined,
      path: e.path,
      message: e.message,
    });
  }
  if (!safeRelativePath(path)) {
    problem({
      file: native?.file ?? automation?.file ?? '.github/tidemark.yml',
      path: 'update.path',
      message: `"${path}" must stay inside the repository`,
    });
    path = '.';
  }
  // Several automations: each updates the policies it selects, under its own path (Flux's semantics).
  const selected =
    parsedAutomations.length > 1
      ? withPolicies(parsedAutomations, policies)
      : { automations: [], warnings: [] };
  warnings.push(...selected.warnings);
  const automationsWithPolicies = selected.automations;
  const config: RepoConfig = {
    policies: defaultGates
      ? policies.map((p) => ({ ...p, gates: mergeGates(chartDefaults(defaultGates, p), p.gates)! }))
      : policies,
    update: {
      strategy,
      ...(branch && { branch }),
      path,
      scanExtensions: Array.isArray(u.scanExtensions) ? (u.scanExtensions as string[]) : ['.gotmpl', '.tpl'],
      group:
        u.group === 'all'
          ? 'all'
          : u.group === 'per-policy'
            ? 'per-policy'
            : (groupFromAutomation ?? 'per-policy'),
      labels: Array.isArray(u.labels) ? (u.labels as string[]) : [],
      ...(isObj(u.labelsByLevel) && { labelsByLevel: u.labelsByLevel as UpdateSettings['labelsByLevel'] }),
      ...(Array.isArray(u.reviewers) && { reviewers: u.reviewers as string[] }),
      ...(Array.isArray(u.teamReviewers) && { teamReviewers: u.teamReviewers as string[] }),
      ...(Array.isArray(u.assignees) && { assignees: u.assignees as string[] }),
      ...(u.draft === true && { draft: true }),
      autoMerge: isObj(u.autoMerge) ? (u.autoMerge as UpdateSettings['autoMerge']) : {},
      ...(typeof u.commitMessage === 'string' && { commitMessage: u.commitMessage }),
      ...(author && { author }),
      ...(defaultGates && { gates: defaultGates }),
      ...(typeof u.prConcurrentLimit === 'number' && { prConcurrentLimit: u.prConcurrentLimit }),
      ...(typeof u.prHourlyLimit === 'number' && { prHourlyLimit: u.prHourlyLimit }),
    },
    registries: isObj(nativeValid.registries)
      ? (nativeValid.registries as Record<string, RegistrySettings>)
      : {},
    defaultNamespace,
    ...(nativeValid.dashboard === false && { dashboard: false }),
    ...(automationsWithPolicies.length > 1 && { automations: automationsWithPolicies }),
    sources: [...sources].sort(),
  };
  const publishingInvalid = errors.some(
    (e) => e.path.startsWith('ImageUpdateAutomation ') || e.path === 'update' || e.path.startsWith('update.'),
  );
  return { config, errors, warnings, fluxSources, ...(publishingInvalid && { publishingInvalid: true }) };
}
