/**
 * `tidemark markers apply --results <results.json> [--write] [--json] <file...>`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { FileChange, PolicyResult, Warning } from '../core/domain/types.js';
import { rewriteMarkers } from '../core/markers/index.js';
import { formatUnifiedDiff } from '../core/plan/unified-diff.js';
import { MARKERS_APPLY_HELP as HELP } from './help.js';
import { type Command, UsageError } from './io.js';

function validateResults(raw: unknown): Record<string, PolicyResult> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('expected an object keyed by "namespace:policy"');
  const out: Record<string, PolicyResult> = {};
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!/^[^:\s]+:[^:\s]+$/.test(key)) throw new Error(`key "${key}": expected "namespace:policy"`);
    const r = v as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || typeof r.name !== 'string' || typeof r.tag !== 'string') {
      throw new Error(`"${key}": expected { "name": string, "tag": string, "digest"?: string }`);
    }
    if (r.digest !== undefined && (typeof r.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(r.digest))) {
      throw new Error(`"${key}".digest: expected sha256:<64 hex digits>`);
    }
    out[key] = { name: r.name, tag: r.tag, ...(typeof r.digest === 'string' && { digest: r.digest }) };
  }
  return out;
}

export const run: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      results: { type: 'string' },
      write: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (!values.results || positionals.length === 0)
    throw new UsageError(`--results and at least one file are required\n\n${HELP}`);
  let results: Record<string, PolicyResult>;
  try {
    results = validateResults(JSON.parse(await readFile(values.results, 'utf8')));
  } catch (err) {
    io.stderr(`tidemark markers apply: ${values.results}: ${(err as Error).message}\n`);
    return 2;
  }
  const changes: FileChange[] = [];
  const warnings: Warning[] = [];
  const outputs: string[] = [];
  for (const file of positionals) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      io.stderr(`tidemark markers apply: cannot read ${file}: ${(err as Error).message}\n`);
      return 2;
    }
    const out = rewriteMarkers(file, text, results);
    warnings.push(...out.warnings);
    outputs.push(out.text);
    if (out.text !== text) changes.push({ file, oldText: text, newText: out.text, changes: out.changes });
  }
  if (values.write) for (const c of changes) await writeFile(c.file, c.newText);
  if (values.json) {
    io.stdout(`${JSON.stringify({ changes: changes.flatMap((c) => c.changes), warnings }, null, 2)}\n`);
    return 0;
  }
  for (const w of warnings) io.stderr(`warning: ${w.message}\n`);
  if (values.write) return 0;
  if (positionals.length === 1) io.stdout(outputs[0]!);
  else io.stdout(formatUnifiedDiff(changes));
  return 0;
};
