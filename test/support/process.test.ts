import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNotifyReceiver } from './notify-receiver.js';
import { freePort } from './ports.js';
import { makeTempDir, portAccepts, spawnProcess, stopPid, waitForLog, waitForPort } from './process.js';

const node = process.execPath;

describe('freePort', () => {
  it('returns distinct ports that can be bound on 127.0.0.1', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const p of ports) expect(p).toBeGreaterThan(1023);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', () => resolve());
    });
    expect(await portAccepts(ports[0]!)).toBe(true);
    await new Promise((r) => srv.close(r));
  });
});

describe('spawnProcess', () => {
  it('waits for a log line and stops with SIGTERM', async () => {
    const p = spawnProcess(node, ['-e', 'console.log("ready now"); setInterval(() => {}, 1000)']);
    await waitForLog(p, /ready now/, 5000);
    await p.stop();
    expect(p.hasExited()).toBe(true);
    expect(await p.exited).toBe('SIGTERM');
  });

  it('waits for a port to accept', async () => {
    const port = await freePort();
    const p = spawnProcess(node, [
      '-e',
      `setTimeout(() => require('net').createServer().listen(${port}, '127.0.0.1'), 200)`,
    ]);
    try {
      await waitForPort(p, port, { timeoutMs: 5000 });
      expect(await portAccepts(port)).toBe(true);
    } finally {
      await p.stop();
    }
  });

  it('fails fast with the stderr tail when the child exits before it is ready', async () => {
    const p = spawnProcess(node, ['-e', 'console.error("boom: bad config line 3"); process.exit(3)'], {
      name: 'fake-server',
    });
    await expect(waitForLog(p, 'never', 5000)).rejects.toThrow(
      /fake-server .*exited[\s\S]*boom: bad config line 3/,
    );
    expect(await p.exited).toBe(3);
  });

  it('times out with a clear error', async () => {
    const p = spawnProcess(node, ['-e', 'console.error("still starting"); setInterval(() => {}, 1000)']);
    try {
      // First the output exists; then the timeout's message must carry it (the wait's length decides nothing).
      await waitForLog(p, 'still starting', 30_000);
      await expect(waitForLog(p, 'never', 100)).rejects.toThrow(/did not become ready[\s\S]*still starting/);
    } finally {
      await p.stop();
    }
  });

  it('escalates to SIGKILL when SIGTERM is ignored; stop is idempotent', async () => {
    const p = spawnProcess(node, [
      '-e',
      'process.on("SIGTERM", () => console.log("ignoring TERM")); console.log("up"); setInterval(() => {}, 1000)',
    ]);
    await waitForLog(p, 'up', 30_000);
    await Promise.all([p.stop(300), p.stop(300)]);
    expect(await p.exited).toBe('SIGKILL');
    // Ended by SIGKILL although SIGTERM came first: the child ignores SIGTERM, so stop() escalated.
    await p.stop();
  });

  it('reports a missing binary as an error, not a hang', async () => {
    const p = spawnProcess('/nonexistent/binary-xyz', []);
    await expect(waitForLog(p, 'x', 2000)).rejects.toThrow(/ENOENT/);
  });

  it('stopPid on a dead pid is a no-op', async () => {
    const p = spawnProcess(node, ['-e', '0']);
    await p.exited;
    await expect(stopPid(p.pid)).resolves.toBeUndefined();
  });
});

describe('makeTempDir', () => {
  it('creates a directory and removes it idempotently', async () => {
    const d = await makeTempDir();
    await writeFile(join(d.path, 'f'), 'x');
    expect(existsSync(d.path)).toBe(true);
    await Promise.all([d.remove(), d.remove()]);
    expect(existsSync(d.path)).toBe(false);
  });
});

describe('notify receiver', () => {
  it('records method, path, headers and parsed JSON, and answers with the configured status', async () => {
    const rx = await startNotifyReceiver();
    try {
      const ok = await fetch(`${rx.url}/hook?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test': 'yes' },
        body: '{"a":1}',
      });
      expect(ok.status).toBe(200);
      rx.setStatus(503);
      const bad = await fetch(rx.eventsUrl, { method: 'POST', body: 'not json' });
      expect(bad.status).toBe(503);
      const [first, second] = await rx.waitForCount(2);
      expect(first).toMatchObject({ method: 'POST', path: '/hook?x=1', rawBody: '{"a":1}', json: { a: 1 } });
      expect(first?.headers['x-test']).toBe('yes');
      expect(second).toMatchObject({ path: '/registry/events', rawBody: 'not json', json: undefined });
      await expect(rx.waitFor((r) => r.path === '/never', 200)).rejects.toThrow(
        /wanted 1 matching[\s\S]*\/hook/,
      );
      rx.clear();
      expect(rx.requests).toHaveLength(0);
    } finally {
      await rx.stop();
      await rx.stop();
    }
  });
});
