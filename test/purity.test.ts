/**
 * The pure core (`src/core/`) imports only the core: no I/O modules, no network clients, no clock or fetch.
 * This keeps the decision logic testable with plain values and safe to run anywhere (the CLI, the worker, a
 * benchmark). And the ports (`github/`, `git/`, `registry/`, `workspace/`, `queue/`, `state/`) never climb back
 * up into the run, the plan or the intake: a run goes collect → plan → apply without returning.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const PURE_DIRS = [
  'src/core',
  'src/core/domain',
  'src/core/policy',
  'src/core/markers',
  'src/core/plan',
  'src/core/config',
  'src/core/events',
  'src/core/onboarding',
];
const PURE_FILES: string[] = [];
const PORT_DIRS = ['src/github', 'src/git', 'src/registry', 'src/workspace', 'src/queue', 'src/state'];
/** What a port may not import: the run, the publishing plan, the intake, the composition root, the CLI. */
const ABOVE_PORTS = [/^src\/run\//, /^src\/core\/plan\//, /^src\/intake\//, /^src\/main\.ts$/, /^src\/cli/];

const FORBIDDEN_IMPORTS = [
  /^probot/,
  /^@octokit\//,
  /^octokit$/,
  /^simple-git/,
  /^bullmq/,
  /^ioredis/,
  /^(node:)?fs(\/promises)?$/,
  /^(node:)?child_process$/,
  /^(node:)?net$/,
  /^(node:)?http2?$/,
  /^(node:)?https$/,
  /^(node:)?dgram$/,
  /^(node:)?dns$/,
  /^undici/,
  /^pino/,
];
const FORBIDDEN_CALLS = [/\bfetch\s*\(/, /\bDate\.now\s*\(/, /\bnew Date\s*\(\s*\)/, /\bprocess\.env\b/];

function walk(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every listed pure folder and file must exist: a rename must update this list, not silently skip it. */
function pureFiles(): string[] {
  const missing = [...PURE_DIRS, ...PURE_FILES].filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length > 0) throw new Error(`pure modules listed but missing: ${missing.join(', ')}`);
  return [...PURE_DIRS.flatMap((d) => walk(join(ROOT, d))), ...PURE_FILES.map((f) => join(ROOT, f))];
}

function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return specs;
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('pure modules import no effects', () => {
  const files = pureFiles();

  it('finds the pure modules, every listed one present', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const d of PURE_DIRS)
      expect(
        files.some((f) => f.startsWith(join(ROOT, d))),
        d,
      ).toBe(true);
  });

  it.each(files.map((f) => [relative(ROOT, f)]))('%s', (file) => {
    const source = readFileSync(join(ROOT, file), 'utf8');
    const problems: string[] = [];
    for (const spec of importsOf(source)) {
      if (FORBIDDEN_IMPORTS.some((re) => re.test(spec))) problems.push(`imports ${spec}`);
      if (spec.startsWith('.')) {
        const target = relative(ROOT, join(ROOT, file, '..', spec)).replace(/\.js$/, '.ts');
        const targetIsPure = PURE_DIRS.some((d) => target.startsWith(`${d}/`)) || PURE_FILES.includes(target);
        if (!targetIsPure) problems.push(`imports ${spec}, which is not a pure module`);
      }
    }
    const code = stripComments(source);
    for (const re of FORBIDDEN_CALLS) if (re.test(code)) problems.push(`uses ${re.source}`);
    expect(problems).toEqual([]);
  });

  it('the guard itself catches an effectful import and a fetch call', () => {
    expect(importsOf("import { readFile } from 'node:fs/promises';\nimport x from './y.js';")).toEqual([
      'node:fs/promises',
      './y.js',
    ]);
    expect(FORBIDDEN_IMPORTS.some((re) => re.test('node:fs/promises'))).toBe(true);
    expect(FORBIDDEN_IMPORTS.some((re) => re.test('simple-git'))).toBe(true);
    expect(FORBIDDEN_CALLS.some((re) => re.test('await fetch(url)'))).toBe(true);
  });
});

describe('ports do not climb back into the run, the plan or the intake', () => {
  const files = PORT_DIRS.flatMap((d) => walk(join(ROOT, d)));

  it('finds the ports', () => {
    for (const d of PORT_DIRS) expect(existsSync(join(ROOT, d)), d).toBe(true);
    expect(files.length).toBeGreaterThan(PORT_DIRS.length);
  });

  it.each(files.map((f) => [relative(ROOT, f)]))('%s', (file) => {
    const source = readFileSync(join(ROOT, file), 'utf8');
    const problems = importsOf(source)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(ROOT, join(ROOT, file, '..', spec)).replace(/\.js$/, '.ts'))
      .filter((target) => ABOVE_PORTS.some((re) => re.test(target)));
    expect(problems).toEqual([]);
  });

  it('the guard itself catches a port importing the plan', () => {
    const target = relative(ROOT, join(ROOT, 'src/github/port.ts', '..', '../core/plan/messages.js'));
    expect(ABOVE_PORTS.some((re) => re.test(target.replace(/\.js$/, '.ts')))).toBe(true);
  });
});
