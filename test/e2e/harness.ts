/** Starts the GitHub double, a registry and tidemark wired together, for end-to-end tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readEnv } from '../../src/config/env.js';
import { type JobOutcome, startTidemark, type Tidemark } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import type { QueueReason } from '../../src/queue/types.js';
import { repoKeyOf } from '../../src/state/policy-index.js';
import type { Clock } from '../../src/time/clock.js';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import { type Registry, type RegistryOptions, startRegistry } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

export const NOTIFY_SECRET = 'registry-notify-secret-0123456789';
/** Waits for a condition (an event's effect); the deadline only bounds a hang. */
export const until = waitFor;

/** A job tidemark finished (for good or to retry), in the order they ended. */
export interface SettledJob {
  readonly repo: string;
  readonly reasons: readonly QueueReason[];
  readonly outcome: JobOutcome;
}

export interface Env {
  gh: GitHubDouble;
  reg: Registry;
  app: Tidemark;
  /** With `split`, the worker process (the app then only takes webhooks). */
  worker?: Tidemark;
  logLines: string[];
  /** tidemark's work directory (repo clones live here). */
  workDir: string;
  /** Every job tidemark finished so far (web and worker), oldest first. */
  jobs: SettledJob[];
  /**
   * Waits until a job that ended after `since` (an index into `jobs`, default 0) matches; returns it. This is
   * how a test knows an input was processed before it asserts what did (or did not) happen.
   */
  waitForJob(what: string, match: (job: SettledJob) => boolean, since?: number): Promise<SettledJob>;
  /** Waits until nothing is waiting or running in the queue. */
  idle(): Promise<void>;
  /** Waits for a log line containing every one of `parts`. */
  waitForLog(...parts: string[]): Promise<string>;
  /**
   * Adds a repo to an installation while tidemark runs (as GitHub does, with an installation_repositories
   * webhook) and waits until tidemark's first run of it has finished.
   */
  /**
   * Pushes `image:tag` to the registry, waits until tidemark has handled its notification (no repo watches it
   * yet), then adds the repo with `addRepo`: a scenario of its own for one test.
   */
  seedRepo(
    opts: { installationId: number; owner: string; name: string; files: Record<string, string> },
    image: string,
    tag: string,
  ): Promise<void>;
  addRepo(opts: {
    installationId: number;
    owner: string;
    name: string;
    files: Record<string, string>;
  }): Promise<void>;
  stop(): Promise<void>;
}

/** A job reason by kind, and by key when given. */
export const hasReason =
  (kind: string, key?: string) =>
  (job: SettledJob): boolean =>
    job.reasons.some((r) => r.kind === kind && (key === undefined || r.key === key));

/** `setup` runs after the double and registry start and before tidemark does (add installations, repos, tags). */
export async function startEnv(
  setup: (gh: GitHubDouble, reg: Registry) => Promise<void>,
  extraEnv: (reg: Registry) => Record<string, string> = () => ({}),
  opts: {
    split?: { redisUrl: string };
    /** The registry's options (e.g. basic auth); default: no auth. */
    registry?: RegistryOptions;
    /** More of tidemark's process environment (e.g. the variables a repo's `registries:` block names). */
    processEnv?: Record<string, string>;
    /** Wait until the start-up run of every installed repo has finished (default true). */
    awaitFirstRuns?: boolean;
    /** tidemark's clock (e.g. a ShiftClock a test moves forward past a minimum age). */
    clock?: Clock;
  } = {},
): Promise<Env> {
  const gh = await startGitHubDouble();
  const reg = await startRegistry(opts.registry);
  await setup(gh, reg);
  const workDir = await mkdtemp(join(tmpdir(), 'tidemark-e2e-'));
  const readWith = (role: string) =>
    readEnv(
      {
        ...(opts.split && { REDIS_URL: opts.split.redisUrl, TIDEMARK_ROLE: role }),
        ...gh.appEnv(),
        HOST: '127.0.0.1',
        PORT: '0',
        TIDEMARK_WORKDIR: workDir,
        TIDEMARK_SETTLE: '200ms',
        // The test registries listen on loopback, which tidemark refuses unless the operator allows it.
        TIDEMARK_REGISTRY_ALLOW_HOSTS: '127.0.0.1',
        ...extraEnv(reg),
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
      },
      { workDir },
    );
  const env = readWith('serve');
  if (!env.ok) throw new Error(env.problems.join('\n'));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  const jobs: SettledJob[] = [];
  const onJobSettled = (job: { repoKey: string; reasons: readonly QueueReason[] }, outcome: JobOutcome) =>
    jobs.push({ repo: job.repoKey, reasons: job.reasons, outcome });
  const app = await startTidemark(env.env, {
    processEnv: { NOTIFY_SECRET, ...opts.processEnv },
    githubThrottle: false,
    log: createLogger({ level: 'debug', destination: sink }),
    onJobSettled,
    ...(opts.clock && { clock: opts.clock }),
  });
  let worker: Tidemark | undefined;
  if (opts.split) {
    const wenv = readWith('worker');
    if (!wenv.ok) throw new Error(wenv.problems.join('\n'));
    worker = await startTidemark(wenv.env, {
      processEnv: { NOTIFY_SECRET, ...opts.processEnv },
      githubThrottle: false,
      log: createLogger({ level: 'debug', destination: sink }),
      onJobSettled,
    });
  }
  gh.setWebhookUrl(`${app.url}/api/github/webhooks`);
  await reg.setNotifyUrl(`${app.url}/registry/distribution/local`, {
    Authorization: [`Bearer ${NOTIFY_SECRET}`],
  });
  const waitForJob = (what: string, match: (job: SettledJob) => boolean, since = 0) =>
    waitFor(what, () => jobs.slice(since).find(match)).catch((e: unknown) => {
      console.log(logLines.join('').slice(-4000));
      throw e;
    });
  // At start tidemark reconciles every installed repo once: wait until each of those runs has finished.
  for (const r of opts.awaitFirstRuns === false ? [] : gh.repos()) {
    const key = repoKeyOf({ installationId: r.installationId, owner: r.owner, repo: r.name });
    await waitForJob(
      `the first run of ${r.owner}/${r.name}`,
      (j) => j.repo === key && hasReason('installation')(j),
    );
  }
  const started: Env = {
    gh,
    reg,
    app,
    ...(worker && { worker }),
    logLines,
    workDir,
    jobs,
    waitForJob,
    async idle() {
      await waitFor('the queue to go idle', async () => {
        const s = await (worker ?? app).queue.stats();
        return s.waiting === 0 && s.active === 0;
      });
    },
    waitForLog: (...parts) =>
      waitFor(`a log line with ${parts.join(', ')}`, () =>
        logLines.find((l) => parts.every((p) => l.includes(p))),
      ),
    async seedRepo(o, image, tag) {
      await pushImage(reg, image, tag, { seed: `${o.name}-${tag}` });
      // The push's notification reaches tidemark before the repo exists: wait until it was handled.
      await started.waitForLog(`/${image}"`, `"tag":"${tag}"`, 'no policy watches this image');
      await started.addRepo(o);
    },
    async addRepo(o) {
      await gh.addRepo(o);
      const since = jobs.length;
      await gh.sendWebhook('installation_repositories', {
        action: 'added',
        installation: { id: o.installationId },
        repository_selection: 'selected',
        repositories_added: [
          { id: 1, node_id: 'R_1', name: o.name, full_name: `${o.owner}/${o.name}`, private: true },
        ],
        repositories_removed: [],
        sender: { login: 'octocat', type: 'User' },
      });
      const key = repoKeyOf({ installationId: o.installationId, owner: o.owner, repo: o.name });
      const first = await waitForJob(`the first run of ${o.owner}/${o.name}`, (j) => j.repo === key, since);
      if (first.outcome !== 'succeeded')
        throw new Error(`the first run of ${o.owner}/${o.name} ${first.outcome}`);
    },
    async stop() {
      await app.close();
      await worker?.close();
      await reg.stop();
      await gh.stop();
      await rm(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
  return started;
}
