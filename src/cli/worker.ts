/**
 * `tidemark worker`: a worker process. It takes reconcile jobs from Redis (REDIS_URL) and serves only
 * /healthz, /readyz and /metrics; `tidemark serve` with TIDEMARK_ROLE=serve takes the webhooks.
 */

import { WORKER_HELP as HELP } from './help.js';
import type { Command } from './io.js';
import { run as serve } from './serve.js';

export const run: Command = (argv, io) => {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(HELP);
    return Promise.resolve(0);
  }
  return serve(argv, { ...io, env: { ...io.env, TIDEMARK_ROLE: 'worker' } });
};
