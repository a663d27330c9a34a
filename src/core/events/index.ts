/**
 * Registry push webhooks → normalised `ImagePushed` hints. Pure: no I/O, no clock. The provider comes from
 * the endpoint the request arrived at, never from the request, so one sender cannot pose as another (Gitea,
 * for example, also sends `X-GitHub-Event`).
 *
 * An empty result means "acknowledge and do nothing": pulls, deletes, scans, pings, untagged or digest-only
 * pushes, cosign/referrer tags, charts and non-container packages. A body that is not what the provider sends
 * throws `MalformedWebhookError`.
 */
import type { ImagePushed, RegistryProvider } from '../domain/types.js';
import { parseAcr } from './acr.js';
import { parseCdEvents } from './cdevents.js';
import { parseDistribution } from './distribution.js';
import { parseDockerHub } from './dockerhub.js';
import { parseEcr } from './ecr.js';
import { MalformedWebhookError } from './errors.js';
import { parseGar } from './gar.js';
import { parseGitea } from './gitea.js';
import { parseGitHub } from './github.js';
import { parseHarbor } from './harbor.js';
import { parseJfrog } from './jfrog.js';
import { parseNexus } from './nexus.js';
import { parseQuay } from './quay.js';
import type { ParseOptions, WebhookRequest } from './request.js';

export { type Purl, parsePurl } from './cdevents.js';
export { MalformedWebhookError } from './errors.js';
export type { ParseOptions, WebhookRequest } from './request.js';

type Parser = (req: WebhookRequest, opts: ParseOptions) => ImagePushed[];

const PARSERS: Readonly<Record<RegistryProvider, Parser>> = {
  dockerhub: parseDockerHub,
  distribution: parseDistribution,
  harbor: parseHarbor,
  quay: parseQuay,
  acr: parseAcr,
  gar: parseGar,
  ecr: parseEcr,
  jfrog: parseJfrog,
  nexus: parseNexus,
  github: parseGitHub,
  gitea: parseGitea,
  cdevents: parseCdEvents,
};

/** Header names lower-cased, so parsers can read `x-github-event` whatever case the caller used. */
function lowerCaseHeaders(headers: WebhookRequest['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

export function parseWebhook(
  provider: RegistryProvider,
  req: WebhookRequest,
  opts: ParseOptions = {},
): ImagePushed[] {
  const parser = Object.hasOwn(PARSERS, provider) ? PARSERS[provider] : undefined;
  if (parser === undefined)
    throw new MalformedWebhookError(`unknown registry provider "${String(provider)}"`);
  try {
    return parser({ headers: lowerCaseHeaders(req.headers), body: req.body }, opts);
  } catch (err) {
    if (err instanceof MalformedWebhookError) throw err;
    // A parser bug on odd input must still surface as "malformed", never as a crash of the endpoint.
    throw new MalformedWebhookError(
      `could not be parsed (${err instanceof Error ? err.message : String(err)})`,
      'body',
    );
  }
}
