/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or only those whose name contains an argument) and prints
 * their figures. Goals are checked here, never in timed unit tests: these machines are noisy.
 *
 * A bench file default-exports `(report: BenchReport) => Promise<void>`; `report.figure` prints one line and
 * `report.goal` records whether a target was met (the run exits 1 if any goal is missed).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BenchReport {
  figure(name: string, value: number, unit: string, extra?: string): void;
  goal(name: string, met: boolean, detail: string): void;
}

export type BenchFn = (report: BenchReport) => Promise<void>;

const dir = import.meta.dirname;
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let missed = 0;
for (const file of files) {
  console.log(`\n## ${file}`);
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: BenchFn };
  await mod.default({
    figure(name, value, unit, extra) {
      console.log(
        `  ${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}${extra ? `  (${extra})` : ''}`,
      );
    },
    goal(name, met, detail) {
      if (!met) missed++;
      console.log(`  goal ${met ? 'MET' : 'MISSED'}: ${name} — ${detail}`);
    },
  });
}
console.log(`\n${files.length} benchmark file(s), ${missed} goal(s) missed`);
process.exitCode = missed > 0 ? 1 : 0;
