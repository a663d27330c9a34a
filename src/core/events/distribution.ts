/**
 * CNCF Distribution notifications (`…events.v1+json` / `…events.v2+json`; self-managed GitLab uses it).
 * Blobs are notified too, and a tag delete arrives as `action: "delete"` with a tag, so only a manifest
 * push by tag counts.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imageAt, imagePushed } from './push.js';
import { mapHost, type ParseOptions, type WebhookRequest } from './request.js';

export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

export function parseDistribution(req: WebhookRequest, opts: ParseOptions): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const events = body.get('events');
  if (!events.present) throw events.fail('expected an array of events');
  return compact(
    events.array().map((event) => {
      const action = event.get('action').string();
      if (action !== 'push') return null;
      const target = event.get('target');
      const mediaType = target.get('mediaType').optString();
      if (mediaType !== undefined && !MANIFEST_MEDIA_TYPES.has(mediaType)) return null;
      const tag = target.get('tag');
      const tagValue = tag.optString();
      if (tagValue === undefined || tagValue === '') return null;
      const repository = target.get('repository');
      const host = event.get('request').get('host');
      const image = imageAt(mapHost(host.nonEmpty(), opts), host, repository.nonEmpty(), repository);
      const digest = target.get('digest');
      return imagePushed('distribution', {
        image,
        canonical: true,
        imageField: repository,
        tag: tagValue,
        tagField: tag,
        digest: digest.optString(),
        digestField: digest,
      });
    }),
  );
}
