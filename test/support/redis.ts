/**
 * A throwaway redis-server for tests: 127.0.0.1, a free port, its own temp dir, append-only persistence (so a
 * restart keeps the data, as in production).
 */
import { freePort } from './ports.js';
import { makeTempDir, type Spawned, spawnProcess, waitForPort } from './process.js';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** PID of the current redis-server process (changes after restart()). */
  readonly pid: number;
  /** Stops redis and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops redis and starts it again on the same port, with its data (append-only file). `whileDown` runs
   * after the old process has exited and before the new one starts: a test's view of Redis being down.
   */
  restart(opts?: { whileDown?: () => Promise<unknown> }): Promise<void>;
}

async function spawnRedis(port: number, dir: string): Promise<Spawned> {
  const proc = spawnProcess(
    'redis-server',
    // Append-only persistence, as BullMQ asks of production Redis: a restart() is a restart, not a wipe.
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir],
    { name: `redis-server:${port}`, cwd: dir },
  );
  try {
    await waitForPort(proc, port, { timeoutMs: 10_000 });
  } catch (e) {
    await proc.stop(500);
    throw e;
  }
  return proc;
}

/** Starts redis-server on a free port. Retries once on a port race with another test file. */
export async function startRedis(): Promise<RedisServer> {
  const tmp = await makeTempDir('tidemark-redis-');
  let port = 0;
  let proc: Spawned | undefined;
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && proc === undefined; attempt++) {
    port = await freePort();
    try {
      proc = await spawnRedis(port, tmp.path);
    } catch (e) {
      lastErr = e;
    }
  }
  if (proc === undefined) {
    await tmp.remove();
    throw lastErr;
  }
  let current: Spawned = proc;
  let stopped: Promise<void> | undefined;
  const host = '127.0.0.1';
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    get pid() {
      return current.pid;
    },
    stop() {
      stopped ??= (async () => {
        await current.stop();
        await tmp.remove();
      })();
      return stopped;
    },
    async restart(opts = {}) {
      if (stopped) throw new Error('startRedis: restart() after stop()');
      await current.stop();
      try {
        await opts.whileDown?.();
      } finally {
        current = await spawnRedis(port, tmp.path);
      }
    },
  };
}
