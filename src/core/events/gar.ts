/**
 * Google Artifact Registry / Container Registry through a Pub/Sub push subscription. The envelope is
 * `{message: {data: <base64>}, subscription}`; with "payload unwrapping" on, the body is the decoded
 * message itself. Decoded: `{action: INSERT|DELETE, digest: "<full ref>@sha256:…", tag: "<full ref>:<tag>"}`.
 * Only an INSERT with a tag counts (an untagged upload is INSERT with a digest only).
 */
import { parseImageRef } from '../domain/image-ref.js';
import type { ImagePushed } from '../domain/types.js';
import { type Field, parseJsonBody } from './field.js';
import { canonicalImage, compact, imagePushed } from './push.js';
import type { WebhookRequest } from './request.js';

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeData(data: Field): Field {
  const text = data.nonEmpty().replace(/\s+/g, '');
  if (!BASE64_RE.test(text)) throw data.fail('expected base64');
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return parseJsonBody(decoded, data.path);
  } catch (err) {
    throw data.fail(
      `decoded data ${err instanceof Error ? err.message.replace(/^[^:]*: /, '') : String(err)}`,
    );
  }
}

function parseMessage(msg: Field): ImagePushed[] {
  const action = msg.get('action').nonEmpty();
  if (action !== 'INSERT') return [];
  const tagField = msg.get('tag');
  const full = tagField.optString();
  if (full === undefined || full === '') return [];
  let ref: ReturnType<typeof parseImageRef>;
  try {
    ref = parseImageRef(full);
  } catch (err) {
    throw tagField.fail(err instanceof Error ? err.message : String(err));
  }
  if (ref.tag === undefined) throw tagField.fail(`expected a full reference with a tag, got "${full}"`);
  const digestField = msg.get('digest');
  const digestRef = digestField.optString();
  let digest: string | undefined;
  if (digestRef !== undefined && digestRef !== '') {
    const at = digestRef.indexOf('@');
    if (at < 0) throw digestField.fail(`expected "<image>@<digest>", got "${digestRef}"`);
    digest = digestRef.slice(at + 1);
    const digestImage = canonicalImage(digestRef.slice(0, at), digestField);
    if (digestImage !== `${ref.registry}/${ref.repository}`) {
      throw digestField.fail(`names image ${digestImage} but tag names ${ref.registry}/${ref.repository}`);
    }
  }
  return compact([
    imagePushed('gar', {
      image: `${ref.registry}/${ref.repository}`,
      imageField: tagField,
      tag: ref.tag,
      tagField,
      digest,
      digestField,
    }),
  ]);
}

export function parseGar(req: WebhookRequest): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const message = body.get('message');
  if (message.present) return parseMessage(decodeData(message.get('data')));
  // Payload unwrapping: the body is the Artifact Registry message.
  if (body.get('action').present) return parseMessage(body);
  throw message.fail(
    'expected a Pub/Sub push envelope {message: {data}} or an unwrapped message {action, tag}',
  );
}
