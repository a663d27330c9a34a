#!/usr/bin/env node
/**
 * The `tidemark` command line. Each subcommand lives in `src/cli/<name>.ts` and is loaded on demand, so
 * `tidemark --help` stays fast and a command's dependencies are only loaded when it runs.
 */
import { realpathSync } from 'node:fs';
import nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import * as help from './cli/help.js';
import { type CliIO, type Command, processIO, UsageError } from './cli/io.js';
import { version } from './cli/package.js';

interface CommandEntry {
  readonly words: readonly string[];
  readonly summary: string;
  readonly load: () => Promise<{ run: Command }>;
  /** Printed for `--help` without loading the command (`cli/help.ts`). */
  readonly help?: string;
}

const COMMANDS: readonly CommandEntry[] = [
  {
    words: ['serve'],
    help: help.SERVE_HELP,
    summary: 'run the GitHub App: webhooks in, reconcile jobs worked in the same process (or the setup page)',
    load: () => import('./cli/serve.js'),
  },
  {
    words: ['worker'],
    help: help.WORKER_HELP,
    summary: 'run a worker process: reconcile jobs from Redis (REDIS_URL); webhooks go to `serve`',
    load: () => import('./cli/worker.js'),
  },
  {
    words: ['plan'],
    help: help.PLAN_HELP,
    summary: 'compute the whole update on a local checkout and print the diff (--write applies it)',
    load: () => import('./cli/plan.js'),
  },
  {
    words: ['init'],
    help: help.INIT_HELP,
    summary:
      'find the images in a repo without markers, infer policies from their tags, propose config + markers',
    load: () => import('./cli/init.js'),
  },
  {
    words: ['policy', 'eval'],
    help: help.POLICY_EVAL_HELP,
    summary: 'pick the tag an ImagePolicy (or native policy) selects from a list of tags',
    load: () => import('./cli/policy-eval.js'),
  },
  {
    words: ['markers', 'apply'],
    help: help.MARKERS_APPLY_HELP,
    summary: 'rewrite $imagepolicy markers in files from a results.json',
    load: () => import('./cli/markers-apply.js'),
  },
  {
    words: ['webhook', 'parse'],
    summary: 'parse a registry webhook body into normalised push events (JSON lines)',
    load: () => import('./cli/webhook-parse.js'),
  },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length));
  const lines = COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'tidemark — keeps GitOps config repos on the newest container images',
    '',
    'Usage: tidemark <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `tidemark <command> --help` for a command’s options; `tidemark --version` prints the version.',
    '',
  ].join('\n');
}

export { version };

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
    io.stdout(`tidemark ${version()}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.words.every((w, i) => argv[i] === w));
  if (!entry) {
    io.stderr(`tidemark: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}`);
    return 2;
  }
  const rest = argv.slice(entry.words.length);
  if (entry.help && (rest.includes('--help') || rest.includes('-h'))) {
    io.stdout(entry.help);
    return 0;
  }
  try {
    const { run } = await entry.load();
    return await run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`tidemark ${entry.words.join(' ')}: ${err.message}\n`);
      return 2;
    }
    // node:util parseArgs: an unknown option, a missing value, a stray argument — a usage error, not a crash.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const cmd = entry.words.join(' ');
      io.stderr(
        `tidemark ${cmd}: ${(err as Error).message}\nRun \`tidemark ${cmd} --help\` for its options.\n`,
      );
      return 2;
    }
    throw err;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  // Node ≥ 22.1 (the runtime tidemark ships on is 24): the compiled code of the modules a command loads is kept
  // on disk (in the OS temp folder) and reused by the next run. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // A message, not a stack trace; TIDEMARK_DEBUG=1 adds the stack for a bug report.
      const detail =
        err instanceof Error
          ? process.env.TIDEMARK_DEBUG
            ? (err.stack ?? err.message)
            : err.message
          : String(err);
      process.stderr.write(`tidemark: ${detail}\n`);
      process.exitCode = 1;
    },
  );
}
