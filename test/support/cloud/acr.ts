/**
 * An Azure Container Registry stand-in in front of a real docker-registry with token auth: `/oauth2/exchange`
 * turns an Entra access token (checked with the Entra stand-in) into an ACR refresh token (JWT-shaped, `exp`
 * on the given clock), `/oauth2/token` turns the refresh token — sent as the password of the all-zero user,
 * like `docker login` does — into a registry token minted by the backend's token server, and `/v2/*` is the
 * backend with its challenge naming `/oauth2/token`.
 */
import type { Registry } from '../registry.js';
import type { EntraStandIn } from './entra.js';
import { basicAuth, json, jwtShaped, proxy, readBody, requestedScopes, type Served, serve } from './front.js';

const ACR_USER = '00000000-0000-0000-0000-000000000000';

export interface AcrStandIn {
  /** 127.0.0.1:PORT — the registry host images name. */
  readonly host: string;
  readonly url: string;
  /** Refresh tokens issued, oldest first. */
  readonly refreshTokens: readonly string[];
  readonly exchanges: readonly {
    readonly status: number;
    readonly service: string | null;
    readonly tenant: string | null;
  }[];
  readonly tokenRequests: readonly { readonly status: number; readonly user: string | null }[];
  /** Refresh tokens issued so far stop working (a rotated or revoked grant). */
  revokeRefreshTokens(): void;
  stop(): Promise<void>;
}

export async function startAcr(o: {
  registry: Registry;
  entra: EntraStandIn;
  refreshTtlSeconds?: number;
  now?: () => number;
}): Promise<AcrStandIn> {
  const now = o.now ?? Date.now;
  const ts = o.registry.tokenServer;
  if (!ts) throw new Error('startAcr: the backend registry needs token auth');
  const refresh = new Map<string, number>(); // token → expiry (ms)
  const exchanges: { status: number; service: string | null; tenant: string | null }[] = [];
  const tokenRequests: { status: number; user: string | null }[] = [];
  let self: Served | undefined;
  self = await serve(async (req, res, url) => {
    const host = self!.host;
    if (req.method === 'POST' && url.pathname === '/oauth2/exchange') {
      const form = new URLSearchParams(await readBody(req));
      const record = { status: 200, service: form.get('service'), tenant: form.get('tenant') };
      exchanges.push(record);
      const ok =
        form.get('grant_type') === 'access_token' &&
        form.get('service') === host &&
        o.entra.isValid(form.get('access_token') ?? '');
      if (!ok) {
        record.status = 401;
        json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
        return;
      }
      const exp = now() + (o.refreshTtlSeconds ?? 3 * 3600) * 1000;
      const token = jwtShaped({
        iss: 'Azure Container Registry',
        aud: host,
        exp: Math.floor(exp / 1000),
        grant_type: 'refresh_token',
      });
      refresh.set(token, exp);
      json(res, 200, { refresh_token: token });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/oauth2/token') {
      const creds = basicAuth(req);
      const record = { status: 200, user: creds?.user ?? null };
      tokenRequests.push(record);
      const valid = creds?.user === ACR_USER && (refresh.get(creds.pass) ?? 0) > now();
      if (!valid) {
        record.status = 401;
        json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          {
            'www-authenticate': `Bearer realm="${self!.url}/oauth2/token",service="${host}"`,
          },
        );
        return;
      }
      const granted = requestedScopes(url).map((s) => ({
        ...s,
        actions: s.actions.filter((a) => a === 'pull'),
      }));
      json(res, 200, { access_token: ts.mint('acr-pull', granted) });
      return;
    }
    if (url.pathname.startsWith('/v2/')) {
      await proxy(req, res, o.registry.url, {
        challenge: (h) =>
          h
            .replace(/realm="[^"]*"/, `realm="${self!.url}/oauth2/token"`)
            .replace(/service="[^"]*"/, `service="${host}"`),
      });
      return;
    }
    json(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
  });
  return {
    host: self.host,
    url: self.url,
    get refreshTokens() {
      return [...refresh.keys()];
    },
    exchanges,
    tokenRequests,
    revokeRefreshTokens: () => {
      for (const k of refresh.keys()) refresh.set(k, 0);
    },
    stop: () => self!.stop(),
  };
}
