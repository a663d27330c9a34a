/**
 * Sonatype Nexus Repository 3 component webhooks (`X-Nexus-Webhook-ID: rm:repository:component`).
 * CREATED and UPDATED (a re-pushed tag) count; DELETED, asset and global events are acknowledged. The payload
 * names no host, so `hostMap[repositoryName]` must give the registry host (connector port or subdomain).
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imageAt, imagePushed } from './push.js';
import { lookup, type ParseOptions, type WebhookRequest } from './request.js';

export function parseNexus(req: WebhookRequest, opts: ParseOptions): ImagePushed[] {
  const webhookId = req.headers['x-nexus-webhook-id'];
  if (webhookId !== undefined && webhookId !== 'rm:repository:component') return [];
  const body = parseJsonBody(req.body);
  const component = body.get('component');
  if (!component.present) {
    if (body.get('asset').present || body.get('audit').present) return [];
    throw component.fail('expected an object (is this a repository component webhook?)');
  }
  const action = body.get('action').nonEmpty();
  if (action !== 'CREATED' && action !== 'UPDATED') return [];
  if (component.get('format').nonEmpty() !== 'docker') return [];
  const repositoryName = body.get('repositoryName');
  const repo = repositoryName.nonEmpty();
  const host = lookup(opts.hostMap, repo);
  if (host === undefined) {
    throw repositoryName.fail(
      `no registry host configured for Nexus repository "${repo}" (add it to hostMap)`,
    );
  }
  const name = component.get('name');
  const version = component.get('version');
  return compact([
    imagePushed('nexus', {
      image: imageAt(host.replace(/\/+$/, ''), repositoryName, name.nonEmpty(), name),
      canonical: true,
      imageField: name,
      tag: version.optString(),
      tagField: version,
    }),
  ]);
}
