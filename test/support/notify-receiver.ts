/**
 * A recording HTTP endpoint for webhook deliveries (registry notifications, GitHub webhooks).
 * Every request is kept with its headers, raw body and parsed JSON, so tests can assert on exactly what
 * arrived and wait for deliveries that come asynchronously.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from './process.js';

export interface ReceivedRequest {
  readonly method: string;
  /** Path plus query string, as sent. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** JSON.parse(rawBody), or undefined when the body is not JSON. */
  readonly json: unknown;
  readonly receivedAt: number;
}

/** One event inside a CNCF Distribution notification envelope (only the fields tests usually read). */
export interface DistributionEvent {
  id: string;
  action: string;
  target: {
    mediaType?: string;
    digest?: string;
    repository?: string;
    tag?: string;
    url?: string;
    references?: unknown[];
    [k: string]: unknown;
  };
  actor?: { name?: string };
  request?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface NotifyReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT — any path is accepted. */
  readonly url: string;
  /** `${url}/registry/events`, a conventional path for registry notifications. */
  readonly eventsUrl: string;
  readonly port: number;
  /** All requests received so far (every method, every path), oldest first. */
  readonly requests: readonly ReceivedRequest[];
  /** Registry events from every received Distribution envelope, in arrival order. */
  distributionEvents(): DistributionEvent[];
  /** Resolves with the first request (already received or future) matching predicate. */
  waitFor(predicate: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  /** Resolves once at least n requests match predicate, with those requests. */
  waitForCount(
    n: number,
    predicate?: (r: ReceivedRequest) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedRequest[]>;
  /** Status code returned to senders from now on (default 200) — e.g. 500 to exercise sender retries. */
  setStatus(code: number): void;
  clear(): void;
  /** Closes the server. Idempotent. */
  stop(): Promise<void>;
}

export async function startNotifyReceiver(opts: { status?: number } = {}): Promise<NotifyReceiver> {
  const received: ReceivedRequest[] = [];
  let status = opts.status ?? 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = rawBody === '' ? undefined : JSON.parse(rawBody);
      } catch {
        json = undefined;
      }
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        json,
        receivedAt: Date.now(),
      });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'error');
    });
  });
  // Keep-alive sockets from senders would otherwise hold close() open.
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  const waitForCount = async (
    n: number,
    predicate: (r: ReceivedRequest) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ReceivedRequest[]> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hits = received.filter(predicate);
      if (hits.length >= n) return hits;
      if (Date.now() > end) {
        const seen = received.map((r) => `${r.method} ${r.path} ${r.rawBody.slice(0, 300)}`).join('\n');
        throw new Error(
          `notify receiver: wanted ${n} matching request(s) within ${timeoutMs} ms, got ${hits.length}. ` +
            `All ${received.length} received:\n${seen}`,
        );
      }
      await sleep(20);
    }
  };

  return {
    url,
    eventsUrl: `${url}/registry/events`,
    port,
    get requests() {
      return received;
    },
    distributionEvents() {
      return received.flatMap((r) => {
        const events = (r.json as { events?: unknown } | undefined)?.events;
        return Array.isArray(events) ? (events as DistributionEvent[]) : [];
      });
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      const [first] = await waitForCount(1, predicate, timeoutMs);
      return first!;
    },
    waitForCount,
    setStatus(code) {
      status = code;
    },
    clear() {
      received.length = 0;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
