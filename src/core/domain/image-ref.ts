/**
 * Image references: parse, canonicalise and format.
 *
 * A canonical image name is lower-cased, carries an explicit registry host, and folds Docker Hub's
 * aliases: `nginx` → `docker.io/library/nginx`, `index.docker.io/acme/web` → `docker.io/acme/web`.
 */
import { AppError } from '../errors.js';

export interface ImageRef {
  /** Registry host, with port when given (`ghcr.io`, `127.0.0.1:5000`, `docker.io`). */
  readonly registry: string;
  /** Repository path inside the registry (`library/nginx`, `acme/web`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** An image reference that does not parse: never retried. */
export class ImageRefError extends AppError {
  readonly code = 'image_ref_invalid';
  readonly retryable = false;
}

const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);
export const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
export const TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

function looksLikeHost(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost' || part !== part.toLowerCase();
}

/**
 * Parse `[registry/]repository[:tag][@digest]`. A scheme (`https://`) and trailing `:` (GHCR `package_url`
 * of untagged versions) are stripped. Repository paths are lower-cased.
 */
export function parseImageRef(input: string): ImageRef {
  let rest = input.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (rest === '') throw new ImageRefError(`empty image reference "${input}"`);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new ImageRefError(`invalid digest "${digest}" in "${input}"`);
  }
  if (rest.endsWith(':')) rest = rest.slice(0, -1);
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ImageRefError(`invalid tag "${tag}" in "${input}"`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && looksLikeHost(parts[0]!)) {
    registry = parts.shift()!.toLowerCase();
  }
  if (DOCKER_HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/').toLowerCase();
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw new ImageRefError(`invalid repository path "${repository}" in "${input}"`);
    }
  }
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** `registry/repository[:tag][@digest]`, always with the registry host. */
export function formatImageRef(ref: ImageRef): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** The canonical name without tag or digest: `docker.io/library/nginx`. */
export function canonicalImageName(input: string | ImageRef): string {
  const ref = typeof input === 'string' ? parseImageRef(input) : input;
  return `${ref.registry}/${ref.repository}`;
}

/** True for a tag that is really a digest or a cosign/referrer artefact, never a deployable version. */
export function isArtifactTag(tag: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(tag) || /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/.test(tag);
}
