import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { portAccepts } from './process.js';
import { type RedisServer, startRedis } from './redis.js';

/** Sends one inline command over a raw socket and returns the first reply line. */
function rawCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    sock.setEncoding('utf8');
    sock.once('error', reject);
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\r\n')) {
        sock.destroy();
        resolve(buf.split('\r\n')[0] ?? '');
      }
    });
    sock.once('connect', () => sock.write(`${line}\r\n`));
  });
}

describe('startRedis', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('answers PING on a raw socket and reports its own address', async () => {
    const r = await startRedis();
    servers.push(r);
    expect(r.host).toBe('127.0.0.1');
    expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
    expect(await rawCommand(r.port, 'PING')).toBe('+PONG');
    const c = new Redis(r.url);
    try {
      expect(await c.config('GET', 'save')).toEqual(['save', '']);
      expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      c.disconnect();
    }
  });

  it('runs two isolated servers side by side', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    servers.push(a, b);
    expect(a.port).not.toBe(b.port);
    const ca = new Redis(a.url, { lazyConnect: true });
    const cb = new Redis(b.url, { lazyConnect: true });
    try {
      await ca.set('k', 'a');
      expect(await cb.get('k')).toBeNull();
      expect(await ca.get('k')).toBe('a');
    } finally {
      ca.disconnect();
      cb.disconnect();
    }
  });

  it('restart() keeps the port and the data (append-only file), changes the PID', async () => {
    const r = await startRedis();
    servers.push(r);
    const client = new Redis(r.url, { maxRetriesPerRequest: null });
    try {
      await client.set('before', '1');
      const pid = r.pid;
      await r.restart();
      expect(r.pid).not.toBe(pid);
      expect(() => process.kill(pid, 0)).toThrow();
      // ioredis reconnects by itself to the same port; the append-only file brought the data back
      expect(await client.get('before')).toBe('1');
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('stop() kills the process, frees the port, and is idempotent', async () => {
    const r = await startRedis();
    const pid = r.pid;
    await Promise.all([r.stop(), r.stop()]);
    await r.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await portAccepts(r.port)).toBe(false);
  });
});
