/**
 * `tidemark serve`: the GitHub App. With no APP_ID / PRIVATE_KEY (and NODE_ENV not production) it serves
 * probot's setup page instead, which registers the app from app.yml and writes the credentials to .env.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { run as probotRun } from 'probot';
import { readEnv } from '../config/env.js';
import { startTidemark } from '../main.js';
import type { Command } from './io.js';

const HELP = `Usage: tidemark serve

Starts the GitHub App (configuration from the environment and from ./.env, which the setup page writes;
variables already set in the environment win; see README "Configuration").
Without APP_ID and PRIVATE_KEY it serves the setup page at http://localhost:$PORT/probot.
`;

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
  // start the App (probot would load it only after this decision).
  const processEnv = await withDotEnv(io.env, io.cwd);
  const parsed = readEnv(processEnv, { workDir: join(tmpdir(), 'tidemark-workspaces') });
  if (!parsed.ok) {
    io.stderr(
      `tidemark serve: the environment has problems:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    return 2;
  }
  const env = parsed.env;
  if (!env.appId || !(env.privateKey || env.privateKeyPath)) {
    io.stderr(
      `No GitHub App credentials yet: open http://localhost:${env.port}/probot to register tidemark from app.yml.\n`,
    );
    await probotRun(() => {});
    return new Promise<number>(() => {}); // probot's setup server runs until the process is stopped
  }
  const app = await startTidemark(env, { processEnv });
  io.stderr(`tidemark serving on ${app.url}\n`);
  return new Promise<number>((resolve) => {
    const stop = async () => {
      await app.close();
      resolve(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
};
