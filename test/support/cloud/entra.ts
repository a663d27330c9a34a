/**
 * A Microsoft Entra ID stand-in over HTTPS (the SDK refuses a plain-HTTP authority): the tenant's OpenID
 * discovery document and its v2.0 token endpoint, answering the client-credentials grant with a federated
 * client assertion (what `WorkloadIdentityCredential` sends: the Kubernetes service-account token from
 * `AZURE_FEDERATED_TOKEN_FILE`). Access tokens are JWT-shaped and remembered, so the ACR stand-in can check
 * them; `refuse` makes it answer like a tenant with no federated credential for the workload.
 */
import { jwtShaped, readBody, type Served, selfSignedCert, serve } from './front.js';

export interface EntraTokenRequest {
  readonly clientId: string | null;
  readonly grantType: string | null;
  readonly scope: string | null;
  readonly assertionType: string | null;
  /** The client assertion was the expected federated token. */
  readonly assertionOk: boolean;
  readonly status: number;
}

export interface EntraStandIn {
  /** https://127.0.0.1:PORT — the value of AZURE_AUTHORITY_HOST. */
  readonly url: string;
  /** PEM of the self-signed certificate, to trust through the SDK's `tlsOptions.ca`. */
  readonly ca: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly tokenRequests: readonly EntraTokenRequest[];
  /** Every access token issued, oldest first. */
  readonly issued: readonly string[];
  /** Paths asked for, in order (discovery included). */
  readonly paths: readonly string[];
  isValid(token: string): boolean;
  /** Answer token requests with 400 invalid_client (AADSTS70021: no matching federated identity record). */
  refuse: boolean;
  stop(): Promise<void>;
}

export async function startEntra(o: {
  dir: string;
  tenantId: string;
  clientId: string;
  /** The federated token the workload presents (the content of AZURE_FEDERATED_TOKEN_FILE). */
  assertion: string;
  ttlSeconds?: number;
  now?: () => number;
}): Promise<EntraStandIn> {
  const now = o.now ?? Date.now;
  const tls = await selfSignedCert(o.dir);
  const tokenRequests: EntraTokenRequest[] = [];
  const issued = new Map<string, number>();
  const paths: string[] = [];
  let refuse = false;
  let base = '';
  const served: Served = await serve(async (req, res, url) => {
    paths.push(`${req.method} ${url.pathname}`);
    const [, tenant, ...rest] = url.pathname.split('/');
    const tail = rest.join('/');
    if (req.method === 'GET' && tail === 'v2.0/.well-known/openid-configuration') {
      const t = `${base}/${tenant}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          token_endpoint: `${t}/oauth2/v2.0/token`,
          authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
          device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
          end_session_endpoint: `${t}/oauth2/v2.0/logout`,
          jwks_uri: `${t}/discovery/v2.0/keys`,
          issuer: `${t}/v2.0`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          token_endpoint_auth_methods_supported: [
            'client_secret_post',
            'private_key_jwt',
            'client_secret_basic',
          ],
          tenant_region_scope: 'EU',
          cloud_instance_name: 'microsoftonline.com',
        }),
      );
      return;
    }
    if (req.method === 'POST' && tail === 'oauth2/v2.0/token' && tenant === o.tenantId) {
      const form = new URLSearchParams(await readBody(req));
      const record = {
        clientId: form.get('client_id'),
        grantType: form.get('grant_type'),
        scope: form.get('scope'),
        assertionType: form.get('client_assertion_type'),
        assertionOk: form.get('client_assertion') === o.assertion,
        status: 200,
      };
      tokenRequests.push(record);
      if (
        refuse ||
        !record.assertionOk ||
        record.clientId !== o.clientId ||
        record.grantType !== 'client_credentials'
      ) {
        record.status = 400;
        res.writeHead(400, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: 'invalid_client',
            error_description:
              'AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: 0 Correlation ID: 0 Timestamp: 2026-01-01 00:00:00Z',
            error_codes: [70021],
          }),
        );
        return;
      }
      const ttl = o.ttlSeconds ?? 3600;
      const token = jwtShaped({
        aud: 'https://management.azure.com',
        iss: `${base}/${o.tenantId}/v2.0`,
        tid: o.tenantId,
        appid: o.clientId,
        exp: Math.floor(now() / 1000) + ttl,
      });
      issued.set(token, now() + ttl * 1000);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: token }),
        );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found' }));
  }, tls);
  base = served.url;
  return {
    url: served.url,
    ca: tls.cert,
    tenantId: o.tenantId,
    clientId: o.clientId,
    tokenRequests,
    get issued() {
      return [...issued.keys()];
    },
    paths,
    isValid: (token) => (issued.get(token) ?? 0) > now(),
    get refuse() {
      return refuse;
    },
    set refuse(v: boolean) {
      refuse = v;
    },
    stop: () => served.stop(),
  };
}
