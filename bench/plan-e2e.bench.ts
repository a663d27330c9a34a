/**
 * The whole `tidemark plan` as a user runs it, end to end (config load, scan, selection, rewrite, per-policy
 * grouping, publishing actions): the built CLI as a child process on generated repos of 1,000 and 10,000
 * files, 40 % marked across 20 images, tags from a tags file. Each figure is the median of 5 runs of
 * `/usr/bin/time -f '%U %S %M' node dist/src/cli.js plan …` (user+sys CPU seconds, peak RSS).
 *
 * Goals (issue "a whole run on a 10,000-file repo"): 10,000 files with changes ≤ 2 s CPU and ≤ 200 MB; with
 * nothing to do ≤ 1 s CPU; `plan --help` ≤ 0.25 s CPU. Needs `npm run build` first.
 *
 * The CLI runs on the Node.js that runs the bench: `npm run bench -- plan-e2e` measures the machine's Node; the
 * runtime tidemark ships on is Node 24 (`npm exec --package=node@24 -- node --import tsx bench/run.ts plan-e2e`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRepo } from './gen-repo.js';
import type { BenchReport } from './run.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const RUNS = 5;

function timed(args: string[]): { cpu: number; rssMb: number; code: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [user, sys, kb] = last.split(' ').map(Number);
  return { cpu: (user ?? 0) + (sys ?? 0), rssMb: (kb ?? 0) / 1024, code: r.status ?? -1 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function bench(report: BenchReport): Promise<void> {
  if (!existsSync(CLI) || !existsSync('/usr/bin/time')) {
    report.goal('plan end to end', false, 'needs `npm run build` and /usr/bin/time');
    return;
  }
  console.log(`  (the CLI runs on Node.js ${process.version})`);
  const top = Array.from({ length: RUNS }, () => timed(['--help']).cpu);
  report.figure('tidemark --help CPU (median of 5)', median(top), 's');
  report.goal('tidemark --help ≤ 0.25 s CPU', median(top) <= 0.25, `${median(top).toFixed(2)} s`);
  const help = Array.from({ length: RUNS }, () => timed(['plan', '--help']).cpu);
  report.figure('plan --help CPU (median of 5)', median(help), 's');
  report.goal('plan --help ≤ 0.25 s CPU', median(help) <= 0.25, `${median(help).toFixed(2)} s`);

  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-plan-'));
  try {
    for (const files of [1_000, 10_000]) {
      const repo = join(work, `r${files}`);
      const { tagsFile } = await generateRepo(repo, {
        files,
        markedPercent: 40,
        images: 20,
        group: 'per-policy',
      });
      const plan = ['plan', '--dir', repo, '--tags-file', tagsFile];
      const changes = Array.from({ length: RUNS }, () => timed([...plan, '--json']));
      if (changes.some((r) => r.code !== 0))
        throw new Error(`plan exited ${changes.map((r) => r.code).join(',')}`);
      // --write on a fresh copy each time, then the same repo again: nothing left to do.
      const writes: ReturnType<typeof timed>[] = [];
      const nothing: ReturnType<typeof timed>[] = [];
      for (let i = 0; i < RUNS; i++) {
        const copy = join(work, `copy-${files}-${i}`);
        await cp(repo, copy, { recursive: true });
        writes.push(timed(['plan', '--dir', copy, '--tags-file', tagsFile, '--write']));
        nothing.push(timed(['plan', '--dir', copy, '--tags-file', tagsFile, '--json']));
        await rm(copy, { recursive: true, force: true });
      }
      const tag = `${files.toLocaleString('en')} files`;
      report.figure(`${tag}: plan --json, changes, CPU`, median(changes.map((r) => r.cpu)), 's');
      report.figure(`${tag}: plan --write, CPU`, median(writes.map((r) => r.cpu)), 's');
      report.figure(`${tag}: plan --write, peak RSS`, median(writes.map((r) => r.rssMb)), 'MB');
      report.figure(`${tag}: plan --json, nothing to do, CPU`, median(nothing.map((r) => r.cpu)), 's');
      if (files === 10_000) {
        const w = median(writes.map((r) => r.cpu));
        const m = median(writes.map((r) => r.rssMb));
        const n = median(nothing.map((r) => r.cpu));
        report.goal('10,000 files: plan --write ≤ 2 s CPU', w <= 2, `${w.toFixed(2)} s`);
        report.goal('10,000 files: plan --write ≤ 200 MB', m <= 200, `${m.toFixed(0)} MB`);
        report.goal('10,000 files: nothing to do ≤ 1 s CPU', n <= 1, `${n.toFixed(2)} s`);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
