/**
 * The App's run on a large repo, what a registry push pays: the 10,000-file repo of `plan-e2e` (40 % of the files
 * marked across 20 images, per-policy groups) served by the GitHub double, images in a real docker-registry,
 * tidemark in this process (the e2e harness). Three runs:
 * - the first: clone, read, choose, open 20 PRs (from tidemark's start to its first run's end);
 * - nothing to do: an older tag pushed (the notification routes to the repo; nothing changes);
 * - one new tag: the newest tag of one image pushed; its PR is updated.
 * For each: wall time from the push to the job's end (includes the 200 ms settle window), and the CPU this
 * process used meanwhile (tidemark and the GitHub double share it; git runs as child processes, not counted).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoKeyOf } from '../src/state/policy-index.js';
import { type Env, hasReason, startEnv, until } from '../test/e2e/harness.js';
import { pushImage } from '../test/support/images.js';
import { generateRepo } from './gen-repo.js';
import type { BenchReport } from './run.js';

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const IMAGES = 20;

async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = await readFile(p, 'utf8');
    }
  };
  await walk(dir);
  return out;
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

export default async function bench(report: BenchReport): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-app-'));
  let env: Env | undefined;
  let installationId = 0;
  let started = 0;
  let startCpu = process.cpuUsage();
  try {
    env = await startEnv(
      async (gh, reg) => {
        const dir = join(work, 'repo');
        await generateRepo(dir, {
          files: FILES,
          markedPercent: 40,
          images: IMAGES,
          group: 'per-policy',
          registry: `${reg.host}/acme`,
        });
        // The markers hold 1.0.0 … 1.0.6; the registry's newest is 1.0.6: every policy has changes.
        for (let i = 0; i < IMAGES; i++) await pushImage(reg, `acme/svc-${i}`, '1.0.6', { seed: `svc-${i}` });
        installationId = gh.addInstallation('acme');
        await gh.addRepo({ installationId, owner: 'acme', name: 'big', files: await readTree(dir) });
        started = performance.now();
        startCpu = process.cpuUsage();
      },
      undefined,
      { awaitFirstRuns: false },
    );
    const key = repoKeyOf({ installationId, owner: 'acme', repo: 'big' });
    const settled = () => env!.jobs.find((j) => j.repo === key && hasReason('installation')(j));
    await until('the first run of acme/big', settled, 600_000);
    if (settled()?.outcome !== 'succeeded') throw new Error(`the first run ended ${settled()?.outcome}`);
    const first = { wall: (performance.now() - started) / 1000, cpu: cpuSeconds(startCpu) };
    const openPrs = () => env!.gh.pulls('acme', 'big').filter((p) => p.state === 'open');
    report.figure(
      `first run of a ${FILES.toLocaleString('en')}-file repo (clone, 20 PRs), wall`,
      first.wall,
      's',
      `${first.cpu.toFixed(2)} s CPU in this process, ${openPrs().length} PRs open`,
    );

    const timedRun = async (image: string, tag: string) => {
      const since = env!.jobs.length;
      const cpu = process.cpuUsage();
      const t = performance.now();
      await pushImage(env!.reg, image, tag, { seed: `${image}-${tag}` });
      await env!.waitForJob(
        `the run for ${image}:${tag}`,
        (j) => j.repo === key && hasReason('registry-push')(j) && j.outcome === 'succeeded',
        since,
      );
      return { wall: (performance.now() - t) / 1000, cpu: cpuSeconds(cpu) };
    };

    const calls0 = env.gh.apiCalls();
    const logFrom = env.logLines.length;
    const nothing = await timedRun('acme/svc-0', '0.9.0');
    if (process.env.BENCH_DEBUG)
      for (const l of env.logLines.slice(logFrom)) {
        const j = JSON.parse(l) as { time: string; msg: string };
        console.log(j.time.slice(11), j.msg.slice(0, 120));
      }
    report.figure(
      'nothing to do (an older tag pushed), push → run done',
      nothing.wall,
      's',
      `${nothing.cpu.toFixed(2)} s CPU, ${env.gh.apiCalls() - calls0} API calls`,
    );

    const calls1 = env.gh.apiCalls();
    const one = await timedRun('acme/svc-3', '1.0.7');
    await until('the PR of svc-3 at 1.0.7', () => openPrs().find((p) => p.title.endsWith(' 1.0.7')), 30_000);
    report.figure(
      'one new tag, push → PR updated',
      one.wall,
      's',
      `${one.cpu.toFixed(2)} s CPU, ${env.gh.apiCalls() - calls1} API calls`,
    );
    env.gh.assertNoValidationErrors();
  } finally {
    await env?.stop();
    await rm(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}
