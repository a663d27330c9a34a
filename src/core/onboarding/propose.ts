/**
 * What `tidemark init` (and the App's onboarding PR) proposes: policies for `.github/tidemark.yml` and a marker
 * comment beside every detected value. Pure and idempotent: the only bytes added to a marked file are
 * ` # {"$imagepolicy": "…"}` at the end of a value's line (line endings, quoting and indentation untouched); an
 * existing `.github/tidemark.yml` is extended (its text kept as is), never rewritten; running it again on its
 * own output proposes nothing.
 */
import type { FileChange } from '../domain/types.js';
import type { ChartDeclaration, DetectedImage } from './detect.js';
import type { Inference } from './infer.js';

export const CONFIG_PATH = '.github/tidemark.yml';

export interface ImageProposal {
  readonly image: DetectedImage;
  /** The policy key its markers name (`flux-system:web`). */
  readonly key: string;
  readonly inference: Inference;
  /** True when an existing policy already watches this image (its key is reused, no new entry). */
  readonly existing: boolean;
}

export interface Proposal {
  readonly proposals: readonly ImageProposal[];
  /** The new or extended `.github/tidemark.yml`; absent when nothing is added. */
  readonly config?: { readonly oldText: string; readonly newText: string };
  /** Marked files, whole. */
  readonly files: readonly FileChange[];
}

function policyName(repository: string, taken: Set<string>): string {
  const last = repository.split('/').at(-1) ?? 'image';
  const base =
    last
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'image';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

const q = (s: string) => JSON.stringify(s);

function policyYaml(name: string, p: ImageProposal): string {
  const i = p.inference;
  const lines: string[] = [];
  lines.push(`  # ${p.image.file}:${p.image.line}: ${i.evidence} (confidence: ${i.confidence})`);
  const source = p.image.chart ? `chart: ${chartYaml(p.image.chart)}` : `image: ${p.image.repository}`;
  if (!i.policy) {
    lines.push(
      `  # - name: ${name}`,
      `  #   ${source}`,
      `  #   policy: { semver: { range: ">=1.0.0" } }  # write the rule your tags follow`,
    );
    return lines.join('\n');
  }
  lines.push(`  - name: ${name}`, `    ${source}`);
  if (i.filterTags)
    lines.push(
      `    filterTags: { pattern: ${q(i.filterTags.pattern)}${i.filterTags.extract ? `, extract: ${q(i.filterTags.extract)}` : ''} }`,
    );
  const pol = i.policy;
  if ('semver' in pol) lines.push(`    policy: { semver: { range: ${q(pol.semver.range)} } }`);
  else if ('numerical' in pol) lines.push(`    policy: { numerical: { order: ${pol.numerical.order} } }`);
  else lines.push(`    policy: { alphabetical: { order: ${pol.alphabetical.order} } }`);
  if (i.digestReflectionPolicy) lines.push(`    digestReflectionPolicy: ${i.digestReflectionPolicy}`);
  return lines.join('\n');
}

function chartYaml(c: ChartDeclaration): string {
  if ('repository' in c) return `{ repository: ${q(c.repository)}, name: ${q(c.name)} }`;
  const ns = c.sourceRef.namespace ? `, namespace: ${q(c.sourceRef.namespace)}` : '';
  return `{ sourceRef: { kind: HelmRepository, name: ${q(c.sourceRef.name)}${ns} }, name: ${q(c.name)} }`;
}

/** The text of `.github/tidemark.yml` with `entries` added to its `policies:` (created when missing). */
function extendConfig(oldText: string, entries: readonly string[]): string {
  const block = entries.join('\n');
  if (oldText.trim() === '')
    return `# Proposed by tidemark init: one policy per image found; check each rule, then commit.\npolicies:\n${block}\n`;
  const eol = oldText.includes('\r\n') ? '\r\n' : '\n';
  const lines = oldText.split(/\r?\n/);
  const at = lines.findIndex((l) => /^policies:\s*(#.*)?$/.test(l));
  if (at < 0) {
    const sep = oldText.endsWith('\n') ? '' : eol;
    return `${oldText}${sep}policies:${eol}${block.replace(/\n/g, eol)}${eol}`;
  }
  // The policies block ends at the next top-level key.
  let end = at + 1;
  while (end < lines.length && (lines[end] === '' || /^[\s#-]/.test(lines[end]!))) end++;
  while (end > at + 1 && lines[end - 1]!.trim() === '') end--;
  lines.splice(end, 0, ...block.split('\n'));
  return lines.join(eol);
}

/**
 * Proposals for the detected images, given an inference for each and the policies the repo has already
 * (image → key, from its current config).
 */
export function propose(input: {
  readonly images: readonly DetectedImage[];
  readonly infer: (image: DetectedImage) => Inference;
  readonly existingPolicies: ReadonlyMap<string, string>;
  readonly existingNames: ReadonlySet<string>;
  readonly namespace: string;
  readonly configText: string;
  readonly files: ReadonlyMap<string, string>;
}): Proposal {
  const taken = new Set(input.existingNames);
  const byImage = new Map<string, { key: string; name: string; existing: boolean }>();
  const proposals: ImageProposal[] = [];
  const entries: string[] = [];
  const stubs = new Set<string>();
  for (const image of input.images) {
    if (stubs.has(image.repository)) continue;
    const inference = input.infer(image);
    let slot =
      byImage.get(image.repository) ??
      (() => {
        const key = input.existingPolicies.get(image.repository);
        return key ? { key, name: key.split(':')[1]!, existing: true } : undefined;
      })();
    if (!slot) {
      const name = policyName(image.repository, taken);
      slot = { key: `${input.namespace}:${name}`, name, existing: false };
      const p: ImageProposal = { image, key: slot.key, inference, existing: false };
      entries.push(policyYaml(name, p));
      if (!inference.policy) {
        // A stub: no marker names a policy that does not exist; later references to the image add nothing.
        byImage.set(image.repository, { ...slot, existing: false });
        stubs.add(image.repository);
        proposals.push(p);
        continue;
      }
    }
    byImage.set(image.repository, slot);
    proposals.push({ image, key: slot.key, inference, existing: slot.existing });
  }

  // Markers: at the end of each value's line, in file order, from the last so offsets stay valid.
  const insertions = new Map<string, { at: number; text: string }[]>();
  for (const p of proposals) {
    if (!p.inference.policy && !p.existing) continue;
    for (const v of p.image.values) {
      const setter = v.field === 'ref' ? p.key : `${p.key}:${v.field}`;
      const list = insertions.get(p.image.file) ?? [];
      if (!list.some((x) => x.at === v.lineEnd))
        list.push({ at: v.lineEnd, text: ` # {"$imagepolicy": "${setter}"}` });
      insertions.set(p.image.file, list);
    }
  }
  const files: FileChange[] = [];
  for (const [file, list] of [...insertions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const oldText = input.files.get(file) ?? '';
    let newText = oldText;
    for (const ins of [...list].sort((a, b) => b.at - a.at))
      newText = newText.slice(0, ins.at) + ins.text + newText.slice(ins.at);
    if (newText !== oldText) files.push({ file, oldText, newText, changes: [] });
  }
  const config =
    entries.length > 0
      ? { oldText: input.configText, newText: extendConfig(input.configText, entries) }
      : undefined;
  return { proposals, ...(config && { config }), files };
}
