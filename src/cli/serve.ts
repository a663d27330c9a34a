/**
 * `tidemark serve`: the GitHub App. With no APP_ID / PRIVATE_KEY (and NODE_ENV not production) it serves
 * probot's setup page instead, which registers the app from app.yml and writes the credentials to .env.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run as probotRun } from 'probot';
import { readEnv } from '../config/env.js';
import { startTidemark } from '../main.js';
import type { Command } from './io.js';

const HELP = `Usage: tidemark serve

Starts the GitHub App (configuration from the environment; see README "Configuration").
Without APP_ID and PRIVATE_KEY it serves the setup page at http://localhost:$PORT/probot.
`;

export const run: Command = async (argv, io) => {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const parsed = readEnv(io.env, { workDir: join(tmpdir(), 'tidemark-workspaces') });
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
  const app = await startTidemark(env);
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
