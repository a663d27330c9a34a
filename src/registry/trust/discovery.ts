/**
 * Finding signatures and attestations of an image digest, in the order cosign and the OCI 1.1 spec give:
 * the referrers API, else the referrers tag-schema fallback (`sha256-<hex>`, an index of referrers), then
 * cosign's legacy `sha256-<hex>.sig` tag. The registry is not trusted: sizes are bounded, blob digests checked,
 * and everything found is only a candidate until `verify-bundle.ts` has verified it.
 */
import { createHash } from 'node:crypto';
import { RegistryNotFoundError } from '../../core/errors.js';
import { legacySignatureBundle, SIMPLE_SIGNING_MEDIA_TYPE } from './legacy-sig.js';
import { peekPredicateType } from './statement.js';
import type { TrustRegistry, TrustSource } from './types.js';

export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_MEDIA_TYPES = [BUNDLE_ARTIFACT_TYPE, 'application/vnd.dev.sigstore.bundle+json;version=0.3'];
/** cosign and GitHub set it on bundle referrers, so other kinds are skipped without fetching them. */
const PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
/** Referrers or `.sig` layers looked at per source: an image has a handful; a registry listing thousands is not read. */
export const MAX_CANDIDATES = 16;
/** Bundles and simple-signing payloads are kilobytes; provenance with many dependencies stays well below this. */
const MAX_BLOB_BYTES = 4 * 1024 * 1024;
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A candidate: a bundle (with the signed bytes, for a message signature), or why the listed item is unusable. */
export type Found =
  | {
      readonly ok: true;
      readonly source: TrustSource;
      readonly where: string;
      readonly bundle: unknown;
      readonly artifact?: Buffer;
    }
  | { readonly ok: false; readonly source: TrustSource; readonly where: string; readonly reason: string };

interface Descriptor {
  readonly mediaType?: string;
  readonly digest: string;
  readonly size?: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

function descriptorsIn(list: unknown): Descriptor[] {
  if (!Array.isArray(list)) return [];
  return list.filter(
    (d): d is Descriptor =>
      typeof d === 'object' && d !== null && typeof (d as { digest?: unknown }).digest === 'string',
  );
}

/** A registry read, with "not there" (404) as undefined; anything else (network, auth) goes to the caller. */
async function unlessNotFound<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof RegistryNotFoundError) return undefined;
    throw err;
  }
}

/** `sha256-<hex>`: the tag the fallback index lives at, and the stem of cosign's `.sig` tag. */
export function digestTag(digest: string): string {
  return digest.replace(':', '-');
}

async function readBlob(
  reg: TrustRegistry,
  image: string,
  d: Descriptor,
  signal: AbortSignal | undefined,
): Promise<Buffer | string> {
  if (!SHA256_DIGEST.test(d.digest)) return `blob ${d.digest} is not addressed by a sha256 digest`;
  if ((d.size ?? 0) > MAX_BLOB_BYTES) return `blob ${d.digest} is ${d.size} bytes, more than a bundle can be`;
  const data = await unlessNotFound(reg.getBlob(image, d.digest, { ...(signal && { signal }) }));
  if (!data) return `blob ${d.digest} is listed but missing from the registry`;
  const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (actual !== d.digest) return `blob ${d.digest} has other content (${actual})`;
  return data;
}

async function referrerDescriptors(
  reg: TrustRegistry,
  image: string,
  digest: string,
  signal: AbortSignal | undefined,
): Promise<{ source: TrustSource; list: Descriptor[] }> {
  const o = { artifactType: BUNDLE_ARTIFACT_TYPE, ...(signal && { signal }) };
  const index = reg.listReferrers ? await reg.listReferrers(image, digest, o) : undefined;
  if (index) return { source: 'referrers', list: descriptorsIn(index.manifests) };
  // No referrers API: clients that pushed referrers kept this index under the digest's tag instead.
  const fallback = await unlessNotFound(
    reg.getManifest(image, digestTag(digest), { ...(signal && { signal }) }),
  );
  return { source: 'tag-fallback', list: descriptorsIn(fallback?.manifests) };
}

/**
 * Sigstore bundles attached to `digest` as referrers whose predicate type `wants` accepts (DSSE bundles only:
 * a message-signature referrer does not carry what it signs). Registries may ignore the artifactType filter, so
 * it is applied here again.
 */
export async function* referrerBundles(
  reg: TrustRegistry,
  image: string,
  digest: string,
  wants: (predicateType: string) => boolean,
  signal?: AbortSignal,
): AsyncGenerator<Found> {
  const { source, list } = await referrerDescriptors(reg, image, digest, signal);
  const candidates = list
    .filter((d) => BUNDLE_MEDIA_TYPES.includes(d.artifactType ?? ''))
    .filter((d) => {
      const claimed = d.annotations?.[PREDICATE_TYPE_ANNOTATION];
      return claimed === undefined || wants(claimed);
    })
    .slice(0, MAX_CANDIDATES);
  for (const d of candidates) {
    const where = `referrer ${d.digest}`;
    const manifest = await unlessNotFound(reg.getManifest(image, d.digest, { ...(signal && { signal }) }));
    if (!manifest) {
      yield { ok: false, source, where, reason: 'it is listed but missing from the registry' };
      continue;
    }
    const layer = descriptorsIn(manifest.layers).find((l) => BUNDLE_MEDIA_TYPES.includes(l.mediaType ?? ''));
    if (!layer) {
      yield { ok: false, source, where, reason: 'it holds no sigstore bundle layer' };
      continue;
    }
    const blob = await readBlob(reg, image, layer, signal);
    if (typeof blob === 'string') {
      yield { ok: false, source, where, reason: blob };
      continue;
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(blob.toString('utf8'));
    } catch {
      yield { ok: false, source, where, reason: 'its bundle is not JSON' };
      continue;
    }
    const predicateType = peekPredicateType(bundle);
    if (predicateType !== undefined && wants(predicateType)) yield { ok: true, source, where, bundle };
  }
}

/** Signatures under cosign's legacy `sha256-<hex>.sig` tag, one per simple-signing layer. */
export async function* sigTagSignatures(
  reg: TrustRegistry,
  image: string,
  digest: string,
  signal?: AbortSignal,
): AsyncGenerator<Found> {
  const tag = `${digestTag(digest)}.sig`;
  const manifest = await unlessNotFound(reg.getManifest(image, tag, { ...(signal && { signal }) }));
  if (!manifest) return;
  const layers = descriptorsIn(manifest.layers)
    .filter((l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE)
    .slice(0, MAX_CANDIDATES);
  for (const layer of layers) {
    const where = `${tag} layer ${layer.digest}`;
    const payload = await readBlob(reg, image, layer, signal);
    if (typeof payload === 'string') {
      yield { ok: false, source: 'sig-tag', where, reason: payload };
      continue;
    }
    const made = legacySignatureBundle(layer.annotations ?? {}, payload);
    yield 'reason' in made
      ? { ok: false, source: 'sig-tag', where, reason: made.reason }
      : { ok: true, source: 'sig-tag', where, bundle: made.bundle, artifact: payload };
  }
}

/**
 * Whether the image at `digest` is an index carrying BuildKit's in-index attestation manifests: unsigned, so they
 * never count, but worth naming when nothing signed was found.
 */
export async function hasBuildKitAttestations(
  reg: TrustRegistry,
  image: string,
  digest: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const manifest = await unlessNotFound(reg.getManifest(image, digest, { ...(signal && { signal }) }));
  return descriptorsIn(manifest?.manifests).some(
    (d) => d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
  );
}
