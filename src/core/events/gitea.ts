/**
 * Gitea / Forgejo `package` webhooks. Only `created` container packages count; a package version is created
 * for every manifest, including digest-only children (`version: sha256:…`), which are dropped.
 * Gitea also sends `X-GitHub-Event: package`; the provider comes from the endpoint URL, so the GitHub parser
 * never sees these, but the headers checked here are Gitea's own.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imageAt, imagePushed } from './push.js';
import { mapHost, type ParseOptions, type WebhookRequest } from './request.js';

export function parseGitea(req: WebhookRequest, opts: ParseOptions): ImagePushed[] {
  const event = req.headers['x-forgejo-event'] ?? req.headers['x-gitea-event'] ?? req.headers['x-gogs-event'];
  if (event !== undefined && event !== 'package') return [];
  const body = parseJsonBody(req.body);
  const pkg = body.get('package');
  if (!pkg.present) throw pkg.fail('expected an object (is this a package event?)');
  if (body.get('action').nonEmpty() !== 'created') return [];
  if (pkg.get('type').nonEmpty() !== 'container') return [];
  const version = pkg.get('version');
  const htmlUrl = pkg.get('html_url');
  let host: string;
  try {
    host = new URL(htmlUrl.nonEmpty()).host;
  } catch {
    throw htmlUrl.fail(`expected a URL, got "${String(htmlUrl.value)}"`);
  }
  const owner = pkg.get('owner').get('login');
  const name = pkg.get('name');
  return compact([
    imagePushed('gitea', {
      image: imageAt(
        mapHost(host, opts),
        htmlUrl,
        `${owner.nonEmpty()}/${name.nonEmpty()}`.toLowerCase(),
        name,
      ),
      canonical: true,
      imageField: name,
      tag: version.optString(),
      tagField: version,
    }),
  ]);
}
