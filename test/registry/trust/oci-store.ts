/**
 * Putting sigstore material into registries the way cosign and GitHub do: the legacy `sha256-<hex>.sig` tag,
 * bundle referrers (manifests with a `subject`), and the referrers tag-schema fallback index. Two stores:
 * a real Distribution registry over its HTTP API (which has no referrers API), and a small in-memory OCI 1.1
 * registry served over real HTTP that answers the referrers API.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LegacyLayer } from './sigstore-kit.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const EMPTY_JSON = 'application/vnd.oci.empty.v1+json';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Where test material is written. */
export interface OciStore {
  /** "127.0.0.1:PORT", the host in image references. */
  readonly host: string;
  putBlob(repo: string, data: Buffer): Promise<string>;
  putManifest(repo: string, ref: string, mediaType: string, body: Buffer): Promise<void>;
}

export const digestOf = (data: Buffer | string): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function expectOk(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/** A real Distribution registry, written through its HTTP API. */
export function distributionStore(url: string): OciStore {
  return {
    host: new URL(url).host,
    async putBlob(repo, data) {
      const digest = digestOf(data);
      const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      await expectOk(start, `start upload to ${repo}`);
      const put = new URL(start.headers.get('location') ?? '', url);
      put.searchParams.set('digest', digest);
      const res = await fetch(put, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: data,
      });
      await expectOk(res, `upload ${digest} to ${repo}`);
      return digest;
    },
    async putManifest(repo, ref, mediaType, body) {
      const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body,
      });
      await expectOk(res, `put manifest ${repo}:${ref}`);
    },
  };
}

export interface ReferrersRegistry extends OciStore {
  /** Requests seen, as "METHOD path". */
  readonly seen: string[];
  /** Serve `data` as the blob `digest`, whatever its real digest: a registry that lies. */
  putRawBlob(repo: string, digest: string, data: Buffer): void;
  close(): Promise<void>;
}

/**
 * An OCI 1.1 registry in memory: manifests by tag and digest, blobs, and `GET /v2/<repo>/referrers/<digest>`
 * built from the stored manifests' `subject`, filtered by `artifactType` as the spec describes.
 */
export async function startReferrersRegistry(): Promise<ReferrersRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { mediaType: string; body: Buffer }>();
  const seen: string[] = [];
  const send = (res: import('node:http').ServerResponse, status: number, type: string, body: Buffer) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': body.length,
      'docker-content-digest': digestOf(body),
    });
    res.end(body);
  };
  const notFound = (res: import('node:http').ServerResponse) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'not found' }] }));
  };
  function referrers(repo: string, subject: string, artifactType: string | null): Buffer {
    const list: Descriptor[] = [];
    for (const [key, m] of manifests) {
      if (!key.startsWith(`${repo}@`)) continue;
      const doc = JSON.parse(m.body.toString()) as {
        subject?: { digest?: string };
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
      };
      if (doc.subject?.digest !== subject) continue;
      const type = doc.artifactType ?? doc.config?.mediaType ?? '';
      if (artifactType && type !== artifactType) continue;
      list.push({
        mediaType: m.mediaType,
        digest: key.slice(repo.length + 1),
        size: m.body.length,
        artifactType: type,
        ...(doc.annotations && { annotations: doc.annotations }),
      });
    }
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: list }));
  }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const m = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(url.pathname);
    if (!m)
      return url.pathname === '/v2/' ? send(res, 200, 'application/json', Buffer.from('{}')) : notFound(res);
    const [, repo, kind, encoded] = m as unknown as [string, string, string, string];
    const ref = decodeURIComponent(encoded);
    if (kind === 'referrers')
      return send(res, 200, OCI_INDEX, referrers(repo, ref, url.searchParams.get('artifactType')));
    if (kind === 'blobs') {
      const blob = blobs.get(`${repo}@${ref}`);
      return blob ? send(res, 200, 'application/octet-stream', blob) : notFound(res);
    }
    const found = manifests.get(`${repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref}`);
    return found ? send(res, 200, found.mediaType, found.body) : notFound(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async putBlob(repo, data) {
      const digest = digestOf(data);
      blobs.set(`${repo}@${digest}`, data);
      return digest;
    },
    putRawBlob(repo, digest, data) {
      blobs.set(`${repo}@${digest}`, data);
    },
    async putManifest(repo, ref, mediaType, body) {
      manifests.set(`${repo}@${digestOf(body)}`, { mediaType, body });
      if (!ref.startsWith('sha256:')) manifests.set(`${repo}:${ref}`, { mediaType, body });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function putJsonManifest(
  store: OciStore,
  repo: string,
  ref: string | undefined,
  doc: object,
): Promise<Descriptor> {
  const mediaType = (doc as { mediaType: string }).mediaType;
  const body = Buffer.from(JSON.stringify(doc));
  const digest = digestOf(body);
  await store.putManifest(repo, ref ?? digest, mediaType, body);
  return { mediaType, digest, size: body.length };
}

/** A small single-layer image; `seed` makes its digest unique. */
export async function pushTestImage(
  store: OciStore,
  repo: string,
  tag: string,
  seed: string,
): Promise<Descriptor> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', seed, rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = Buffer.from(`layer ${seed}`);
  const configDigest = await store.putBlob(repo, config);
  const layerDigest = await store.putBlob(repo, layer);
  return putJsonManifest(store, repo, tag, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
    ],
  });
}

/** cosign's legacy layout: `sha256-<hex>.sig`, one simple-signing layer per signature. */
export async function pushSigTag(
  store: OciStore,
  repo: string,
  digest: string,
  layers: readonly LegacyLayer[],
): Promise<void> {
  const config = Buffer.from('{"architecture":"","config":{},"created":"0001-01-01T00:00:00Z","os":""}');
  const configDigest = await store.putBlob(repo, config);
  const descriptors = [];
  for (const l of layers) {
    const d = await store.putBlob(repo, l.payload);
    descriptors.push({
      mediaType: SIMPLE_SIGNING,
      digest: d,
      size: l.payload.length,
      annotations: l.annotations,
    });
  }
  await putJsonManifest(store, repo, `${digest.replace(':', '-')}.sig`, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: config.length,
    },
    layers: descriptors,
  });
}

/**
 * A bundle as cosign v3 and GitHub attach it: an artifact manifest (empty config, the bundle as its one layer)
 * whose `subject` is the image. Returns its descriptor as a referrers index lists it.
 */
export async function pushBundleReferrer(
  store: OciStore,
  repo: string,
  subject: Descriptor,
  bundle: object,
  predicateType: string,
): Promise<Descriptor> {
  const data = Buffer.from(JSON.stringify(bundle));
  const empty = Buffer.from('{}');
  const emptyDigest = await store.putBlob(repo, empty);
  const bundleDigest = await store.putBlob(repo, data);
  const annotations = {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': predicateType,
  };
  const d = await putJsonManifest(store, repo, undefined, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE_TYPE,
    config: { mediaType: EMPTY_JSON, digest: emptyDigest, size: empty.length },
    layers: [{ mediaType: BUNDLE_TYPE, digest: bundleDigest, size: data.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  });
  return { ...d, artifactType: BUNDLE_TYPE, annotations };
}

/** The referrers tag-schema fallback: an index of referrers under the tag `sha256-<hex>`. */
export async function pushFallbackIndex(
  store: OciStore,
  repo: string,
  digest: string,
  referrers: readonly Descriptor[],
): Promise<void> {
  await putJsonManifest(store, repo, digest.replace(':', '-'), {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: referrers,
  });
}

/** An image index as BuildKit pushes it with `--provenance`: the image and an unsigned attestation manifest. */
export async function pushBuildKitIndex(
  store: OciStore,
  repo: string,
  tag: string,
  image: Descriptor,
  statement: object,
): Promise<Descriptor> {
  const data = Buffer.from(JSON.stringify(statement));
  const layerDigest = await store.putBlob(repo, data);
  const config = Buffer.from(
    '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const configDigest = await store.putBlob(repo, config);
  const attestation = await putJsonManifest(store, repo, undefined, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: config.length,
    },
    layers: [
      {
        mediaType: 'application/vnd.in-toto+json',
        digest: layerDigest,
        size: data.length,
        annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' },
      },
    ],
  });
  return putJsonManifest(store, repo, tag, {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { ...image, platform: { architecture: 'amd64', os: 'linux' } },
      {
        ...attestation,
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: {
          'vnd.docker.reference.digest': image.digest,
          'vnd.docker.reference.type': 'attestation-manifest',
        },
      },
    ],
  });
}
