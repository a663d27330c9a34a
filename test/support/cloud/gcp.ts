/**
 * Google Cloud stand-ins: a GCE/GKE metadata server (what `GCE_METADATA_HOST` points the SDK at) that hands
 * the default service account's access tokens (`ya29.`-shaped, expiry on the given clock) only to requests
 * carrying `Metadata-Flavor: Google`; and an Artifact Registry front for a real docker-registry with token auth,
 * whose `/v2/token` takes the access token as the password of `oauth2accesstoken`.
 */
import { randomBytes } from 'node:crypto';
import type { Registry } from '../registry.js';
import { basicAuth, json, proxy, requestedScopes, type Served, serve } from './front.js';

export interface MetadataStandIn {
  /** 127.0.0.1:PORT — the value of GCE_METADATA_HOST. */
  readonly host: string;
  /** Access tokens issued, oldest first. */
  readonly issued: readonly string[];
  readonly paths: readonly string[];
  isValid(token: string): boolean;
  /** Tokens issued so far stop working. */
  revoke(): void;
  /** Answer token requests with 404 (a node without a service account). */
  refuse: boolean;
  stop(): Promise<void>;
}

export async function startMetadataServer(
  o: { ttlSeconds?: number; now?: () => number } = {},
): Promise<MetadataStandIn> {
  const now = o.now ?? Date.now;
  const issued = new Map<string, number>();
  const paths: string[] = [];
  let refuse = false;
  const flavor = { 'metadata-flavor': 'Google' };
  const served = await serve((req, res, url) => {
    paths.push(url.pathname);
    if (req.headers['metadata-flavor'] !== 'Google') {
      json(res, 403, { error: 'missing Metadata-Flavor: Google' }, flavor);
      return;
    }
    const p = url.pathname.replace(/\/+$/, '');
    if (p === '/computeMetadata/v1/instance') {
      res.writeHead(200, { 'content-type': 'text/plain', ...flavor }).end('attributes/\nservice-accounts/\n');
      return;
    }
    if (p === '/computeMetadata/v1/universe/universe-domain') {
      res.writeHead(200, { 'content-type': 'text/plain', ...flavor }).end('googleapis.com');
      return;
    }
    if (p === '/computeMetadata/v1/instance/service-accounts/default/token' && !refuse) {
      const ttl = o.ttlSeconds ?? 3599;
      const token = `ya29.c.${randomBytes(48).toString('base64url')}`;
      issued.set(token, now() + ttl * 1000);
      json(res, 200, { access_token: token, expires_in: ttl, token_type: 'Bearer' }, flavor);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain', ...flavor }).end('not found');
  });
  return {
    host: served.host,
    get issued() {
      return [...issued.keys()];
    },
    paths,
    isValid: (t) => (issued.get(t) ?? 0) > now(),
    revoke: () => {
      for (const k of issued.keys()) issued.set(k, 0);
    },
    get refuse() {
      return refuse;
    },
    set refuse(v: boolean) {
      refuse = v;
    },
    stop: () => served.stop(),
  };
}

export interface GarStandIn {
  readonly host: string;
  readonly url: string;
  readonly tokenRequests: readonly { readonly status: number; readonly user: string | null }[];
  stop(): Promise<void>;
}

export async function startGar(o: { registry: Registry; metadata: MetadataStandIn }): Promise<GarStandIn> {
  const ts = o.registry.tokenServer;
  if (!ts) throw new Error('startGar: the backend registry needs token auth');
  const tokenRequests: { status: number; user: string | null }[] = [];
  let self: Served | undefined;
  self = await serve(async (req, res, url) => {
    if (url.pathname === '/v2/token') {
      const creds = basicAuth(req);
      const record = { status: 200, user: creds?.user ?? null };
      tokenRequests.push(record);
      if (creds?.user !== 'oauth2accesstoken' || !o.metadata.isValid(creds.pass)) {
        record.status = 401;
        json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'not authenticated' }] });
        return;
      }
      const granted = requestedScopes(url).map((s) => ({
        ...s,
        actions: s.actions.filter((a) => a === 'pull'),
      }));
      const token = ts.mint('gar-reader', granted);
      json(res, 200, { token, expires_in: 300 });
      return;
    }
    if (url.pathname.startsWith('/v2/')) {
      await proxy(req, res, o.registry.url, {
        challenge: (h) =>
          h
            .replace(/realm="[^"]*"/, `realm="${self!.url}/v2/token"`)
            .replace(/service="[^"]*"/, `service="${self!.host}"`),
      });
      return;
    }
    json(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
  });
  return { host: self.host, url: self.url, tokenRequests, stop: () => self!.stop() };
}
