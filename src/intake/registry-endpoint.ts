/**
 * The registry webhook endpoint: `POST /registry/<provider>/<endpoint-id>[/<token>]` (or `?token=`).
 * Authenticates, parses, filters (allow-list, duplicates) and enqueues; nothing else, so it answers within
 * milliseconds. Statuses: 202 accepted, 200 ignored on purpose, 401 authentication failed, 400 malformed,
 * 404 unknown endpoint (or provider mismatch), 405 not POST, 413 over the size cap. Bad input never gets a
 * 5xx; only a failing enqueue does (so the sender retries).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ImagePushed, REGISTRY_PROVIDERS, type RegistryProvider } from '../core/domain/types.js';
import { MalformedWebhookError, parseWebhook } from '../core/events/index.js';
import { type EndpointAuth, type OidcTokenVerifier, verifyWebhook } from '../core/events/verify.js';
import type { Logger } from '../observability/logger.js';
import type { Deduper } from './dedupe.js';
import { readBody } from './read-body.js';

export interface RegistryEndpointConfig {
  readonly id: string;
  readonly provider: RegistryProvider;
  /** Valid secrets (two during a rotation): URL token, HMAC key or static header value, per provider. */
  readonly secrets: readonly string[];
  /** Provider-specific options: header name (ACR, Distribution, ECR), JFrog signing, GAR OIDC audience+email. */
  readonly auth?: Omit<EndpointAuth, 'secrets'>;
  /**
   * Canonical image prefixes this endpoint may report (`ghcr.io/acme/`, `docker.io/acme/web`). A prefix that
   * ends in `/` matches anything below it; otherwise the image itself or anything below it. Unset: all.
   */
  readonly allowedImages?: readonly string[];
  /** See `ParseOptions.hostMap`: Nexus repository → host, JFrog repo key → prefix, payload host → public host. */
  readonly hostMap?: Readonly<Record<string, string>>;
}

export type WebhookOutcome =
  | 'accepted'
  | 'ignored'
  | 'duplicate'
  | 'not_allowed'
  | 'unauthorized'
  | 'malformed'
  | 'too_large'
  | 'not_found'
  | 'method_not_allowed'
  | 'enqueue_failed';

export interface EnqueueMeta {
  readonly endpointId: string;
  readonly provider: RegistryProvider;
  readonly deliveryId?: string;
}

export interface RegistryWebhookDeps {
  readonly endpoints: (id: string) => RegistryEndpointConfig | undefined;
  readonly enqueue: (events: ImagePushed[], meta: EnqueueMeta) => Promise<void>;
  readonly log: Logger;
  readonly dedupe?: Deduper;
  /** Needed by `gar` endpoints; see `createGoogleOidcVerifier`. */
  readonly verifyOidcToken?: OidcTokenVerifier;
  readonly metrics?: { webhook(provider: string, outcome: WebhookOutcome): void };
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
}

export const MAX_BODY_BYTES = 1024 * 1024;

const DELIVERY_HEADERS = [
  'x-github-delivery',
  'x-forgejo-delivery',
  'x-gitea-delivery',
  'x-nexus-webhook-delivery',
  'ce-id',
  'x-request-id',
];

/** Does the canonical image fall under one of the prefixes? */
export function imageAllowed(image: string, prefixes: readonly string[] | undefined): boolean {
  if (prefixes === undefined) return true;
  const name = image.toLowerCase();
  return prefixes.some((raw) => {
    const p = raw.trim().toLowerCase();
    if (p === '*') return true; // the operator accepts every image, explicitly
    if (p === '') return false;
    return p.endsWith('/') ? name.startsWith(p) : name === p || name.startsWith(`${p}/`);
  });
}

interface Route {
  readonly provider: string;
  readonly endpointId: string;
  readonly token: string | undefined;
}

function parseRoute(rawUrl: string | undefined): Route | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
  const parts = url.pathname.split('/').slice(1);
  if (parts[parts.length - 1] === '') parts.pop();
  if (parts[0] !== 'registry' || parts.length < 3 || parts.length > 4) return undefined;
  try {
    const [provider, endpointId, token] = parts.slice(1).map((p) => decodeURIComponent(p));
    if (provider === undefined || endpointId === undefined || endpointId === '') return undefined;
    return { provider, endpointId, token: token ?? url.searchParams.get('token') ?? undefined };
  } catch {
    return undefined;
  }
}

function lowerHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers))
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function isProvider(value: string): value is RegistryProvider {
  return (REGISTRY_PROVIDERS as readonly string[]).includes(value);
}

function describeIgnored(events: readonly ImagePushed[]): string {
  return events.map((e) => `${e.image}:${e.tag}`).join(', ');
}

export function createRegistryWebhookHandler(
  deps: RegistryWebhookDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;

  return async (req, res) => {
    const route = parseRoute(req.url);
    // Metric labels come from a fixed set: an unknown provider in the URL is "unknown", not a new series.
    let provider = route !== undefined && isProvider(route.provider) ? route.provider : 'unknown';
    let log = deps.log;
    const outcome = (o: WebhookOutcome): void => {
      try {
        deps.metrics?.webhook(provider, o);
      } catch {
        // Metrics must never decide a webhook's answer.
      }
    };
    // An answer before the whole body was read (413, or 404/405 before reading) closes the connection,
    // so the rest of an oversized upload is never read.
    const closeAfter = { connection: 'close' };
    const reject = (
      status: number,
      o: WebhookOutcome,
      body: unknown,
      headers: Record<string, string> = {},
    ): void => {
      outcome(o);
      const unread = !req.complete;
      send(res, status, body, unread ? { ...headers, ...closeAfter } : headers);
    };
    try {
      if (route === undefined || !isProvider(route.provider)) {
        log.debug({ url: req.url?.split('?')[0] }, 'registry webhook: no such route');
        return reject(404, 'not_found', {
          error: 'not found: expected POST /registry/<provider>/<endpoint-id>[/<token>]',
          providers: REGISTRY_PROVIDERS,
        });
      }
      if (req.method !== 'POST') {
        return reject(
          405,
          'method_not_allowed',
          { error: `method ${req.method} not allowed; use POST` },
          { allow: 'POST' },
        );
      }
      const endpoint = deps.endpoints(route.endpointId);
      // A provider mismatch answers like an unknown endpoint: the id alone must not reveal that it exists.
      if (endpoint === undefined || endpoint.provider !== route.provider) {
        log.warn(
          { provider: route.provider, endpoint: route.endpointId },
          'registry webhook: unknown endpoint',
        );
        return reject(404, 'not_found', { error: `no ${route.provider} endpoint "${route.endpointId}"` });
      }
      provider = endpoint.provider;
      const headers = lowerHeaders(req);
      const deliveryId = DELIVERY_HEADERS.map((h) => headers[h]).find((v) => v !== undefined && v !== '');
      log = deps.log.child({
        endpoint: endpoint.id,
        provider,
        ...(deliveryId !== undefined && { deliveryId }),
      });

      const read = await readBody(req, limit);
      if (read.kind === 'aborted') {
        outcome('malformed');
        log.warn({}, 'registry webhook: request aborted while reading the body');
        res.destroy();
        return;
      }
      if (read.kind === 'too_large') {
        log.warn({ limit }, 'registry webhook: body too large');
        return reject(413, 'too_large', { error: `body larger than ${limit} bytes` });
      }

      const verdict = await verifyWebhook(
        endpoint.provider,
        { headers, body: read.body, pathToken: route.token },
        { ...endpoint.auth, secrets: endpoint.secrets },
        deps.verifyOidcToken ? { verifyOidcToken: deps.verifyOidcToken } : {},
      );
      if (!verdict.ok) {
        log.warn({ reason: verdict.reason }, 'registry webhook: authentication failed');
        return reject(401, 'unauthorized', { error: 'authentication failed', reason: verdict.reason });
      }

      let events: ImagePushed[];
      try {
        events = parseWebhook(
          endpoint.provider,
          { headers, body: read.body },
          { hostMap: endpoint.hostMap ?? {} },
        );
      } catch (err) {
        const message = err instanceof MalformedWebhookError ? err.message : 'body could not be parsed';
        log.warn({ error: message }, 'registry webhook: malformed body');
        return reject(400, 'malformed', { error: message });
      }
      if (events.length === 0) {
        log.debug({}, 'registry webhook: nothing to do');
        return reject(200, 'ignored', {
          accepted: 0,
          ignored: true,
          reason: 'no tagged push in this delivery',
        });
      }

      const allowed = events.filter((e) => imageAllowed(e.image, endpoint.allowedImages));
      const refused = events.filter((e) => !allowed.includes(e));
      if (refused.length > 0) {
        log.warn(
          { images: refused.map((e) => e.image), allowedImages: endpoint.allowedImages },
          'registry webhook: images outside this endpoint’s allowedImages dropped',
        );
      }
      if (allowed.length === 0) {
        return reject(200, 'not_allowed', {
          accepted: 0,
          ignored: true,
          reason: `not in allowedImages: ${describeIgnored(refused)}`,
        });
      }

      const fresh = deps.dedupe ? deps.dedupe.claim(allowed) : allowed;
      if (fresh.length === 0) {
        log.debug({ images: describeIgnored(allowed) }, 'registry webhook: duplicate');
        return reject(200, 'duplicate', {
          accepted: 0,
          ignored: true,
          reason: `duplicate of an event seen recently: ${describeIgnored(allowed)}`,
        });
      }

      try {
        await deps.enqueue(fresh, {
          endpointId: endpoint.id,
          provider: endpoint.provider,
          ...(deliveryId !== undefined && { deliveryId }),
        });
      } catch (err) {
        deps.dedupe?.release(fresh);
        log.error({ err }, 'registry webhook: enqueue failed');
        return reject(500, 'enqueue_failed', { error: 'could not queue the events; retry later' });
      }
      // A summary, not the whole list: a delivery can carry thousands of events.
      log.info(
        {
          events: fresh.length,
          sample: fresh.slice(0, 5).map((e) => ({ image: e.image, tag: e.tag, digest: e.digest })),
        },
        'registry webhook: accepted',
      );
      outcome('accepted');
      send(res, 202, { accepted: fresh.length });
    } catch (err) {
      // Defensive: nothing above should throw; if it does, the input is what made it, so no 5xx.
      log.error({ err }, 'registry webhook: unexpected error');
      reject(400, 'malformed', { error: 'request could not be processed' });
    }
  };
}
