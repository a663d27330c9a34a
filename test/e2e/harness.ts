/** Starts the GitHub double, a registry and tidemark wired together, for end-to-end tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readEnv } from '../../src/config/env.js';
import { startTidemark, type Tidemark } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';
import { type Registry, startRegistry } from '../support/registry.js';

export const NOTIFY_SECRET = 'registry-notify-secret-0123456789';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => T | Promise<T>, ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface Env {
  gh: GitHubDouble;
  reg: Registry;
  app: Tidemark;
  /** With `split`, the worker process (the app then only takes webhooks). */
  worker?: Tidemark;
  logLines: string[];
  stop(): Promise<void>;
}

/** `setup` runs after the double and registry start and before tidemark does (add installations, repos, tags). */
export async function startEnv(
  setup: (gh: GitHubDouble, reg: Registry) => Promise<void>,
  extraEnv: (reg: Registry) => Record<string, string> = () => ({}),
  opts: { split?: { redisUrl: string } } = {},
): Promise<Env> {
  const gh = await startGitHubDouble();
  const reg = await startRegistry();
  await setup(gh, reg);
  const workDir = await mkdtemp(join(tmpdir(), 'tidemark-e2e-'));
  const readWith = (role: string) =>
    readEnv(
      {
        ...(opts.split && { REDIS_URL: opts.split.redisUrl, TIDEMARK_ROLE: role }),
        APP_ID: String(gh.appId),
        PRIVATE_KEY: gh.privateKey,
        WEBHOOK_SECRET: gh.webhookSecret,
        GITHUB_API_URL: gh.url,
        HOST: '127.0.0.1',
        PORT: '0',
        TIDEMARK_WORKDIR: workDir,
        TIDEMARK_SETTLE: '200ms',
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
  const app = await startTidemark(env.env, {
    processEnv: { NOTIFY_SECRET },
    githubThrottle: false,
    log: createLogger({ level: 'debug', destination: sink }),
  });
  let worker: Tidemark | undefined;
  if (opts.split) {
    const wenv = readWith('worker');
    if (!wenv.ok) throw new Error(wenv.problems.join('\n'));
    worker = await startTidemark(wenv.env, {
      processEnv: { NOTIFY_SECRET },
      githubThrottle: false,
      log: createLogger({ level: 'debug', destination: sink }),
    });
  }
  gh.setWebhookUrl(`${app.url}/api/github/webhooks`);
  await reg.setNotifyUrl(`${app.url}/registry/distribution/local`, {
    Authorization: [`Bearer ${NOTIFY_SECRET}`],
  });
  await until('the first reconcile', async () => (await app.queue.stats()).completed >= 1).catch(
    (e: unknown) => {
      console.log(logLines.join('').slice(-4000));
      throw e;
    },
  );
  return {
    gh,
    reg,
    app,
    ...(worker && { worker }),
    logLines,
    async stop() {
      await app.close();
      await worker?.close();
      await reg.stop();
      await gh.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
