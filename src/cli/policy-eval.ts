/**
 * `tidemark policy eval --policy <file> --tags <file|->`: which tag would this policy pick?
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { didYouMean } from '../core/domain/did-you-mean.js';
import { parseFluxPolicy, parseNativePolicy } from '../core/policy/parse.js';
import { selectLatest } from '../core/policy/select-latest.js';
import { POLICY_EVAL_HELP as HELP } from './help.js';
import { type Command, readInput, UsageError } from './io.js';

export const run: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: 'string' },
      tags: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (!values.policy || !values.tags) throw new UsageError(`--policy and --tags are required\n\n${HELP}`);
  let text: string;
  let tagsText: string;
  try {
    text = await readFile(values.policy, 'utf8');
    tagsText = await readInput(io, values.tags);
  } catch (err) {
    io.stderr(`tidemark policy eval: cannot read input: ${(err as Error).message}\n`);
    return 2;
  }
  const file = values.policy;
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  const problems: string[] = [];
  const objects: { value: Record<string, unknown>; line: number }[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of doc.errors)
      problems.push(`${file}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    if (!isMap(doc.contents)) continue;
    const value = doc.toJS() as Record<string, unknown>;
    objects.push({ value, line: lc.linePos(doc.contents.range[0]).line });
  }
  if (problems.length > 0) {
    io.stderr(`${problems.join('\n')}\n`);
    return 2;
  }
  // Which policy: the one ImagePolicy or native entry, or the one --name picks among several.
  const fluxPolicies = objects.filter((o) => o.value.kind === 'ImagePolicy');
  const listed = objects.flatMap((o) =>
    Array.isArray(o.value.policies)
      ? (o.value.policies as unknown[]).map((value, i) => ({
          value: (value ?? {}) as Record<string, unknown>,
          line: lineOfEntry(docs, lc, i) ?? o.line,
        }))
      : [],
  );
  const nameOf = (v: Record<string, unknown>) => {
    const meta = (v.metadata ?? v) as { name?: unknown; namespace?: unknown };
    return {
      name: String(meta.name ?? ''),
      key: `${String(meta.namespace ?? 'flux-system')}:${String(meta.name ?? '')}`,
    };
  };
  const candidates = fluxPolicies.length > 0 ? fluxPolicies : listed;
  let picked: { value: Record<string, unknown>; line: number } | undefined;
  if (candidates.length > 1 || values.name !== undefined) {
    const names = candidates.map((c) => nameOf(c.value));
    if (values.name === undefined) {
      io.stderr(
        `${file}: holds ${candidates.length} policies (${names.map((n) => n.name).join(', ')}); pick one with --name\n`,
      );
      return 2;
    }
    picked = candidates.find((c) => [nameOf(c.value).name, nameOf(c.value).key].includes(values.name!));
    if (!picked) {
      const hint = didYouMean(
        values.name,
        names.map((n) => n.name),
      );
      io.stderr(
        `${file}: no policy named "${values.name}"${hint ? `; did you mean "${hint}"?` : `; it holds: ${names.map((n) => n.name).join(', ') || 'none'}`}\n`,
      );
      return 2;
    }
  } else if (candidates.length === 1) picked = candidates[0];
  const policy = fluxPolicies.length > 0 ? picked : undefined;
  const nativeEntry =
    fluxPolicies.length === 0 ? (picked ?? (listed.length === 0 ? objects[0] : undefined)) : undefined;
  const source = {
    kind: policy ? ('flux' as const) : ('native' as const),
    file,
    line: (policy ?? nativeEntry ?? objects[0])?.line ?? 1,
  };
  let result: ReturnType<typeof parseFluxPolicy>;
  if (policy) {
    const spec = (policy.value.spec ?? {}) as { imageRepositoryRef?: { name?: string } };
    const repoName = spec.imageRepositoryRef?.name;
    const repository = objects.find(
      (o) =>
        o.value.kind === 'ImageRepository' &&
        (o.value.metadata as { name?: string } | undefined)?.name === repoName,
    );
    const meta = (policy.value.metadata ?? {}) as { namespace?: string };
    // The tags come from --tags, so the ImageRepository is optional: without it, only its default exclusion
    // list (Flux's `^.*\.sig$`) applies, and the image is a placeholder that is never contacted.
    const standIn = {
      kind: 'ImageRepository',
      metadata: { name: repoName },
      spec: {
        image: `tags-from-file.invalid/${String(repoName ?? 'image')
          .toLowerCase()
          .replace(/[^a-z0-9._-]+/g, '-')}`,
      },
    };
    result = parseFluxPolicy(policy.value, repository?.value ?? standIn, {
      namespace: meta.namespace ?? 'flux-system',
      source,
    });
  } else if (nativeEntry && (listed.length > 0 || objects.length === 1)) {
    result = parseNativePolicy(nativeEntry.value, { defaultNamespace: 'flux-system', source });
  } else {
    io.stderr(`${file}: expected an ImagePolicy (with its ImageRepository) or one native policy entry\n`);
    return 2;
  }
  if (!result.ok) {
    io.stderr(`${result.errors.map((e) => `${file}:${source.line}: ${e.path}: ${e.message}`).join('\n')}\n`);
    return 2;
  }
  const tags = tagsText
    .split(/\r?\n/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const selection = selectLatest(result.spec, tags);
  if (selection.kind === 'invalid') {
    io.stderr(`${file}:${source.line}: ${selection.error}\n`);
    return 2;
  }
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ tag: selection.kind === 'selected' ? selection.tag : null, considered: selection.considered, skipped: selection.skipped, ...(selection.kind === 'none' && { reason: selection.reason }) })}\n`,
    );
    return selection.kind === 'selected' ? 0 : 1;
  }
  if (selection.kind === 'none') {
    io.stderr(`no tag selected: ${selection.reason}\n`);
    return 1;
  }
  for (const s of selection.skipped) io.stderr(`skipped ${s.tag}: ${s.why}\n`);
  io.stdout(`${selection.tag}\n`);
  return 0;
};

/** The line of `policies[i]` in the first document that has a `policies` list. */
function lineOfEntry(
  docs: ReturnType<typeof parseAllDocuments>,
  lc: LineCounter,
  i: number,
): number | undefined {
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const list = isMap(doc.contents) ? doc.contents.get('policies', true) : undefined;
    const item = isSeq(list) ? list.items[i] : undefined;
    const range = (item as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}
