/**
 * A RegistryClient over a fixed table of tags and digests (`tidemark plan --tags-file`), keyed by the image
 * as the policy names it or by its canonical name.
 */

import { canonicalImageName } from '../core/domain/image-ref.js';
import { AppError, RegistryNotFoundError } from '../core/errors.js';
import type { RegistryClient } from './types.js';

export type TagsFile = Record<string, string[] | { tags: string[]; digests?: Record<string, string> }>;

/** The --tags-file is not in the documented shape: never retried. */
export class TagsFileError extends AppError {
  readonly code = 'tags_file_invalid';
  readonly retryable = false;
}

export function parseTagsFile(raw: unknown): TagsFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new TagsFileError('expected an object keyed by image');
  for (const [image, v] of Object.entries(raw as Record<string, unknown>)) {
    const tags = Array.isArray(v) ? v : (v as { tags?: unknown } | null)?.tags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
      throw new TagsFileError(
        `"${image}": expected a list of tags or { "tags": [...], "digests": { "<tag>": "sha256:…" } }`,
      );
    }
  }
  return raw as TagsFile;
}

export class FixedTagSource implements RegistryClient {
  private readonly byImage = new Map<string, { tags: string[]; digests: Record<string, string> }>();
  constructor(table: TagsFile) {
    for (const [image, v] of Object.entries(table)) {
      const entry = Array.isArray(v) ? { tags: v, digests: {} } : { tags: v.tags, digests: v.digests ?? {} };
      this.byImage.set(image, entry);
      try {
        this.byImage.set(canonicalImageName(image), entry);
      } catch {
        // keyed verbatim only
      }
    }
  }
  private entry(image: string) {
    const e = this.byImage.get(image) ?? this.byImage.get(canonicalImageName(image));
    if (!e) throw new RegistryNotFoundError(`${image}: not in the tags file`);
    return e;
  }
  async listTags(image: string): Promise<string[]> {
    return this.entry(image).tags;
  }
  async resolveDigest(image: string, tag: string): Promise<string> {
    const d = this.entry(image).digests[tag];
    if (!d) throw new RegistryNotFoundError(`${image}:${tag}: no digest in the tags file`);
    return d;
  }
}
