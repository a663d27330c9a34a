/**
 * Many repos, two workers (issue #21): one `tidemark serve` (TIDEMARK_ROLE=serve) and two `tidemark worker`
 * child processes (`node --import tsx src/cli.ts …`, as `npm start` runs it) on a real Redis, then on a
 * three-master Redis Cluster. The GitHub double holds 100 config repos of one installation; each repo's
 * `values.yaml` carries `:name`/`:tag` markers for 3–5 of 20 images (`.github/tidemark.yml`, semver `^1`, PR
 * mode, per-policy groups). A real Distribution registry notifies `serve` of every push: SCALE_TAGS increasing
 * tags (1.1.0, 1.2.0, …) of each of the 20 images, pushed round by round, four at a time.
 *
 * Issue #21 asks for 1,000 events (`SCALE_TAGS=50 npm run bench -- scale`). On the 2-core development machine
 * that took 406–533 s to converge per Redis setup (the GitHub double and its git processes, in this
 * process, use most of the CPU), so the default is 200 events (SCALE_TAGS=10) over the same 100 repos: both
 * setups then take about 5 minutes each (about 10 in all here). docs/benchmarks.md has both.
 *
 * Converged = every policy of every repo has exactly one open tidemark PR whose title names the newest tag, and
 * the PR branch's `values.yaml` holds it (read from the branch once the titles say so). The wait polls the
 * double's state; its deadline only bounds a hang. Figures: time from the first push to convergence (and to the
 * queue going idle), commits, PRs opened, GitHub API calls, duplicate PRs, runs, peak RSS of each process.
 *
 * Settings (environment): SCALE_REPOS (100), SCALE_TAGS (10 per image; 50 for issue #21's 1,000 events), SCALE_SETTLE (TIDEMARK_SETTLE, 1s),
 * SCALE_ONLY (`redis` or `cluster`). GitHub write throttling is off (TIDEMARK_GITHUB_THROTTLE=false), as in the
 * e2e harness: with it, the run would measure octokit's 1 s spacing of writes, not tidemark.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRetryable } from '../src/core/errors.js';
import { BullQueue } from '../src/queue/bullmq-queue.js';
import { execGit } from '../test/support/git-http.js';
import { type GitHubDouble, startGitHubDouble } from '../test/support/github-double/index.js';
import { pushImage } from '../test/support/images.js';
import { type Spawned, spawnProcess, waitForLog } from '../test/support/process.js';
import { startRedis } from '../test/support/redis.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { type Registry, startRegistry } from '../test/support/registry.js';
import type { BenchReport } from './run.js';

const ROOT = join(import.meta.dirname, '..');
const IMAGES = 20;
const REPOS = Number(process.env.SCALE_REPOS ?? 100);
const TAGS = Number(process.env.SCALE_TAGS ?? 10);
const SETTLE = process.env.SCALE_SETTLE ?? '1s';
const PUSH_CONCURRENCY = 4;
/** Only against a hang: convergence is decided by the double's state, never by this. */
const HANG_MS = Number(process.env.SCALE_HANG_MS ?? 8 * 60_000);
/** When set, every child's output is also written to `<dir>/<name>.log` (for a run that did not converge). */
const LOG_DIR = process.env.SCALE_LOG_DIR;
const NOTIFY_SECRET = 'registry-notify-secret-0123456789';
const OWNER = 'acme';

const image = (i: number) => `acme/img${String(i).padStart(2, '0')}`;
const policy = (i: number) => `img${String(i).padStart(2, '0')}`;
const repoName = (r: number) => `config-${String(r).padStart(3, '0')}`;
const newestTag = `1.${TAGS}.0`;

/** 3, 4 or 5 distinct images per repo, spread so every image is used by about a fifth of the repos. */
function imagesOf(r: number): number[] {
  const n = 3 + (r % 3);
  return Array.from({ length: n }, (_, k) => (r * 7 + k * 4) % IMAGES);
}

function repoFiles(host: string, imgs: number[]): Record<string, string> {
  const values = imgs
    .map(
      (i) =>
        `${policy(i)}:\n  image:\n    repository: ${host}/${image(i)} # {"$imagepolicy": "flux-system:${policy(i)}:name"}\n    tag: 1.0.0 # {"$imagepolicy": "flux-system:${policy(i)}:tag"}\n  replicas: 2\n`,
    )
    .join('');
  const policies = imgs
    .map(
      (i) =>
        `  - name: ${policy(i)}\n    image: ${host}/${image(i)}\n    policy: { semver: { range: "^1" } }\n`,
    )
    .join('');
  return { 'values.yaml': values, '.github/tidemark.yml': `policies:\n${policies}` };
}

/** User + system CPU seconds a live process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number | 'self', of: 'own' | 'children' = 'own'): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const at = of === 'own' ? 11 : 13;
    return (Number(f[at]) + Number(f[at + 1])) / 100;
  } catch {
    return Number.NaN;
  }
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Runs `fn` over `items`, at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A tidemark child process with counters over its JSON log lines (stdout). */
interface Proc {
  readonly p: Spawned;
  readonly url: string;
  /** Log messages at warn or above, by message. */
  readonly problems: Map<string, number>;
  /** Log messages at info, by message. */
  readonly infos: Map<string, number>;
}

async function startProc(role: 'serve' | 'worker', name: string, env: Record<string, string>): Promise<Proc> {
  const p = spawnProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), role], {
    cwd: ROOT,
    env,
    name,
  });
  const problems = new Map<string, number>();
  const infos = new Map<string, number>();
  let rest = '';
  if (LOG_DIR) {
    const file = createWriteStream(join(LOG_DIR, `${name.replace(/[^a-z0-9]+/gi, '-')}.log`));
    p.child.stdout?.on('data', (d: string) => file.write(d));
    p.child.stderr?.on('data', (d: string) => file.write(d));
  }
  p.child.stdout?.on('data', (d: string) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const { level, msg } = JSON.parse(line) as { level: string; msg: string };
        const m = level === 'warn' || level === 'error' || level === 'fatal' ? problems : infos;
        m.set(msg, (m.get(msg) ?? 0) + 1);
      } catch {
        // not a log line
      }
    }
  });
  await waitForLog(p, /tidemark serving on http:\/\/\S+/, 60_000);
  const url = /tidemark serving on (http:\/\/\S+)/.exec(p.output())![1]!;
  return { p, url, problems, infos };
}

/** Registry deliveries `serve` took, by outcome (accepted, ignored, …). */
async function registryDeliveries(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('tidemark_webhooks_total{source="registry"'))
    .map((l) => `${/outcome="([^"]+)"/.exec(l)?.[1]} ${l.split(' ').pop()}`)
    .join(', ');
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

async function until<T>(what: string, procs: Proc[], fn: () => Promise<T | undefined> | T | undefined) {
  const end = Date.now() + HANG_MS;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    const dead = procs.find((x) => x.p.hasExited());
    if (dead)
      throw new Error(`${dead.p.name} exited while waiting for ${what}\n${dead.p.output().slice(-3000)}`);
    if (Date.now() > end) throw new Error(`no ${what} within ${HANG_MS} ms (a hang)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface RepoSpec {
  readonly name: string;
  readonly imgs: number[];
}

/** Per (repo, policy): undefined when converged, else what is missing. Reads only the double's memory. */
function unconverged(gh: GitHubDouble, specs: readonly RepoSpec[]): string | undefined {
  for (const s of specs) {
    const open = gh.pulls(OWNER, s.name).filter((p) => p.state === 'open' && p.author === undefined);
    for (const i of s.imgs) {
      const prs = open.filter((p) => p.head.ref === `tidemark/flux-system-${policy(i)}`);
      if (prs.length !== 1 || !prs[0]!.title.endsWith(` ${newestTag}`))
        return `${s.name} ${policy(i)}: ${prs.map((p) => p.title).join(' | ') || 'no PR'}`;
    }
  }
  return undefined;
}

async function run(report: BenchReport, label: string, redisUrl: string): Promise<void> {
  const gh = await startGitHubDouble();
  const reg: Registry = await startRegistry();
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const q = new BullQueue<unknown>({
    redisUrl,
    settleMs: 0,
    attempts: 1,
    backoffMs: 0,
    concurrency: 1,
    isRetryable,
  });
  try {
    await pool(
      Array.from({ length: IMAGES }, (_, i) => i),
      PUSH_CONCURRENCY,
      async (i) => {
        await pushImage(reg, image(i), '1.0.0', { seed: `${image(i)}:1.0.0` });
      },
    );
    const inst = gh.addInstallation(OWNER);
    const specs: RepoSpec[] = Array.from({ length: REPOS }, (_, r) => ({
      name: repoName(r),
      imgs: imagesOf(r),
    }));
    await pool(specs, 4, (s) =>
      gh.addRepo({ installationId: inst, owner: OWNER, name: s.name, files: repoFiles(reg.host, s.imgs) }),
    );
    const policies = specs.reduce((n, s) => n + s.imgs.length, 0);

    const base = async (): Promise<Record<string, string>> => {
      const workDir = await mkdtemp(join(tmpdir(), 'tidemark-bench-scale-'));
      dirs.push(workDir);
      return {
        PATH: process.env.PATH ?? '',
        HOME: workDir,
        ...gh.appEnv(),
        REDIS_URL: redisUrl,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        TIDEMARK_WORKDIR: workDir,
        TIDEMARK_SETTLE: SETTLE,
        TIDEMARK_GITHUB_THROTTLE: 'false',
        TIDEMARK_REGISTRY_ALLOW_HOSTS: '127.0.0.1',
        TIDEMARK_REGISTRY_ENDPOINTS_JSON: JSON.stringify({
          endpoints: [
            {
              id: 'local',
              provider: 'distribution',
              secretsEnv: ['NOTIFY_SECRET'],
              allowedImages: [`${reg.host}/acme/`],
            },
          ],
        }),
        NOTIFY_SECRET,
      };
    };
    const serve = await startProc('serve', `${label} serve`, { ...(await base()), TIDEMARK_ROLE: 'serve' });
    procs.push(serve);
    gh.setWebhookUrl(`${serve.url}/api/github/webhooks`);
    await reg.setNotifyUrl(`${serve.url}/registry/distribution/local`, {
      Authorization: [`Bearer ${NOTIFY_SECRET}`],
    });
    const workers: Proc[] = [];
    for (const i of [1, 2]) workers.push(await startProc('worker', `${label} worker ${i}`, await base()));
    procs.push(...workers);

    // The start-up reconcile (one run per repo) fills the routing table the web process routes pushes with.
    const jobsTotal = async () =>
      (await Promise.all(workers.map((w) => metric(w.url, 'tidemark_jobs_total')))).reduce(
        (a, b) => a + b,
        0,
      );
    const idle = async () => {
      const s = await q.stats();
      return s.waiting === 0 && s.active === 0;
    };
    await until('the start-up runs', procs, async () => (await jobsTotal()) >= REPOS && (await idle()));
    const startupRuns = await jobsTotal();
    const callsBefore = gh.apiCalls();
    const requestsBefore = gh.requests.length;
    if (gh.pulls(OWNER, specs[0]!.name).length > 0) throw new Error('PRs before the first push');

    // 1,000 pushes: round t pushes 1.t.0 of every image, four at a time.
    const cpu = () => [
      ...procs.flatMap((x) => [cpuSeconds(x.p.pid), cpuSeconds(x.p.pid, 'children')]),
      cpuSeconds('self'),
      cpuSeconds('self', 'children'),
    ];
    const cpu0 = cpu();
    const t0 = performance.now();
    for (let t = 1; t <= TAGS; t++) {
      await pool(
        Array.from({ length: IMAGES }, (_, i) => i),
        PUSH_CONCURRENCY,
        async (i) => {
          await pushImage(reg, image(i), `1.${t}.0`, { seed: `${image(i)}:1.${t}.0` });
        },
      );
    }
    const pushedMs = performance.now() - t0;
    let last = '';
    await until('convergence', procs, async () => {
      const missing = unconverged(gh, specs);
      if (missing === undefined) return true;
      last = missing;
      return undefined;
    }).catch(async (e: unknown) => {
      for (const x of procs)
        console.log(`    ${x.p.name} warnings: ${[...x.problems].map(([m, n]) => `${m} ×${n}`).join('; ')}`);
      console.log(`    queue: ${JSON.stringify(await q.stats())}`);
      // The stuck repo's history: every commit tidemark made (branches are reset, so read every object).
      const stuck = /^(\S+) (\S+):/.exec(last);
      if (stuck) {
        const bare = gh.git.repoPath(`${OWNER}/${stuck[1]}`);
        const objs = await execGit(bare, [
          'cat-file',
          '--batch-all-objects',
          '--batch-check=%(objecttype) %(objectname)',
        ]);
        const shas = objs
          .split('\n')
          .filter((l) => l.startsWith('commit '))
          .map((l) => l.slice(7));
        const log = await execGit(bare, [
          'show',
          '-s',
          '--no-walk',
          '--date=iso-strict',
          '--format=%cd %an %s',
          ...shas,
        ]);
        console.log(
          `    ${stuck[1]} commits:\n${log
            .split('\n')
            .filter((l) => l.includes(stuck[2]!))
            .sort()
            .map((l) => `      ${l}`)
            .join('\n')}`,
        );
      }
      throw new Error(`${(e as Error).message}; still missing: ${last}`);
    });
    const convergedMs = performance.now() - t0;
    const callsAtConvergence = gh.apiCalls() - callsBefore;
    await until('the queue to go idle', procs, idle);
    const idleMs = performance.now() - t0;
    const cpuUsed = cpu().map((c, i) => c - cpu0[i]!);

    // Checked after the fact: every PR branch's file holds the newest tag (the titles said so).
    let wrongFiles = 0;
    for (const s of specs)
      for (const i of s.imgs) {
        const text = await gh.readFile(OWNER, s.name, `tidemark/flux-system-${policy(i)}`, 'values.yaml');
        if (!text?.includes(`tag: ${newestTag} # {"$imagepolicy": "flux-system:${policy(i)}:tag"}`))
          wrongFiles++;
      }
    // Commits: tidemark's commits in the double's bare repos (every object, reachable or not: a branch is reset
    // onto main before each update, so older commits are no longer on it).
    let commits = 0;
    for (const s of specs) {
      const bare = gh.git.repoPath(`${OWNER}/${s.name}`);
      const objs = await execGit(bare, [
        'cat-file',
        '--batch-all-objects',
        '--batch-check=%(objecttype) %(objectname)',
      ]);
      const shas = objs
        .split('\n')
        .filter((l) => l.startsWith('commit '))
        .map((l) => l.slice(7));
      const authors = await execGit(bare, ['show', '-s', '--no-walk', '--format=%an', ...shas]);
      commits += authors.split('\n').filter((a) => a === 'tidemark[bot]').length;
    }
    const during = gh.requests.slice(requestsBefore);
    const byOp = new Map<string, number>();
    for (const r of during) {
      if (r.path.endsWith('/access_tokens')) continue;
      const k = `${r.method} ${r.operation ?? r.path}`;
      byOp.set(k, (byOp.get(k) ?? 0) + 1);
    }
    const all = specs.flatMap((s) => gh.pulls(OWNER, s.name).filter((p) => p.author === undefined));
    const branches = new Set(all.map((p) => `${p.owner}/${p.repo}#${p.head.ref}`));
    const duplicates = all.length - branches.size;
    const openDuplicates = all.filter((p) => p.state === 'open').length - branches.size;
    const runs = (await jobsTotal()) - startupRuns;
    const failed = (
      await Promise.all(workers.map((w) => metric(w.url, 'tidemark_jobs_total{outcome="retried"}')))
    ).reduce((a, b) => a + b, 0);
    const notifications = await registryDeliveries(serve.url);

    report.figure(
      `${label}: setup`,
      REPOS,
      'repos',
      `${policies} policies over ${IMAGES} images, settle ${SETTLE}`,
    );
    report.figure(
      `${label}: registry pushes`,
      TAGS * IMAGES,
      'events',
      `all pushed in ${(pushedMs / 1000).toFixed(1)} s`,
    );
    report.figure(
      `${label}: time to converge, first push → every PR on the newest tag`,
      convergedMs / 1000,
      's',
    );
    report.figure(`${label}: time until the queue is idle`, idleMs / 1000, 's');
    report.figure(
      `${label}: reconcile runs after the pushes`,
      runs,
      'runs',
      `${startupRuns} start-up runs before`,
    );
    report.figure(
      `${label}: commits (createCommitOnBranch)`,
      commits,
      'commits',
      `${byOp.get('POST createCommitOnBranch') ?? 0} calls`,
    );
    report.figure(`${label}: PRs opened`, all.length, 'PRs', `${policies} policies`);
    report.figure(`${label}: duplicate PRs`, duplicates, 'PRs');
    report.figure(
      `${label}: GitHub API calls after the first push`,
      gh.apiCalls() - callsBefore,
      'calls',
      `${callsAtConvergence} until convergence; start-up runs took ${callsBefore}`,
    );
    for (const [i, x] of procs.entries())
      report.figure(
        `${label}: peak RSS ${x.p.name.slice(label.length + 1)}`,
        peakRssMb(x.p.pid),
        'MB',
        `CPU from the first push to idle: ${cpuUsed[2 * i]!.toFixed(1)} s, and ${cpuUsed[2 * i + 1]!.toFixed(1)} s in its git processes`,
      );
    report.figure(
      `${label}: CPU of the bench process (GitHub double, pushes)`,
      cpuUsed[2 * procs.length]!,
      's',
      `and ${cpuUsed[2 * procs.length + 1]!.toFixed(1)} s in the git processes the double ran; peak RSS ${peakRssMb(process.pid).toFixed(0)} MB`,
    );
    console.log(`    registry deliveries to serve: ${notifications}; runs retried: ${failed}`);
    console.log(
      `    API calls by operation: ${[...byOp]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    for (const x of procs)
      if (x.problems.size > 0)
        console.log(`    ${x.p.name} warnings: ${[...x.problems].map(([m, n]) => `${m} ×${n}`).join('; ')}`);
    const unwatched = serve.infos.get('no policy watches this image') ?? 0;
    if (unwatched > 0) console.log(`    serve: ${unwatched} pushes routed to no repo`);
    report.goal(
      `${label}: every repo converged, 0 duplicate PRs`,
      wrongFiles === 0 && duplicates === 0 && openDuplicates === 0,
      `${REPOS} repos, ${policies} PR branches on ${newestTag} (${wrongFiles} with another file), ${duplicates} duplicate PRs`,
    );
    gh.assertNoValidationErrors();
  } finally {
    await q.close();
    for (const x of procs) await x.p.stop(10_000);
    await reg.stop();
    await gh.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

export default async function bench(report: BenchReport): Promise<void> {
  const only = process.env.SCALE_ONLY;
  if (only !== 'cluster') {
    const redis = await startRedis();
    try {
      await run(report, 'one Redis', redis.url);
    } finally {
      await redis.stop();
    }
  }
  if (only !== 'redis') {
    const cluster = await startRedisCluster();
    try {
      await run(report, 'Redis Cluster (3 masters)', cluster.url);
    } finally {
      await cluster.stop();
    }
  }
}
