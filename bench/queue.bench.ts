/**
 * 1,000 registry events across 100 repos, two worker processes, on one Redis and on a three-node Redis
 * Cluster (BullMQ; on the cluster the queue's keys share one hash slot, so one node serves the queue). The
 * handler simulates a reconcile (20–60 ms) and records each run; the figures are runs produced after
 * coalescing, total time until every event was handled, and the workers' peak RSS. (Simulated work: real git
 * and GitHub are measured by the e2e latency benchmark.)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRedisClient, parseRedisUrl } from '../src/queue/redis-connection.js';
import { queueProducer, startQueueWorker } from '../test/queue/workers.js';
import type { Spawned } from '../test/support/process.js';
import { startRedis } from '../test/support/redis.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import type { BenchReport } from './run.js';

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function run(report: BenchReport, label: string, url: string): Promise<void> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const log = createRedisClient(parseRedisUrl(url));
  const workers: Spawned[] = [];
  try {
    for (const i of [0, 1])
      workers.push(await startQueueWorker(url, prefix, `bench-worker-${i}`, { WORK_MS: '20-60' }));
    const q = queueProducer(url, prefix);
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      await q.enqueue({
        repoKey: `repo-${i % 100}`,
        target: `t${i % 100}`,
        reasons: [{ kind: 'registry-push', key: `e${i}` }],
      });
    }
    const enqueued = performance.now() - t0;
    for (;;) {
      const keys = new Set(
        (await log.lrange('runs', 0, -1)).flatMap((r) => (JSON.parse(r) as { keys: string[] }).keys),
      );
      if (keys.size >= 1000) break;
      if (performance.now() - t0 > 120_000)
        throw new Error(`${label}: only ${keys.size} of 1000 events handled in 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const total = performance.now() - t0;
    const runs = await log.llen('runs');
    report.figure(`${label}: events enqueued`, 1000, 'events', `${enqueued.toFixed(0)} ms to enqueue`);
    report.figure(
      `${label}: runs produced (coalesced)`,
      runs,
      'runs',
      'one run = one commit or PR update per repo at most',
    );
    report.figure(`${label}: total time, first enqueue to last event handled`, total, 'ms');
    report.figure(
      `${label}: worker peak RSS`,
      Math.max(...workers.map((w) => peakRssMb(w.pid))),
      'MB',
      'max of the two workers',
    );
    await q.close();
  } finally {
    for (const w of workers) await w.stop(1000);
    log.disconnect();
  }
}

export default async function bench(report: BenchReport): Promise<void> {
  const redis = await startRedis();
  try {
    await run(report, 'one Redis', redis.url);
  } finally {
    await redis.stop();
  }
  const cluster = await startRedisCluster();
  try {
    await run(report, 'Redis Cluster (3 masters)', cluster.url);
  } finally {
    await cluster.stop();
  }
}
