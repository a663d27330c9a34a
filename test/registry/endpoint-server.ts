/** A real HTTP server running the registry webhook handler, for endpoint and fuzz tests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { ImagePushed } from '../../src/core/domain/types.js';
import type { OidcClaims } from '../../src/core/events/verify.js';
import { createDeduper } from '../../src/intake/dedupe.js';
import {
  createRegistryWebhookHandler,
  type EnqueueMeta,
  type RegistryEndpointConfig,
  type WebhookOutcome,
} from '../../src/intake/registry-endpoint.js';
import { createLogger } from '../../src/observability/logger.js';
import { FIXTURE_HOST_MAP, SECRET } from './fixtures.js';

export const GAR_OIDC = {
  audience: 'https://tidemark.test/registry/gar/gar-1',
  email: 'pusher@proj.iam.gserviceaccount.com',
};
/** The fixture's placeholder JWT; the injected verifier knows only this one. */
export const GAR_TOKEN = 'TEST.GOOGLE-SIGNED.OIDC-JWT';

/** One endpoint per provider, id `<provider>-1`, all with the fixture secret. */
export function fixtureEndpoints(): RegistryEndpointConfig[] {
  return [
    { id: 'dockerhub-1', provider: 'dockerhub', secrets: [SECRET] },
    { id: 'distribution-1', provider: 'distribution', secrets: [SECRET] },
    { id: 'harbor-1', provider: 'harbor', secrets: [SECRET] },
    { id: 'quay-1', provider: 'quay', secrets: [SECRET] },
    { id: 'acr-1', provider: 'acr', secrets: [SECRET] },
    { id: 'gar-1', provider: 'gar', secrets: [], auth: { oidc: GAR_OIDC } },
    { id: 'ecr-1', provider: 'ecr', secrets: [SECRET] },
    { id: 'jfrog-1', provider: 'jfrog', secrets: [SECRET] },
    { id: 'nexus-1', provider: 'nexus', secrets: [SECRET], hostMap: FIXTURE_HOST_MAP },
    { id: 'github-1', provider: 'github', secrets: [SECRET] },
    { id: 'gitea-1', provider: 'gitea', secrets: [SECRET] },
    { id: 'cdevents-1', provider: 'cdevents', secrets: [SECRET] },
  ];
}

export interface EndpointServer {
  readonly url: string;
  readonly enqueued: { events: ImagePushed[]; meta: EnqueueMeta }[];
  readonly outcomes: { provider: string; outcome: WebhookOutcome }[];
  readonly logLines: () => Record<string, unknown>[];
  readonly clock: { now: number };
  /** Make the next enqueue calls fail (simulates a Redis outage). */
  failEnqueue: boolean;
  close(): Promise<void>;
}

export async function startEndpointServer(
  endpoints: RegistryEndpointConfig[] = fixtureEndpoints(),
): Promise<EndpointServer> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const clock = { now: 1_000_000 };
  const state = {
    enqueued: [] as EndpointServer['enqueued'],
    outcomes: [] as EndpointServer['outcomes'],
    failEnqueue: false,
  };
  const handler = createRegistryWebhookHandler({
    endpoints: (id) => endpoints.find((e) => e.id === id),
    enqueue: async (events, meta) => {
      if (state.failEnqueue) throw new Error('queue unavailable');
      state.enqueued.push({ events, meta });
    },
    log: createLogger({ level: 'debug', destination }),
    dedupe: createDeduper({ windowMs: 60_000, now: () => clock.now, maxEntries: 1000 }),
    verifyOidcToken: async (token): Promise<OidcClaims> => {
      if (token !== GAR_TOKEN) throw new Error('invalid signature');
      return {
        iss: 'https://accounts.google.com',
        aud: GAR_OIDC.audience,
        email: GAR_OIDC.email,
        email_verified: true,
      };
    },
    metrics: { webhook: (provider, outcome) => state.outcomes.push({ provider, outcome }) },
  });
  const server: Server = createServer((req, res) => {
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get enqueued() {
      return state.enqueued;
    },
    get outcomes() {
      return state.outcomes;
    },
    logLines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    clock,
    get failEnqueue() {
      return state.failEnqueue;
    },
    set failEnqueue(v: boolean) {
      state.failEnqueue = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The URL path of a fixture's provider endpoint; URL-token providers get the token appended. */
export function endpointPath(provider: string, token?: string): string {
  return `/registry/${provider}/${provider}-1${token === undefined ? '' : `/${encodeURIComponent(token)}`}`;
}

export const PATH_TOKEN_PROVIDERS = new Set(['dockerhub', 'quay', 'cdevents']);
