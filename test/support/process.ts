/**
 * Child processes for real-service tests: spawn, wait until ready (port or log line), stop by PID.
 * Every child is also killed when the test worker exits, so a crashed test file leaves no orphans.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TAIL_BYTES = 4000;

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Shown in error messages; defaults to the command. */
  name?: string;
}

export interface Spawned {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  readonly exited: Promise<number | string | null>;
  /** Resolves once the child has exited and its output pipes are drained. */
  readonly closed: Promise<void>;
  hasExited(): boolean;
  stdoutTail(): string;
  stderrTail(): string;
  /** Everything the child printed so far (stdout and stderr, interleaved), last TAIL_BYTES*4 chars. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

function tail(s: string, n = TAIL_BYTES): string {
  return s.length > n ? s.slice(s.length - n) : s;
}

/** Starts a child process with piped output (kept as a tail for error messages). */
export function spawnProcess(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Spawned {
  const name = opts.name ?? cmd;
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let all = '';
  let exitedFlag = false;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out = tail(out + d);
    all = tail(all + d, TAIL_BYTES * 4);
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err = tail(err + d);
    all = tail(all + d, TAIL_BYTES * 4);
  });
  const killOnExit = (): void => {
    if (!exitedFlag && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOnExit);
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('error', (e) => {
      exitedFlag = true;
      err = tail(`${err}\nspawn error: ${e.message}`);
      all = tail(`${all}\nspawn error: ${e.message}`, TAIL_BYTES * 4);
      process.removeListener('exit', killOnExit);
      resolve(null);
    });
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      process.removeListener('exit', killOnExit);
      resolve(code ?? signal);
    });
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  if (child.pid === undefined) {
    // spawn failed synchronously (e.g. ENOENT); the 'error' event carries the reason.
    return {
      name,
      pid: -1,
      child,
      exited,
      closed,
      hasExited: () => true,
      stdoutTail: () => out,
      stderrTail: () => err,
      output: () => all,
      stop: async () => {
        await exited;
      },
    };
  }
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid,
    child,
    exited,
    closed,
    hasExited: () => exitedFlag,
    stdoutTail: () => out,
    stderrTail: () => err,
    output: () => all,
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        if (!exitedFlag) await stopPid(pid, graceMs, exited);
        await exited;
      })();
      return stopping;
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a process by PID: SIGTERM, then SIGKILL after graceMs. `exited` (when the caller owns the child)
 * is the reliable signal; without it we poll the PID.
 */
export async function stopPid(pid: number, graceMs = 3000, exited?: Promise<unknown>): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = exited ?? pollUntilDead(pid, graceMs + 2000);
  const timedOut = await Promise.race([gone.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut && isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // raced with exit
    }
    await Promise.race([gone, sleep(2000)]);
  }
}

async function pollUntilDead(pid: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  while (isAlive(pid) && Date.now() < end) await sleep(20);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function startupError(proc: Spawned, what: string): Error {
  const exitNote = proc.hasExited() ? ' (the process exited)' : '';
  return new Error(
    `${proc.name} (pid ${proc.pid}) did not become ready: ${what}${exitNote}\n--- output tail ---\n${tail(proc.output(), 2000)}`,
  );
}

/** True when something accepts TCP connections on host:port. */
export function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/** Waits until host:port accepts, failing early (with the child's output) if the child exits. */
export async function waitForPort(
  proc: Spawned,
  port: number,
  opts: { host?: string; timeoutMs?: number } = {},
): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 15_000;
  await waitUntil(
    proc,
    () => portAccepts(port, host),
    `${host}:${port} accepting within ${timeoutMs} ms`,
    timeoutMs,
  );
}

/** Waits until the child's output matches pattern. */
export async function waitForLog(proc: Spawned, pattern: RegExp | string, timeoutMs = 15_000): Promise<void> {
  const test = (s: string): boolean => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
  await waitUntil(
    proc,
    async () => test(proc.output()),
    `log line ${String(pattern)} within ${timeoutMs} ms`,
    timeoutMs,
  );
}

/** Polls check() until true; throws a readable error on timeout or when the child dies first. */
export async function waitUntil(
  proc: Spawned,
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 25,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (proc.hasExited()) {
      // the reason is in the output: wait until the pipes are drained (bounded, in case a grandchild holds them)
      await Promise.race([proc.closed, sleep(5_000)]);
      throw startupError(proc, what);
    }
    if (Date.now() > end) {
      throw startupError(proc, what);
    }
    await sleep(intervalMs);
  }
}

export interface TempDir {
  readonly path: string;
  /** Removes the directory recursively. Idempotent. */
  remove(): Promise<void>;
}

/** mkdtemp under os.tmpdir(), with an idempotent remove(). */
export async function makeTempDir(prefix = 'tidemark-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  let removed: Promise<void> | undefined;
  return {
    path,
    remove() {
      // Retried (ENOTEMPTY, EBUSY): a process that just ended may still have been writing inside.
      removed ??= rm(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      return removed;
    },
  };
}
