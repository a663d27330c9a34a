/**
 * `tidemark serve`: the GitHub App. With no APP_ID / PRIVATE_KEY (and NODE_ENV not production) it serves
 * probot's setup page instead, which registers the app from app.yml and writes the credentials to .env.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { type AppEnv, readEnv } from '../config/env.js';
import { startSetupServer } from '../intake/setup-server.js';
import { startTidemark } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { SERVE_HELP as HELP } from './help.js';
import type { Command } from './io.js';
import { packageRoot, version } from './package.js';

/** The environment with ./.env's values added where the environment does not set them. */
export async function withDotEnv(
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<Record<string, string | undefined>> {
  const text = await readFile(join(cwd, '.env'), 'utf8').catch(() => undefined);
  if (text === undefined) return env;
  const fromFile = parseEnv(text);
  return { ...fromFile, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
}

export const run: Command = async (argv, io) => {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  // Read .env before deciding between the App and the setup page: after setup writes it, `npm start` must
  // start the App.
  const read = async () => {
    const processEnv = await withDotEnv(io.env, io.cwd);
    return { processEnv, parsed: readEnv(processEnv, { workDir: join(tmpdir(), 'tidemark-workspaces') }) };
  };
  const first = await read();
  if (!first.parsed.ok) {
    io.stderr(
      `tidemark serve: the environment has problems:\n${first.parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    return 2;
  }
  // SIGTERM / SIGINT (npm start execs node, so npm's signals arrive here) close whatever is listening, and the
  // process exits. A signal during start-up is remembered: what starts afterwards is closed at once, so no
  // server outlives the signal and keeps the port.
  let stopping: (() => Promise<void>) | undefined;
  let stopRequested = false;
  const done = new Promise<number>((resolve) => {
    const stop = async () => {
      if (stopRequested) return;
      stopRequested = true;
      try {
        await stopping?.();
        resolve(0);
      } catch (err) {
        io.stderr(`tidemark serve: while stopping: ${(err as Error).message}\n`);
        resolve(1);
      }
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  /** Makes `close` what a signal runs; closes at once when a signal came while it was starting. */
  const running = async (close: () => Promise<void>): Promise<boolean> => {
    if (stopRequested) {
      await close();
      return false;
    }
    stopping = close;
    return true;
  };
  const serveApp = async (env: AppEnv, processEnv: Record<string, string | undefined>) => {
    const app = await startTidemark(env, { processEnv });
    if (await running(() => app.close())) io.stderr(`tidemark serving on ${app.url}\n`);
  };
  const env = first.parsed.env;
  if (env.appId && (env.privateKey || env.privateKeyPath)) {
    await serveApp(env, first.processEnv);
    return done;
  }
  if (env.production) {
    io.stderr(
      'tidemark serve: APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are needed with NODE_ENV=production\n',
    );
    return 2;
  }
  const root = packageRoot();
  const setup = await startSetupServer({
    host: env.host,
    port: env.port,
    webhookPath: env.webhookPath,
    env: first.processEnv,
    ...(env.githubApiUrl && { githubApiUrl: env.githubApiUrl }),
    cwd: io.cwd,
    appYmlPath: root ? join(root, 'app.yml') : join(io.cwd, 'app.yml'),
    version: version(),
    log: createLogger({ level: env.logLevel }),
    onRegistered: () => {
      // The credentials are in .env: stop the setup page and start the App on the same address.
      stopping = () => setup.close();
      void (async () => {
        await setup.close();
        if (stopRequested) return;
        const next = await read();
        if (!next.parsed.ok) {
          io.stderr(`tidemark serve: after registration: ${next.parsed.problems.join('; ')}\n`);
          return;
        }
        await serveApp(next.parsed.env, next.processEnv);
      })().catch((err: unknown) =>
        io.stderr(`tidemark serve: could not start after registration: ${(err as Error).message}\n`),
      );
    },
  });
  if (!(await running(() => setup.close()))) return done;
  io.stderr(
    `No GitHub App credentials yet: open ${setup.url.replace('127.0.0.1', 'localhost')}/probot to register tidemark from app.yml.\n`,
  );
  return done;
};
