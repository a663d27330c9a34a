/** The registry as the worker sees it: a source of tags and digests. Implemented by the OCI client. */
export interface RegistryClient {
  /** Every tag of the image (all pages). May be served from a short-lived cache unless `fresh`. */
  listTags(image: string, opts?: { signal?: AbortSignal; fresh?: boolean }): Promise<string[]>;
  /** The manifest (or index) digest a tag points at, `sha256:…`. */
  resolveDigest(image: string, tag: string, opts?: { signal?: AbortSignal }): Promise<string>;
  /** OCI annotations/labels of the tag's image (source, revision, created); empty when unknown. */
  getImageMetadata?(image: string, tag: string, opts?: { signal?: AbortSignal }): Promise<ImageMetadata>;
  /** The manifest or index at a tag or digest, parsed. */
  getManifest?(image: string, ref: string, opts?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
  /** A blob's bytes (an image config, a signature layer). */
  getBlob?(image: string, digest: string, opts?: { signal?: AbortSignal }): Promise<Buffer>;
  /** The OCI 1.1 referrers of a digest (an image index), or undefined when the registry has no such API. */
  listReferrers?(
    image: string,
    digest: string,
    opts?: { artifactType?: string; signal?: AbortSignal },
  ): Promise<Record<string, unknown> | undefined>;
}

export interface ImageMetadata {
  readonly source?: string;
  readonly revision?: string;
  readonly created?: string;
  readonly platforms?: readonly string[];
}
