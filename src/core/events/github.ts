/**
 * GHCR through the GitHub App's `registry_package` and `package` events (actions `published`, `updated`).
 * Image = `ghcr.io/<owner.login>/<name>` lower-cased (GHCR keeps the owner's case; `name` may contain `/`).
 * Untagged versions (multi-arch children, attestations) have an empty tag and are dropped, as are other
 * package ecosystems. `ping` and every other event are acknowledged.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imagePushed } from './push.js';
import type { WebhookRequest } from './request.js';

const EVENTS = ['registry_package', 'package'] as const;

export function parseGitHub(req: WebhookRequest): ImagePushed[] {
  const event = req.headers['x-github-event'];
  if (event !== undefined && !(EVENTS as readonly string[]).includes(event)) return [];
  const body = parseJsonBody(req.body);
  // Without the header (a replayed body), the payload key tells the event.
  const key = event ?? EVENTS.find((k) => body.get(k).present);
  if (key === undefined) throw body.fail('expected a registry_package or package event');
  const action = body.get('action').nonEmpty();
  if (action !== 'published' && action !== 'updated') return [];
  const pkg = body.get(key);
  const packageType = pkg.get('package_type').nonEmpty();
  if (packageType.toLowerCase() !== 'container') return [];
  const version = pkg.get('package_version');
  const tagObj = version.get('container_metadata').get('tag');
  if (!tagObj.present) return [];
  const tag = tagObj.get('name');
  const digest = tagObj.get('digest');
  const name = pkg.get('name');
  const owner = pkg.get('owner').get('login');
  return compact([
    imagePushed('github', {
      image: `ghcr.io/${owner.nonEmpty()}/${name.nonEmpty()}`.toLowerCase(),
      imageField: name,
      tag: tag.optString(),
      tagField: tag,
      digest: digest.optString(),
      digestField: digest,
    }),
  ]);
}
