/**
 * `npm start` as a user runs it: stopping npm (SIGTERM to its PID, as a process manager or Ctrl-C does) stops
 * tidemark too; no orphan keeps the port.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Spawned, spawnProcess, waitForLog } from '../support/process.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm start', () => {
  let p: Spawned | undefined;
  afterAll(async () => {
    await p?.stop();
  });

  it('SIGTERM to npm stops the server: the port is free once npm has exited', async () => {
    p = spawnProcess('npm', ['start', '--silent'], {
      cwd: ROOT,
      // Empty credentials win over any ./.env in the checkout: this test always gets the setup page.
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        APP_ID: '',
        PRIVATE_KEY: '',
        PRIVATE_KEY_PATH: '',
      },
      name: 'npm-start',
    });
    await waitForLog(p, /open http:\/\/localhost:\d+\/probot/, 60_000);
    const port = /open http:\/\/localhost:(\d+)\/probot/.exec(p.output())![1]!;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    p.child.kill('SIGTERM');
    await p.exited;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
