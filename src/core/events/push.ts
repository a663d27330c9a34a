/**
 * Building an `ImagePushed` from provider fields, with the rules every provider shares: canonical image
 * names, and no event for an empty tag, a tag that is a digest, or a cosign/referrer tag.
 */
import {
  canonicalImageName,
  DIGEST_RE,
  DOCKER_HUB_ALIASES,
  isArtifactTag,
  parseImageRef,
  TAG_RE,
} from '../domain/image-ref.js';
import type { ImagePushed, RegistryProvider } from '../domain/types.js';
import type { Field } from './field.js';

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
/** A registry host: DNS name or bracketed IPv6 address, optional port. */
const HOST_RE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::\\d{1,5})?$`, 'i');

/** The canonical name of a bare image reference (no tag, no digest), or a failure at `field`. */
export function canonicalImage(name: string, field: Field): string {
  let ref: ReturnType<typeof parseImageRef>;
  try {
    ref = parseImageRef(name);
  } catch (err) {
    throw field.fail(err instanceof Error ? err.message : String(err));
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw field.fail(`expected an image name without tag or digest, got "${name}"`);
  }
  if (!HOST_RE.test(ref.registry)) throw field.fail(`"${ref.registry}" is not a registry host`);
  return canonicalImageName(ref);
}

/**
 * The canonical name of `repository` on `host`, where the host is known to be one (payload field or
 * configuration). The host is validated on its own, so a repository can never smuggle in another host.
 */
export function imageAt(host: string, hostField: Field, repository: string, repoField: Field): string {
  if (!HOST_RE.test(host)) throw hostField.fail(`"${host}" is not a registry host`);
  if (!/[.:]/.test(host) && host !== 'localhost') {
    // In an image reference a dot-less first component is a Docker Hub namespace, so `registry/app` would
    // name a different image than the one pushed.
    throw hostField.fail(
      `host "${host}" has no dot or port, so image references cannot name it; map it with hostMap`,
    );
  }
  const lower = host.toLowerCase();
  const registry = DOCKER_HUB_ALIASES.has(lower) ? 'docker.io' : lower;
  // Parse under a placeholder host to reuse the repository path validation.
  const repo = canonicalImage(`registry.invalid/${repository}`, repoField).slice('registry.invalid/'.length);
  const path = registry === 'docker.io' && !repo.includes('/') ? `library/${repo}` : repo;
  return `${registry}/${path}`;
}

/** True when the tag names no deployable version: empty, a digest, or a cosign/referrer artefact. */
export function isIgnorableTag(tag: string | undefined): boolean {
  if (tag === undefined || tag.trim() === '') return true;
  return isArtifactTag(tag) || DIGEST_RE.test(tag);
}

export function checkDigest(digest: string | undefined | null, field: Field): string | null {
  if (digest === undefined || digest === null || digest === '') return null;
  if (!DIGEST_RE.test(digest)) throw field.fail(`"${digest}" is not a digest (expected algorithm:hex)`);
  return digest;
}

export interface PushFields {
  /** A bare image reference (`host/repo`), or an already canonical name when `canonical` is set. */
  readonly image: string;
  readonly canonical?: boolean;
  readonly imageField: Field;
  readonly tag: string | undefined;
  readonly tagField: Field;
  readonly digest?: string | null | undefined;
  readonly digestField?: Field;
}

/** One push event, or null when the tag is not one to act on. */
export function imagePushed(provider: RegistryProvider, f: PushFields): ImagePushed | null {
  if (isIgnorableTag(f.tag)) return null;
  const tag = f.tag as string;
  if (!TAG_RE.test(tag)) throw f.tagField.fail(`"${tag}" is not a valid tag`);
  const digest = checkDigest(f.digest, f.digestField ?? f.tagField);
  return { image: f.canonical ? f.image : canonicalImage(f.image, f.imageField), tag, digest, provider };
}

/** Keeps the non-null events. */
export function compact(events: readonly (ImagePushed | null)[]): ImagePushed[] {
  return events.filter((e): e is ImagePushed => e !== null);
}
