/**
 * CDEvents `artifact.published` (spec v0.4 `…published.0.2.0`, v0.5 `…published.0.3.0`), in CloudEvents
 * binary mode (`ce-type` header, the CDEvent is the body) or structured mode (`application/cloudevents+json`,
 * the CDEvent under `data`). `subject.id` is an OCI purl
 * `pkg:oci/<name>@sha256%3A<hex>?repository_url=<host/path/name>&tag=<tag>`. Other event types and non-OCI
 * purls (npm, maven, …) are acknowledged.
 */
import type { ImagePushed } from '../domain/types.js';
import { type Field, parseJsonBody } from './field.js';
import { compact, imagePushed } from './push.js';
import type { WebhookRequest } from './request.js';

const TYPE_PREFIX = 'dev.cdevents.artifact.published.';

export interface Purl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
  readonly subpath?: string;
}

function decode(part: string): string {
  return decodeURIComponent(part);
}

/** Parses a package URL (https://github.com/package-url/purl-spec). Throws on a string that is not one. */
export function parsePurl(input: string): Purl {
  if (!input.startsWith('pkg:')) throw new Error(`"${input}" is not a package URL (no "pkg:" scheme)`);
  let rest = input.slice(4).replace(/^\/+/, '');
  let subpath: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    subpath = decode(rest.slice(hash + 1));
    rest = rest.slice(0, hash);
  }
  const qualifiers: Record<string, string> = {};
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`qualifier "${pair}" has no key=value`);
      qualifiers[pair.slice(0, eq).toLowerCase()] = decode(pair.slice(eq + 1));
    }
    rest = rest.slice(0, q);
  }
  let version: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    version = decode(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').filter((s) => s !== '');
  const type = segments.shift()?.toLowerCase();
  const name = segments.pop();
  if (type === undefined || name === undefined) throw new Error(`"${input}" has no type and name`);
  const namespace = segments.length > 0 ? segments.map(decode).join('/') : undefined;
  return {
    type,
    name: decode(name),
    qualifiers,
    ...(namespace !== undefined && { namespace }),
    ...(version !== undefined && { version }),
    ...(subpath !== undefined && { subpath }),
  };
}

function fromCdEvent(cdevent: Field): ImagePushed[] {
  const subjectId = cdevent.get('subject').get('id');
  let purl: Purl;
  try {
    purl = parsePurl(subjectId.nonEmpty());
  } catch (err) {
    throw subjectId.fail(err instanceof Error ? err.message : String(err));
  }
  if (purl.type !== 'oci' && purl.type !== 'docker') return [];
  const repositoryUrl = purl.qualifiers.repository_url;
  // Without repository_url the purl-spec default for oci is unspecified; docker purls default to Docker Hub.
  const image =
    repositoryUrl ??
    (purl.type === 'docker' ? `docker.io/${purl.namespace ?? 'library'}/${purl.name}` : undefined);
  if (image === undefined)
    throw subjectId.fail('OCI purl has no repository_url qualifier, so the registry is unknown');
  const version = purl.version;
  const isDigest = version?.includes(':') === true;
  const tag = purl.qualifiers.tag ?? (purl.type === 'docker' && !isDigest ? version : undefined);
  return compact([
    imagePushed('cdevents', {
      image: image.replace(/^[a-z]+:\/\//i, ''),
      imageField: subjectId,
      tag,
      tagField: subjectId,
      digest: isDigest ? version : null,
      digestField: subjectId,
    }),
  ]);
}

export function parseCdEvents(req: WebhookRequest): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const ceType = req.headers['ce-type'];
  if (ceType !== undefined) return ceType.startsWith(TYPE_PREFIX) ? fromCdEvent(body) : [];
  const specversion = body.get('specversion');
  if (specversion.present && !body.get('context').present) {
    // Structured mode: CloudEvent attributes at the top, the CDEvent in `data`.
    if (!body.get('type').nonEmpty().startsWith(TYPE_PREFIX)) return [];
    return fromCdEvent(body.get('data'));
  }
  const type = body.get('context').get('type').nonEmpty();
  return type.startsWith(TYPE_PREFIX) ? fromCdEvent(body) : [];
}
