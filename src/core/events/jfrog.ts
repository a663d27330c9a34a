/**
 * JFrog Artifactory Docker-domain webhooks. Only `pushed` counts (`deleted`, `promoted` are acknowledged).
 * The image name depends on how clients reach the repository (repository path, subdomain, port, virtual
 * repository), which the payload cannot say: by default `<jpd_origin host>/<repo_key>/<image_name>`, and
 * `hostMap[repo_key]` replaces the `<host>/<repo_key>` prefix. Remote-cache repositories fire `pushed` when a
 * pull fills the cache, so `*-cache` repo keys are ignored.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imageAt, imagePushed } from './push.js';
import { lookup, type ParseOptions, type WebhookRequest } from './request.js';

export function parseJfrog(req: WebhookRequest, opts: ParseOptions): ImagePushed[] {
  const body = parseJsonBody(req.body);
  if (body.get('domain').nonEmpty() !== 'docker') return [];
  if (body.get('event_type').nonEmpty() !== 'pushed') return [];
  const data = body.get('data');
  const repoKey = data.get('repo_key');
  const repoKeyValue = repoKey.nonEmpty();
  if (repoKeyValue.endsWith('-cache')) return [];
  const tag = data.get('tag');
  const imageName = data.get('image_name');
  let prefix = lookup(opts.hostMap, repoKeyValue);
  if (prefix === undefined) {
    const origin = body.get('jpd_origin');
    let host: string;
    try {
      host = new URL(origin.nonEmpty()).host;
    } catch {
      throw origin.fail(`expected a URL, got "${String(origin.value)}"`);
    }
    prefix = `${host}/${repoKeyValue}`;
  }
  // The prefix is `host[/path]`; the host part is validated as a host, the rest joins the repository path.
  const trimmed = prefix.replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  const prefixHost = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixPath = slash < 0 ? '' : `${trimmed.slice(slash + 1)}/`;
  const sha = data.get('sha256');
  const shaValue = sha.optString();
  if (shaValue !== undefined && !/^[0-9a-f]{64}$/.test(shaValue))
    throw sha.fail('expected 64 hex characters');
  return compact([
    imagePushed('jfrog', {
      image: imageAt(prefixHost, repoKey, `${prefixPath}${imageName.nonEmpty()}`, imageName),
      canonical: true,
      imageField: imageName,
      tag: tag.optString(),
      tagField: tag,
      digest: shaValue === undefined ? null : `sha256:${shaValue}`,
      digestField: sha,
    }),
  ]);
}
