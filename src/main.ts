/**
 * The composition root: reads nothing from globals, builds every part from an AppEnv, wires them together and
 * starts the HTTP server and the worker. `tidemark serve` calls it; so do the end-to-end tests.
 */
import { readFile } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import { loadEndpoints } from './config/endpoints.js';
import type { AppEnv } from './config/env.js';
import { insecureHostsAllowed } from './core/config/registry-access.js';
import { type JobReason, parseReason } from './core/domain/reasons.js';
import {
  AppConfigError,
  AppError,
  CredentialsRenewedError,
  isRetryable,
  RunDeadlineError,
} from './core/errors.js';
import type { PostedCheck } from './core/plan/status-report.js';
import { WorkspaceCache } from './git/workspace.js';
import { completeTarget, listInstalledRepos } from './github/discovery.js';
import { InstallationTokens } from './github/installation-tokens.js';
import { octokitPort } from './github/port.js';
import { createDeduper } from './intake/dedupe.js';
import { type Dispatcher, tidemarkApp } from './intake/github-app.js';
import { createGoogleOidcVerifier } from './intake/google-oidc.js';
import { createRouter, listen } from './intake/http.js';
import { createRegistryWebhookHandler } from './intake/registry-endpoint.js';
import { routeImagePushes } from './intake/route-pushes.js';
import { createLogger, type Logger, SecretRegistry } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { currentCarrier, inSpan, startTracing } from './observability/tracing.js';
import { BullQueue } from './queue/bullmq-queue.js';
import { MemoryQueue } from './queue/memory-queue.js';
import { createRedisClient, parseRedisUrl, queuePrefix } from './queue/redis-connection.js';
import type { JobContext, JobQueue, QueueOptions, RepoJob } from './queue/types.js';
import { RegistryClients } from './registry/clients.js';
import { cloudCredentialsFromEnv } from './registry/cloud/from-env.js';
import type { RegistryClient } from './registry/types.js';
import { isCredentialFailure } from './run/credentials.js';
import { gateSources, loadTrustedRoot } from './run/gate-sources.js';
import { markerReadingsCache } from './run/marker-readings.js';
import { PullCache, runRepo } from './run/run-repo.js';
import { type Scheduler, startScheduler } from './run/scheduler.js';
import { WakeTimers } from './run/wake.js';
import {
  type FirstSeenStore,
  MemoryFirstSeen,
  RedisFirstSeen,
  recordingFirstSeen,
} from './state/first-seen.js';
import {
  MemoryPolicyIndex,
  type PolicyIndex,
  RedisPolicyIndex,
  type RepoTarget,
  repoKeyOf,
} from './state/policy-index.js';
import { RedisPullGenerations } from './state/pull-generations.js';
import { backoffDelay } from './time/backoff.js';
import { type Clock, sleepOn, systemClock } from './time/clock.js';

export interface Tidemark {
  readonly url: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly queue: JobQueue<RepoTarget>;
  /** Enqueue every installed repo (what the periodic reconcile does). */
  reconcileAll(kind?: 'periodic' | 'installation' | 'manual'): Promise<number>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly log?: Logger;
  readonly processEnv?: Record<string, string | undefined>;
  /** Override the registry client (e.g. insecure hosts); default: OCI client with DOCKER_CONFIG credentials. */
  readonly registry?: RegistryClient;
  /** Disable octokit's write throttling (1 s between writes); for tests and private servers. */
  readonly githubThrottle?: boolean;
  /** The clock for timers and timestamps (default: the system clock). */
  readonly clock?: Clock;
  /** Called when a job ends: succeeded, failed for good, or failed and will be retried. */
  readonly onJobSettled?: (job: RepoJob<RepoTarget>, outcome: JobOutcome) => void;
}

export type JobOutcome = 'succeeded' | 'failed' | 'retried';

export async function startTidemark(env: AppEnv, opts: StartOptions = {}): Promise<Tidemark> {
  const processEnv = opts.processEnv ?? process.env;
  const secrets = new SecretRegistry();
  const log = opts.log ?? createLogger({ level: env.logLevel, secrets });
  secrets.add(env.webhookSecret, env.privateKey);
  const metrics = createMetrics();
  const tracing = await startTracing({ ...(env.otlpEndpoint && { endpoint: env.otlpEndpoint }) });
  const privateKey =
    env.privateKey ?? (env.privateKeyPath ? await readFile(env.privateKeyPath, 'utf8') : undefined);
  if (!env.appId || !privateKey)
    throw new AppConfigError(
      'APP_ID and PRIVATE_KEY are needed to serve; run without them to register the app',
    );
  secrets.add(privateKey);

  const throttle = opts.githubThrottle ?? env.githubThrottle;
  const AppOctokit = ProbotOctokit.defaults((o: Record<string, unknown>) => ({
    ...o,
    throttle: { ...(o.throttle as object), enabled: throttle },
    retry: { enabled: true },
  }));
  const probot = new Probot({
    appId: env.appId,
    privateKey,
    secret: env.webhookSecret ?? '',
    ...(env.githubApiUrl && { baseUrl: env.githubApiUrl }),
    log: log.child({ name: 'probot' }),
    Octokit: AppOctokit,
  });

  const endpoints = await loadEndpoints(env, processEnv);
  for (const e of endpoints) secrets.add(...e.secrets);

  // With REDIS_URL the index and the queue live in Redis, shared by every web and worker process.
  // One Redis or a Redis Cluster (redis-cluster://…): on a cluster the index's keys share a hash tag, as the
  // queue's do, so its MULTI/MGET stay in one slot (docs/redis.md).
  const redisTarget = env.redisUrl ? parseRedisUrl(env.redisUrl) : undefined;
  const redis = redisTarget ? createRedisClient(redisTarget) : undefined;
  redis?.on('error', (err) => log.debug({ err }, 'redis connection'));
  const index: PolicyIndex =
    redis && redisTarget
      ? new RedisPolicyIndex(redis, `${queuePrefix('tidemark', redisTarget)}:index`)
      : new MemoryPolicyIndex();
  const firstSeen: FirstSeenStore = redis ? new RedisFirstSeen(redis) : new MemoryFirstSeen();
  const workspaces = new WorkspaceCache(env.workDir);
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  // Installation tokens for git, minted through the app's own octokit so they follow the configured API URL.
  const tokens = new InstallationTokens(
    async (installationId) => {
      const appOctokit = await probot.auth();
      const { data } = await appOctokit.rest.apps.createInstallationAccessToken({
        installation_id: installationId,
      });
      return { token: data.token, expiresAt: data.expires_at };
    },
    { clock, onToken: (t) => secrets.add(t) },
  );
  const gitToken = (installationId: number) => tokens.get(installationId);
  // The same resolution as `tidemark plan`: the operator's Docker config and mirrors, plus the repo's block.
  // Cloud identity for registries (off unless TIDEMARK_CLOUD_IDENTITY lists providers; checked by readEnv).
  const { cloud } = cloudCredentialsFromEnv(processEnv, {
    clock,
    log: log.child({ name: 'cloud-identity' }),
  });
  const registries = new RegistryClients(
    { ...env, cloud, insecureHosts: insecureHostsAllowed(processEnv) },
    { onResponse: (host, status) => metrics.registryRequests.inc({ host, status: String(status) }) },
    // Every tag a scan lists is recorded as seen (the earliest time wins), for minimum-age rules.
    (registry) => recordingFirstSeen(registry, firstSeen, now),
    opts.registry,
  );
  // The App's own login, asked once (GET /app): only pull requests it opened are tidemark's.
  let botLoginOnce: Promise<string> | undefined;
  const botLogin = (): Promise<string> => {
    botLoginOnce ??= probot
      .auth()
      .then((o) => o.rest.apps.getAuthenticated())
      .then(({ data }) => {
        if (!data?.slug) throw new AppConfigError('GET /app did not name the App (no slug)');
        return `${data.slug}[bot]`;
      });
    botLoginOnce.catch(() => {
      botLoginOnce = undefined; // asked again next time
    });
    return botLoginOnce;
  };
  const runDeps = {
    async auth(installationId: number) {
      // One installation token for the API and git, from one cache: a token refused with 401 is forgotten
      // (runJob) and the retry mints a new one for both.
      const token = await gitToken(installationId);
      const octokit = new AppOctokit({
        auth: { token },
        ...(env.githubApiUrl && { baseUrl: env.githubApiUrl }),
        log: log.child({ name: 'octokit' }),
      }) as unknown as Awaited<ReturnType<typeof probot.auth>>;
      octokit.hook.after('request', (res, req) => {
        metrics.githubCalls.inc({
          kind: String(req.url).endsWith('/graphql') ? 'graphql' : 'rest',
          status: String(res.status),
        });
        const remaining = Number(res.headers['x-ratelimit-remaining']);
        if (Number.isFinite(remaining)) metrics.githubRateRemaining.set(remaining);
      });
      return { github: octokitPort(octokit), token, octokit };
    },
    workspaces,
    registries,
    env: processEnv,
    botLogin,
    readings: markerReadingsCache(),
    index,
    // With several processes, a PR one of them opened or changed makes the others' cached view stale at once.
    pulls: new PullCache(
      5 * 60_000,
      now,
      undefined,
      redis && redisTarget
        ? new RedisPullGenerations(redis, `${queuePrefix('tidemark', redisTarget)}:pulls`)
        : undefined,
    ),
    postedChecks: new LRUCache<string, PostedCheck>({ max: 10_000 }),
    dashboards: new LRUCache<string, { number: number; body: string }>({ max: 10_000 }),
    gates: gateSources({
      firstSeen: (image, tagAtDigest, at) => firstSeen.record(image, tagAtDigest, at),
      trustedRoot: await loadTrustedRoot(env.trustedRootFile),
    }),
    log,
    metrics,
    now,
    settings: { publisher: env.publisher, author: env.gitAuthor },
  };

  const queueOptions: QueueOptions<RepoTarget> = {
    settleMs: env.settleMs,
    attempts: 5,
    backoffMs: 2_000,
    concurrency: env.concurrency,
    isRetryable,
    onFailed: (job, err, final) => {
      metrics.jobs.inc({
        outcome: final ? (err instanceof AppError && !err.retryable ? 'config-error' : 'failed') : 'retried',
      });
      log.warn({ repo: job.repoKey, final, err }, final ? 'job failed' : 'job will be retried');
      opts.onJobSettled?.(job, final ? 'failed' : 'retried');
    },
    onCompleted: (job, ms) => {
      metrics.jobs.inc({ outcome: 'succeeded' });
      metrics.reconcileDuration.observe({ outcome: 'succeeded' }, ms / 1000);
      opts.onJobSettled?.(job, 'succeeded');
    },
  };
  const queue: JobQueue<RepoTarget> = env.redisUrl
    ? new BullQueue<RepoTarget>({
        ...queueOptions,
        redisUrl: env.redisUrl,
        // Every reconnect attempt during an outage reports here: debug, not noise.
        onError: (err) => log.debug({ err }, 'redis connection'),
      })
    : new MemoryQueue<RepoTarget>(queueOptions, { clock });
  // Declared before the worker starts: a job may run as soon as it does. `enqueue` is read only when a timer fires.
  const wakes = new WakeTimers<RepoTarget>(clock, (target) => {
    enqueue(target, { kind: 'gate-due', receivedAt: now() }).catch((err) =>
      log.warn({ err, repo: `${target.owner}/${target.repo}` }, 'could not enqueue a gate-due run'),
    );
  });
  const handleJob = async (job: RepoJob<RepoTarget>, ctx: JobContext) => {
    metrics.jobsActive.inc();
    const parent = job.reasons.map((r) => r.trace).find((t) => t && Object.keys(t).length > 0);
    try {
      await inSpan(
        'job',
        { repo: job.repoKey, reasons: job.reasons.map((r) => r.kind).join(',') },
        () => runJob(job, ctx.signal, ctx.attempt),
        parent,
      );
    } finally {
      metrics.jobsActive.dec();
    }
  };
  if (env.role !== 'serve') await queue.start(handleJob);
  async function runJob(job: RepoJob<RepoTarget>, signal: AbortSignal, attempt: number): Promise<void> {
    try {
      let target = job.target;
      if (!target.cloneUrl || !target.defaultBranch)
        target = await completeTarget((await runDeps.auth(target.installationId)).octokit, target);
      // Reasons come back from the queue (and Redis) as JSON: read each as the typed union, once.
      const reasons = job.reasons.flatMap((r) => parseReason(r) ?? []);
      const dropped = job.reasons.length - reasons.length;
      if (dropped > 0) log.warn({ repo: job.repoKey, dropped }, 'job reasons not understood; ignored');
      // Every run has a deadline: a run stuck on something slow is aborted at its next step and retried later.
      const deadline = AbortSignal.timeout(env.jobTimeoutMs);
      const summary = await runRepo(runDeps, target, reasons.length > 0 ? reasons : [{ kind: 'manual' }], {
        signal: AbortSignal.any([signal, deadline]),
        attempt,
      }).catch((err: unknown) => {
        if (deadline.aborted && !signal.aborted)
          throw new RunDeadlineError(
            `${target.owner}/${target.repo}: the run passed TIDEMARK_JOB_TIMEOUT (${env.jobTimeoutMs} ms); it is retried later`,
            { cause: err },
          );
        throw err;
      });
      // A gate that passes by itself later (a tag matures, a freeze ends): run the repo again then.
      if (summary.plan?.wakeAt !== undefined) wakes.at(job.repoKey, target, summary.plan.wakeAt);
    } catch (err) {
      // A revoked or expired installation token: drop it so the retry mints a new one (API and git alike).
      if (isCredentialFailure(err)) {
        tokens.forget(job.target.installationId);
        throw new CredentialsRenewedError(
          `${job.target.owner}/${job.target.repo}: GitHub refused the installation token; a new one is minted for the retry`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  // The active trace context travels with the job, so the job's span is a child of the delivery's.
  const enqueue = (target: RepoTarget, reason: JobReason) =>
    queue.enqueue({
      repoKey: repoKeyOf(target),
      target,
      reasons: [{ ...reason, trace: currentCarrier() }],
    });
  const dispatcher: Dispatcher = {
    enqueueRepo: (target, reason) =>
      inSpan(`webhook github ${reason.kind}`, { repo: `${target.owner}/${target.repo}` }, () =>
        enqueue(target, { ...reason, receivedAt: now() }),
      ),
    routeImagePushes: (events, meta) =>
      routeImagePushes({ index, firstSeen, enqueue, now, log }, events, meta),
    async forgetInstallation(id) {
      tokens.forget(id);
      await index.removeInstallation(id);
    },
    async forgetRepo(t) {
      await index.removeRepo(repoKeyOf(t));
      // The repo left the installation: its clone (and the code in it) does not stay on disk.
      const removed = await workspaces.forgetByName(t);
      log.info({ repo: `${t.owner}/${t.repo}`, clones: removed }, 'repo removed from the installation');
    },
    observed: (event, outcome) => metrics.webhooks.inc({ source: 'github', provider: event, outcome }),
  };

  const registryHandler = createRegistryWebhookHandler({
    endpoints: (id) => endpoints.find((e) => e.id === id),
    enqueue: async (events, meta) => {
      await inSpan(
        `webhook registry ${meta.provider}`,
        { endpoint: meta.endpointId, events: events.length },
        () =>
          dispatcher.routeImagePushes(events, {
            source: `registry:${meta.endpointId}`,
            ...(meta.deliveryId && { deliveryId: meta.deliveryId }),
          }),
      );
    },
    log,
    dedupe: createDeduper({ now }),
    verifyOidcToken: createGoogleOidcVerifier(),
    metrics: {
      webhook: (provider, outcome) => metrics.webhooks.inc({ source: 'registry', provider, outcome }),
    },
  });
  const github = await createNodeMiddleware(tidemarkApp(dispatcher), {
    probot,
    webhooksPath: env.webhookPath,
  });
  // A worker process serves only health and metrics; webhooks go to the web processes.
  const acceptsWebhooks = env.role !== 'worker';
  let startupDone = false;
  let closing = false;
  const router = createRouter({
    githubWebhookPath: env.webhookPath,
    githubMaxBodyBytes: env.githubMaxBodyBytes,
    ...(acceptsWebhooks && { github: (req, res, next) => github(req, res, next), registry: registryHandler }),
    metrics: metrics.registry,
    ready: async () => {
      const q = await queue.ping();
      // Not ready until the start-up reconcile has listed the installations (the routing table fills from it).
      const started = !acceptsWebhooks || startupDone;
      return { ok: q && started, checks: { queue: q, credentials: true, startupReconcile: started } };
    },
    onError: (err) => log.error({ err }, 'request failed'),
  });
  const server = await listen(router, env.host, env.port);
  log.info(
    { url: server.url, endpoints: endpoints.map((e) => `${e.provider}/${e.id}`) },
    'tidemark listening',
  );

  const reconcileAll = async (kind: 'periodic' | 'installation' | 'manual' = 'periodic'): Promise<number> => {
    const repos = await listInstalledRepos(probot, async (id) => (await runDeps.auth(id)).octokit);
    for (const t of repos) await enqueue(t, { kind, receivedAt: now() });
    return repos.length;
  };
  let scheduler: Scheduler | undefined;
  // The web side discovers installations and schedules the periodic reconcile; workers only work jobs.
  if (acceptsWebhooks) {
    // The start-up reconcile builds the routing table: retried with backoff until it succeeds (a GitHub
    // hiccup at start must not leave registry pushes routed nowhere until the first periodic run).
    void (async () => {
      for (let attempt = 1; !closing; attempt++) {
        try {
          await reconcileAll('installation');
          startupDone = true;
          return;
        } catch (err) {
          const delayMs = backoffDelay(attempt, { baseMs: 1_000, maxMs: 60_000 });
          log.warn({ err, attempt, delayMs }, 'could not list installations at start; will retry');
          await sleepOn(clock, delayMs);
        }
      }
    })();
    scheduler = startScheduler({
      intervalMs: env.reconcileIntervalMs,
      tick: () => reconcileAll(),
      onError: (err) => log.warn({ err }, 'periodic reconcile could not list installations'),
      clock,
    });
  }

  return {
    url: server.url,
    port: server.port,
    metrics,
    queue,
    reconcileAll,
    async close() {
      closing = true;
      scheduler?.stop();
      wakes.stop();
      await new Promise<void>((r) => server.server.close(() => r()));
      server.server.closeAllConnections?.();
      await queue.close({ deadlineMs: env.shutdownDeadlineMs });
      redis?.disconnect();
      await tracing.shutdown();
    },
  };
}

export { AppConfigError };
