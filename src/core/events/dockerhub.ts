/**
 * Docker Hub: every delivery is a push. No event type, no digest, no host (always docker.io); the legacy
 * `callback_url` is never called.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imagePushed } from './push.js';
import type { WebhookRequest } from './request.js';

export function parseDockerHub(req: WebhookRequest): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const repoName = body.get('repository').get('repo_name');
  const tag = body.get('push_data').get('tag');
  const name = repoName.nonEmpty();
  // repo_name never carries a host; a value that looks like one would let a sender pick any registry.
  const image = `docker.io/${name}`;
  return compact([
    imagePushed('dockerhub', { image, imageField: repoName, tag: tag.optString(), tagField: tag }),
  ]);
}
