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
    // The test registries listen on loopback, which tidemark refuses unless the operator allows it.
    env: { TIDEMARK_REGISTRY_ALLOW_HOSTS: '127.0.0.1', ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
  };
  return io;
}
