/**
 * Flux `ImageUpdateAutomation` objects, each as Flux applies it: its own `update.path`, its own checkout and push
 * branches, its own commit author, and the ImagePolicies it selects — those in its namespace whose labels match
 * its `policySelector` (all of them when it has none). A repo with several automations gets each one's markers
 * updated under its own path, and in pull-request mode one PR per automation from its `push.branch` (Flux pushes
 * an automation's changes in one commit to that branch). Pure.
 */
import { unknownFieldErrors } from '../domain/did-you-mean.js';
import type { Warning } from '../domain/types.js';
import type { ImagePolicySpec } from '../policy/types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

interface LabelRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

/** A Kubernetes label selector (matchLabels and matchExpressions), or undefined for "every policy". */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelRequirement[];
}

export interface Automation {
  /** `namespace/name`. */
  readonly id: string;
  readonly namespace: string;
  readonly file: string;
  readonly line: number;
  readonly path: string;
  readonly checkoutBranch?: string;
  readonly pushBranch?: string;
  readonly author?: { readonly name: string; readonly email: string };
  readonly selector?: LabelSelector;
  /** Keys of the policies it updates. */
  readonly policies: readonly string[];
}

/** Parses `spec.policySelector`; problems are reported by the caller with the automation's file and line. */
export function parseSelector(v: unknown, problems: string[]): LabelSelector | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    problems.push('spec.policySelector: expected matchLabels and/or matchExpressions');
    return undefined;
  }
  const matchLabels: Record<string, string> = {};
  if (v.matchLabels !== undefined) {
    if (!isObj(v.matchLabels))
      problems.push('spec.policySelector.matchLabels: expected a map of label → value');
    else for (const [k, val] of Object.entries(v.matchLabels)) matchLabels[k] = String(val);
  }
  const matchExpressions: LabelRequirement[] = [];
  if (v.matchExpressions !== undefined) {
    if (!Array.isArray(v.matchExpressions))
      problems.push('spec.policySelector.matchExpressions: expected a list of { key, operator, values }');
    else
      v.matchExpressions.forEach((e, i) => {
        const op = isObj(e) ? e.operator : undefined;
        if (
          !isObj(e) ||
          typeof e.key !== 'string' ||
          !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(op))
        ) {
          problems.push(
            `spec.policySelector.matchExpressions[${i}]: expected { key, operator: In | NotIn | Exists | DoesNotExist, values }`,
          );
          return;
        }
        matchExpressions.push({
          key: e.key,
          operator: op as LabelRequirement['operator'],
          values: Array.isArray(e.values) ? e.values.map(String) : [],
        });
      });
  }
  return { matchLabels, matchExpressions };
}

export function selects(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const r of selector.matchExpressions) {
    const has = Object.hasOwn(labels, r.key);
    const ok =
      r.operator === 'Exists'
        ? has
        : r.operator === 'DoesNotExist'
          ? !has
          : r.operator === 'In'
            ? has && r.values.includes(labels[r.key]!)
            : !has || !r.values.includes(labels[r.key]!);
    if (!ok) return false;
  }
  return true;
}

/** `./clusters/prod/` → `clusters/prod`; `.` → ``. */
export function normalizePath(p: string): string {
  return p
    .replace(/^\.\/?/, '')
    .replace(/\/+$/, '')
    .replace(/^\/+/, '');
}

export function isUnder(file: string, path: string): boolean {
  const dir = normalizePath(path);
  return dir === '' || file === dir || file.startsWith(`${dir}/`);
}

/** The deepest folder every path lies under (`clusters/prod`, `clusters/staging` → `./clusters`). */
export function commonPath(paths: readonly string[]): string {
  const parts = paths.map((p) => normalizePath(p).split('/').filter(Boolean));
  const first = parts[0] ?? [];
  let n = 0;
  while (n < first.length && parts.every((p) => p[n] === first[n])) n++;
  return n === 0 ? '.' : `./${first.slice(0, n).join('/')}`;
}

/** Which automations' policies each one updates (Flux: same namespace, selector matches). */
export function withPolicies(
  automations: readonly Omit<Automation, 'policies'>[],
  policies: readonly ImagePolicySpec[],
): { automations: Automation[]; warnings: Warning[] } {
  const out = automations.map((a) => ({
    ...a,
    policies: policies
      .filter((p) => p.namespace === a.namespace && selects(a.selector, p.labels ?? {}))
      .map((p) => `${p.namespace}:${p.name}`),
  }));
  const warnings: Warning[] = [];
  for (const p of policies) {
    const key = `${p.namespace}:${p.name}`;
    if (out.some((a) => a.policies.includes(key))) continue;
    warnings.push({
      code: 'policy-unselected',
      message: `${key}: no ImageUpdateAutomation selects this policy (${out.map((a) => a.id).join(', ')} select policies of their own namespace matching their policySelector), so its markers are not updated; put it in an automation's namespace or match its policySelector`,
      ...(p.source.file && { file: p.source.file }),
      ...(p.source.line && { line: p.source.line }),
    });
  }
  return { automations: out, warnings };
}

interface ShapeSchema {
  readonly properties?: Readonly<Record<string, ShapeSchema>>;
}

/**
 * Fields the schema does not know, at every level it describes (`properties`), each with "did you mean" over
 * the fields allowed at that very place. Levels the schema leaves open are not walked.
 */
export function unknownFieldsDeep(
  value: unknown,
  shape: object,
  path: string,
): { path: string; message: string }[] {
  const schema = shape as ShapeSchema;
  if (!isObj(value) || !schema.properties) return [];
  const properties = schema.properties;
  return [
    ...unknownFieldErrors(value, Object.keys(properties), path),
    ...Object.entries(value).flatMap(([k, v]) =>
      properties[k] ? unknownFieldsDeep(v, properties[k], `${path}.${k}`) : [],
    ),
  ];
}
