import type { CliIO } from '../../src/cli/io.js';

/** A CliIO that records what a command prints, for calling `main()` in-process. */
export function captureIO(
  opts: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
    readStdin: async () => opts.stdin ?? '',
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
  };
  return io;
}
