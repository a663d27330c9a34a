/**
 * Harbor, both payload formats: Default (`type: PUSH_ARTIFACT`, Harbor 1.x `pushImage`) and CloudEvents
 * (`type: harbor.artifact.pushed`, `event_data` under `data`; structured mode, binary mode tolerated).
 * An untagged artifact arrives with `tag` = its digest, and proxy-cache fills fire a push on a pull; both
 * carry a digest as the tag and are dropped.
 */
import type { ImagePushed } from '../domain/types.js';
import { type Field, parseJsonBody } from './field.js';
import { compact, imagePushed, isIgnorableTag } from './push.js';
import type { WebhookRequest } from './request.js';

const PUSH_TYPES = new Set(['PUSH_ARTIFACT', 'pushImage', 'harbor.artifact.pushed']);

/** `host/repo:tag` or `host/repo@sha256:…` → `host/repo`. */
function stripReference(url: string): string {
  const at = url.indexOf('@');
  const withoutDigest = at >= 0 ? url.slice(0, at) : url;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

function parseEventData(data: Field): ImagePushed[] {
  return compact(
    data
      .get('resources')
      .array()
      .map((resource) => {
        const tag = resource.get('tag');
        const tagValue = tag.optString();
        if (isIgnorableTag(tagValue)) return null;
        const url = resource.get('resource_url');
        const digest = resource.get('digest');
        return imagePushed('harbor', {
          image: stripReference(url.nonEmpty()),
          imageField: url,
          tag: tagValue,
          tagField: tag,
          digest: digest.optString(),
          digestField: digest,
        });
      }),
  );
}

export function parseHarbor(req: WebhookRequest): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const ceType = req.headers['ce-type'];
  if (ceType !== undefined) {
    // CloudEvents binary mode: the type is a header and the body is the event data itself.
    return PUSH_TYPES.has(ceType) ? parseEventData(body) : [];
  }
  const type = body.get('type').nonEmpty();
  if (!PUSH_TYPES.has(type)) return [];
  const isCloudEvent = body.get('specversion').present || type.startsWith('harbor.');
  return parseEventData(isCloudEvent ? body.get('data') : body.get('event_data'));
}
