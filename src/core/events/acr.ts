/**
 * Azure Container Registry webhooks. Only `push` counts; `delete`, `chart_push`, `chart_delete`,
 * `quarantine` and `ping` are acknowledged. Digest-only pushes (multi-arch children) have an empty tag.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imageAt, imagePushed } from './push.js';
import { mapHost, type ParseOptions, type WebhookRequest } from './request.js';

export function parseAcr(req: WebhookRequest, opts: ParseOptions): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const action = body.get('action').nonEmpty();
  if (action !== 'push') return [];
  const target = body.get('target');
  const tag = target.get('tag');
  const tagValue = tag.optString();
  if (tagValue === undefined || tagValue === '') return [];
  const repository = target.get('repository');
  const host = body.get('request').get('host');
  const digest = target.get('digest');
  return compact([
    imagePushed('acr', {
      image: imageAt(mapHost(host.nonEmpty(), opts), host, repository.nonEmpty(), repository),
      canonical: true,
      imageField: repository,
      tag: tagValue,
      tagField: tag,
      digest: digest.optString(),
      digestField: digest,
    }),
  ]);
}
