import { readFile } from 'node:fs/promises';
import { AppError } from '../core/errors.js';

/** What a CLI command may touch besides the file system: its streams and its environment. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Read a file argument, where `-` means standard input. */
export async function readInput(io: CliIO, file: string): Promise<string> {
  return file === '-' ? io.readStdin() : readFile(file, 'utf8');
}

/** Thrown by commands for bad usage; the CLI prints the message and exits 2. */
/** The command line was not understood: never retried. */
export class UsageError extends AppError {
  readonly code = 'usage';
  readonly retryable = false;
}

export type Command = (argv: string[], io: CliIO) => Promise<number>;
