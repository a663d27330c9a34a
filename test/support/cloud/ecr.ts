/**
 * AWS stand-ins: one server for the container credentials endpoint (EKS Pod Identity:
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`, which hands out temporary role
 * credentials) and the ECR API's `GetAuthorizationToken` (AWS JSON 1.1 protocol, SigV4 checked against the
 * handed-out credentials; what `AWS_ENDPOINT_URL_ECR` points the SDK at); and an ECR-style registry front for a
 * real docker-registry: Basic `AWS:<password>` checked against the tokens issued, then forwarded with a token
 * the backend's token server mints.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Registry } from '../registry.js';
import { basicAuth, json, proxy, readBody, repositoryOfPath, type Served, serve } from './front.js';

export interface AwsStandIn {
  /** http://127.0.0.1:PORT — AWS_ENDPOINT_URL_ECR. */
  readonly url: string;
  /** http://127.0.0.1:PORT/creds — AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  readonly credentialsUri: string;
  /** AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  readonly podToken: string;
  readonly credentialRequests: number;
  readonly authorizationRequests: readonly {
    readonly status: number;
    readonly target: string | null;
    readonly signatureOk: boolean;
    readonly region: string | null;
  }[];
  /** Registry passwords issued (decoded from `AWS:<password>`), oldest first. */
  readonly passwords: readonly string[];
  /** Every secret handed out (role credentials and passwords), for leak checks. */
  readonly secrets: readonly string[];
  isValidPassword(password: string): boolean;
  /** Passwords issued so far stop working. */
  revoke(): void;
  /** Answer GetAuthorizationToken with AccessDeniedException (a role without ecr:GetAuthorizationToken). */
  deny: boolean;
  stop(): Promise<void>;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Verifies an AWS Signature Version 4 `Authorization` header for `body` with `secretKey`. */
function sigV4Ok(
  req: IncomingMessage,
  body: string,
  accessKeyId: string,
  secretKey: string,
): {
  ok: boolean;
  region: string | null;
} {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
      req.headers.authorization ?? '',
    );
  if (!m) return { ok: false, region: null };
  const [, akid, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (akid !== accessKeyId) return { ok: false, region: region ?? null };
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const url = new URL(req.url ?? '/', 'http://x');
  const canonical = [
    req.method,
    url.pathname,
    url.search.slice(1),
    canonicalHeaders,
    signedHeaders,
    sha256(body),
  ].join('\n');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date!), region!), service!), 'aws4_request');
  return {
    ok: createHmac('sha256', kSigning).update(toSign).digest('hex') === signature,
    region: region ?? null,
  };
}

export async function startAwsApi(
  o: { now?: () => number; registryUrl?: () => string } = {},
): Promise<AwsStandIn> {
  const now = o.now ?? Date.now;
  const podToken = `pod-${randomBytes(16).toString('hex')}`;
  const role = {
    AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    Token: randomBytes(60).toString('base64'),
  };
  const passwords = new Map<string, number>();
  const authorizationRequests: {
    status: number;
    target: string | null;
    signatureOk: boolean;
    region: string | null;
  }[] = [];
  let credentialRequests = 0;
  let deny = false;
  const served: Served = await serve(async (req, res, url) => {
    if (req.method === 'GET' && url.pathname === '/creds') {
      credentialRequests++;
      if (req.headers.authorization !== podToken) {
        json(res, 401, { message: 'bad pod token' });
        return;
      }
      json(res, 200, { ...role, Expiration: new Date(Date.now() + 6 * 3600_000).toISOString() });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/') {
      const body = await readBody(req);
      const target = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : null;
      const sig = sigV4Ok(req, body, role.AccessKeyId, role.SecretAccessKey);
      const tokenOk = req.headers['x-amz-security-token'] === role.Token;
      const record = { status: 200, target, signatureOk: sig.ok && tokenOk, region: sig.region };
      authorizationRequests.push(record);
      const h = { 'content-type': 'application/x-amz-json-1.1' };
      if (!record.signatureOk) {
        record.status = 403;
        json(
          res,
          403,
          {
            __type: 'InvalidSignatureException',
            message: 'The request signature we calculated does not match',
          },
          h,
        );
        return;
      }
      if (target !== 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken') {
        record.status = 400;
        json(res, 400, { __type: 'UnknownOperationException' }, h);
        return;
      }
      if (deny) {
        record.status = 400;
        json(
          res,
          400,
          {
            __type: 'AccessDeniedException',
            message: `User: arn:aws:sts::111122223333:assumed-role/tidemark/${role.AccessKeyId} is not authorized to perform: ecr:GetAuthorizationToken`,
          },
          h,
        );
        return;
      }
      const password = randomBytes(96).toString('base64');
      const expiresAt = now() + 12 * 3600_000;
      passwords.set(password, expiresAt);
      json(
        res,
        200,
        {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: expiresAt / 1000,
              proxyEndpoint: o.registryUrl?.() ?? 'https://111122223333.dkr.ecr.eu-central-1.amazonaws.com',
            },
          ],
        },
        h,
      );
      return;
    }
    json(res, 404, { message: 'not found' });
  });
  return {
    url: served.url,
    credentialsUri: `${served.url}/creds`,
    podToken,
    get credentialRequests() {
      return credentialRequests;
    },
    authorizationRequests,
    get passwords() {
      return [...passwords.keys()];
    },
    get secrets() {
      return [podToken, role.SecretAccessKey, role.Token, ...passwords.keys()];
    },
    isValidPassword: (p) => (passwords.get(p) ?? 0) > now(),
    revoke: () => {
      for (const k of passwords.keys()) passwords.set(k, 0);
    },
    get deny() {
      return deny;
    },
    set deny(v: boolean) {
      deny = v;
    },
    stop: () => served.stop(),
  };
}

export interface EcrRegistryStandIn {
  readonly host: string;
  readonly url: string;
  /** Status of each `/v2/*` request as the front answered or forwarded it. */
  readonly requests: readonly { readonly path: string; readonly authorized: boolean }[];
  stop(): Promise<void>;
}

/** ECR's registry side: Basic auth with `AWS:<password>` on every request, no token service. */
export async function startEcrRegistry(o: {
  registry: Registry;
  aws: AwsStandIn;
}): Promise<EcrRegistryStandIn> {
  const ts = o.registry.tokenServer;
  if (!ts) throw new Error('startEcrRegistry: the backend registry needs token auth');
  const requests: { path: string; authorized: boolean }[] = [];
  let self: Served | undefined;
  self = await serve(async (req, res, url) => {
    const creds = basicAuth(req);
    const authorized = creds?.user === 'AWS' && o.aws.isValidPassword(creds.pass);
    requests.push({ path: url.pathname, authorized });
    if (!authorized) {
      json(
        res,
        401,
        {
          errors: [
            {
              code: 'DENIED',
              message: 'Your authorization token has expired. Reauthenticate and try again.',
            },
          ],
        },
        {
          'www-authenticate': `Basic realm="${self!.url}/",service="ecr.amazonaws.com"`,
        },
      );
      return;
    }
    const repo = repositoryOfPath(url.pathname);
    const token = ts.mint('ecr-reader', repo ? [{ type: 'repository', name: repo, actions: ['pull'] }] : []);
    await proxy(req, res, o.registry.url, { authorization: `Bearer ${token}` });
  });
  return { host: self.host, url: self.url, requests, stop: () => self!.stop() };
}
