/**
 * A throwaway Redis Cluster for tests: three `redis-server` masters (no replicas) on free loopback ports,
 * no persistence, each with its own temp dir and cluster config file, joined with
 * `redis-cli --cluster create`. Ready once `CLUSTER INFO` reports `cluster_state:ok` on every node.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { makeTempDir, type Spawned, spawnProcess, type TempDir, waitForPort } from './process.js';

export interface RedisClusterServer {
  /** The masters as `127.0.0.1:PORT`. */
  readonly nodes: readonly string[];
  /** `redis-cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, as BullQueue's `redisUrl` takes it. */
  readonly url: string;
  /** PIDs of the redis-server processes. */
  readonly pids: readonly number[];
  /** Stops every node by PID and removes the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

async function spawnNode(port: number, busPort: number, dir: string): Promise<Spawned> {
  const proc = spawnProcess(
    'redis-server',
    [
      '--port',
      String(port),
      // The cluster bus defaults to port + 10000, which may be taken or past 65535: ask for a free one.
      '--cluster-port',
      String(busPort),
      '--bind',
      HOST,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { name: `redis-cluster-node:${port}`, cwd: dir },
  );
  try {
    await waitForPort(proc, port, { timeoutMs: 10_000 });
  } catch (e) {
    await proc.stop(500);
    throw e;
  }
  return proc;
}

/** Runs a command to completion; rejects with its output when it fails or outlives timeoutMs. */
function runToEnd(cmd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: no exit within ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${out}`));
    });
  });
}

async function clusterStateOk(port: number): Promise<boolean> {
  const c = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await c.connect();
    return /^cluster_state:ok\r?$/m.test(await c.cluster('INFO'));
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** Starts a three-master cluster on free ports; resolves once every node reports `cluster_state:ok`. */
export async function startRedisCluster(opts: { timeoutMs?: number } = {}): Promise<RedisClusterServer> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const procs: Spawned[] = [];
  const dirs: TempDir[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await Promise.all(dirs.map((d) => d.remove()));
    })();
    return stopped;
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = await makeTempDir('tidemark-redis-cluster-');
      dirs.push(dir);
      let proc: Spawned | undefined;
      let lastErr: unknown;
      // A free port can be taken by another test file before redis binds it: retry on fresh ports.
      for (let attempt = 0; attempt < 3 && proc === undefined; attempt++) {
        const port = await freePort();
        const busPort = await freePort();
        if (port === busPort || ports.includes(port) || ports.includes(busPort)) continue;
        try {
          proc = await spawnNode(port, busPort, dir.path);
          ports.push(port);
        } catch (e) {
          lastErr = e;
        }
      }
      if (proc === undefined) throw lastErr ?? new Error('startRedisCluster: no free port pair');
      procs.push(proc);
    }
    const nodes = ports.map((p) => `${HOST}:${p}`);
    await runToEnd(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      timeoutMs,
    );
    // `--cluster create` returns once the slots are assigned; the nodes agree on the cluster a little later.
    // Poll the state (the event we wait for) on every node, bounded by the deadline.
    const end = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(ports.map(clusterStateOk));
      if (states.every(Boolean)) break;
      const dead = procs.find((p) => p.hasExited());
      if (dead) throw new Error(`${dead.name} exited while the cluster formed\n${dead.output()}`);
      if (Date.now() > end)
        throw new Error(`redis cluster ${nodes.join(',')} not cluster_state:ok within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      nodes,
      url: `redis-cluster://${nodes.join(',')}`,
      pids: procs.map((p) => p.pid),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
