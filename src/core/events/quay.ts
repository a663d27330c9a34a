/**
 * Quay / Red Hat Quay `repo_push` notifications: no event type, no digest, one event per updated tag.
 * Other notification kinds (builds, scans, mirroring) have no `updated_tags` and are acknowledged.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imagePushed } from './push.js';
import type { WebhookRequest } from './request.js';

/** Fields that mark a non-push Quay notification (build_*, vulnerability_found, repo_mirror_*). */
const OTHER_EVENT_KEYS = ['build_id', 'vulnerability', 'trigger_kind', 'message', 'build_name'];

export function parseQuay(req: WebhookRequest): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const tags = body.get('updated_tags');
  if (!tags.present) {
    if (OTHER_EVENT_KEYS.some((k) => body.get(k).present)) return [];
    throw tags.fail('expected an array of tags (is this a "Push to Repository" notification?)');
  }
  const dockerUrl = body.get('docker_url');
  const image = dockerUrl.nonEmpty();
  return compact(
    tags
      .array()
      .map((tag) => imagePushed('quay', { image, imageField: dockerUrl, tag: tag.string(), tagField: tag })),
  );
}
