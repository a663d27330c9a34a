/**
 * Push container images to a test registry without Docker: blobs are built in memory (a tiny gzip'd tar
 * layer, a config JSON, an OCI or Docker manifest) and uploaded with the raw Distribution HTTP API,
 * answering Basic and Bearer auth challenges like a real client. Also: read manifests back, delete them,
 * list tags, write an OCI layout, and push it with skopeo (what many users' CI does).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Creds } from './token-server.js';

const execFileP = promisify(execFile);

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Accept header that makes Distribution return any manifest kind as stored (never down-converted). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
].join(', ');

/** Anything with a registry base URL: a `Registry` from registry.ts or a plain object. */
export interface RegistryTarget {
  /** http://host:port */
  readonly url: string;
  /** Used when a helper gets no `creds` option. */
  readonly defaultCreds?: Creds | undefined;
}

/** `creds: null` forces anonymous access even when the registry has default credentials. */
export interface AuthOptions {
  creds?: Creds | null;
}

export interface ImageOptions {
  /** Manifest annotations (e.g. org.opencontainers.image.source/.revision/.created). OCI only. */
  annotations?: Record<string, string>;
  /** Config labels (config.config.Labels). */
  labels?: Record<string, string>;
  /** config.created; default 2024-01-01T00:00:00Z. */
  created?: string;
  /** Default 'oci'. */
  mediaType?: 'oci' | 'docker';
  /** Makes the layer (and thus the digest) unique; same seed + same options → same digest. */
  seed?: string;
  /** "os/arch[/variant]", default linux/amd64. */
  platform?: string;
}

export interface Blob {
  readonly digest: string;
  readonly mediaType: string;
  readonly data: Buffer;
}

export interface BuiltImage {
  readonly mediaType: string;
  /** Exact manifest bytes (the digest is over these). */
  readonly manifestBytes: Buffer;
  readonly digest: string;
  readonly manifest: Record<string, unknown>;
  readonly config: Blob;
  readonly layers: readonly Blob[];
}

export interface PushResult {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly manifest: Record<string, unknown>;
}

export interface IndexPushResult extends PushResult {
  readonly children: ReadonlyArray<{ platform: string; digest: string }>;
}

export interface PulledManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly raw: string;
  readonly manifest: Record<string, unknown>;
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function parsePlatform(p: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = p.split('/');
  if (!os || !architecture)
    throw new Error(`platform "${p}" must look like os/arch[/variant], e.g. linux/amd64`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** One-file ustar archive. */
function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number): void => {
    header.write(s.slice(0, len), off, 'ascii');
  };
  const octal = (n: number, len: number): string => `${n.toString(8).padStart(len - 1, '0')}\0`;
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024, 0)]);
}

function blob(mediaType: string, data: Buffer): Blob {
  return { digest: sha256Digest(data), mediaType, data };
}

function descriptor(b: { digest: string; mediaType: string; data: Buffer }): Record<string, unknown> {
  return { mediaType: b.mediaType, digest: b.digest, size: b.data.length };
}

/** Builds a single-platform image in memory. Deterministic for equal options. */
export function buildImage(opts: ImageOptions = {}): BuiltImage {
  const oci = (opts.mediaType ?? 'oci') === 'oci';
  const platformStr = opts.platform ?? 'linux/amd64';
  const platform = parsePlatform(platformStr);
  const tar = tarOneFile(
    'tidemark-seed.txt',
    Buffer.from(`seed=${opts.seed ?? ''}\nplatform=${platformStr}\n`),
  );
  const layer = blob(oci ? MEDIA_TYPES.ociLayer : MEDIA_TYPES.dockerLayer, gzipSync(tar));
  const configJson = {
    created: opts.created ?? '2024-01-01T00:00:00Z',
    ...platform,
    config: { Labels: opts.labels ?? {} },
    rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    history: [{ created: opts.created ?? '2024-01-01T00:00:00Z', created_by: 'tidemark test support' }],
  };
  const config = blob(
    oci ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig,
    Buffer.from(JSON.stringify(configJson)),
  );
  const mediaType = oci ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(config),
    layers: [descriptor(layer)],
  };
  if (oci && opts.annotations && Object.keys(opts.annotations).length > 0)
    manifest.annotations = opts.annotations;
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { mediaType, manifestBytes, digest: sha256Digest(manifestBytes), manifest, config, layers: [layer] };
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

function basicHeader(c: Creds): string {
  return `Basic ${Buffer.from(`${c.user}:${c.pass}`).toString('base64')}`;
}

/**
 * A minimal registry client session: remembers the Authorization it earned from the last challenge, and
 * on a 401 answers the challenge once (Basic with creds, or Bearer via the token realm) and retries.
 */
class RegistrySession {
  private authorization: string | undefined;
  constructor(
    private readonly base: string,
    private readonly creds: Creds | null,
  ) {}

  async request(
    method: string,
    pathOrUrl: string,
    init: { headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Response> {
    const url = new URL(pathOrUrl, this.base).toString();
    const send = (): Promise<Response> =>
      fetch(url, {
        method,
        headers: { ...init.headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        ...(init.body ? { body: init.body } : {}),
        redirect: 'manual',
      });
    let res = await send();
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate');
    await res.arrayBuffer();
    if (!challenge) return res;
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      if (!this.creds) return send401(res, challenge);
      this.authorization = basicHeader(this.creds);
    } else if (scheme === 'bearer' && params.realm) {
      const tokenUrl = new URL(params.realm);
      if (params.service) tokenUrl.searchParams.set('service', params.service);
      if (params.scope) for (const s of params.scope.split(' ')) tokenUrl.searchParams.append('scope', s);
      const tr = await fetch(tokenUrl, {
        headers: this.creds ? { authorization: basicHeader(this.creds) } : {},
      });
      if (!tr.ok) {
        throw new Error(`token request ${tokenUrl} failed: HTTP ${tr.status} ${await tr.text()}`);
      }
      const body = (await tr.json()) as { token?: string; access_token?: string };
      this.authorization = `Bearer ${body.token ?? body.access_token}`;
    } else {
      return send401(res, challenge);
    }
    res = await send();
    return res;
  }
}

function send401(res: Response, challenge: string): Response {
  return new Response(`unauthorized (${challenge})`, { status: 401, headers: res.headers });
}

function session(registry: RegistryTarget, opts: AuthOptions | undefined): RegistrySession {
  const creds = opts?.creds === undefined ? (registry.defaultCreds ?? null) : opts.creds;
  return new RegistrySession(registry.url, creds);
}

async function expectStatus(res: Response, ok: number[], what: string): Promise<void> {
  if (!ok.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  }
}

async function uploadBlob(s: RegistrySession, repo: string, b: Blob): Promise<void> {
  const head = await s.request('HEAD', `/v2/${repo}/blobs/${b.digest}`);
  if (head.status === 200) return;
  const start = await s.request('POST', `/v2/${repo}/blobs/uploads/`);
  await expectStatus(start, [202], `start blob upload to ${repo}`);
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (!location) throw new Error(`blob upload to ${repo}: no Location header`);
  const put = new URL(location, 'http://placeholder');
  put.searchParams.set('digest', b.digest);
  const target = /^https?:/.test(location) ? put.toString() : `${put.pathname}${put.search}`;
  const res = await s.request('PUT', target, {
    headers: { 'content-type': 'application/octet-stream' },
    body: b.data,
  });
  await expectStatus(res, [201], `upload blob ${b.digest} to ${repo}`);
  await res.arrayBuffer();
}

async function putManifest(
  s: RegistrySession,
  repo: string,
  reference: string,
  mediaType: string,
  bytes: Buffer,
): Promise<string> {
  const res = await s.request('PUT', `/v2/${repo}/manifests/${reference}`, {
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  await expectStatus(res, [201], `put manifest ${repo}:${reference}`);
  await res.arrayBuffer();
  return res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
}

async function pushBuilt(
  s: RegistrySession,
  repo: string,
  reference: string,
  img: BuiltImage,
): Promise<string> {
  for (const b of [...img.layers, img.config]) await uploadBlob(s, repo, b);
  return putManifest(s, repo, reference, img.mediaType, img.manifestBytes);
}

/** Pushes a single-platform image as repo:tag. Returns the manifest digest the registry reported. */
export async function pushImage(
  registry: RegistryTarget,
  repo: string,
  tag: string,
  opts: ImageOptions & AuthOptions = {},
): Promise<PushResult> {
  const img = buildImage(opts);
  const digest = await pushBuilt(session(registry, opts), repo, tag, img);
  return { digest, mediaType: img.mediaType, size: img.manifestBytes.length, manifest: img.manifest };
}

/**
 * Pushes a Helm chart as Helm 3 does (`helm push chart.tgz oci://…`): a config of media type
 * `application/vnd.cncf.helm.config.v1+json` holding Chart.yaml's fields and one chart-content layer, tagged with
 * the version, its `+` written as `_` (OCI tags cannot hold `+`).
 */
export async function pushChart(
  registry: RegistryTarget,
  repo: string,
  version: string,
  opts: AuthOptions = {},
): Promise<PushResult> {
  const name = repo.slice(repo.lastIndexOf('/') + 1);
  const chartYaml = `apiVersion: v2\nname: ${name}\nversion: ${version}\n`;
  const layer = blob(
    'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
    gzipSync(tarOneFile(`${name}/Chart.yaml`, Buffer.from(chartYaml))),
  );
  const config = blob(
    'application/vnd.cncf.helm.config.v1+json',
    Buffer.from(JSON.stringify({ apiVersion: 'v2', name, version })),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: descriptor(config),
    layers: [descriptor(layer)],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const img: BuiltImage = {
    mediaType: MEDIA_TYPES.ociManifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    manifest,
    config,
    layers: [layer],
  };
  const digest = await pushBuilt(session(registry, opts), repo, version.replaceAll('+', '_'), img);
  return { digest, mediaType: img.mediaType, size: manifestBytes.length, manifest };
}

/**
 * Pushes one image per platform (by digest) and then an index (OCI) or manifest list (docker) as repo:tag.
 * `annotations` go on the index; `labels` go into every child's config.
 */
export async function pushIndex(
  registry: RegistryTarget,
  repo: string,
  tag: string,
  platforms: readonly string[],
  opts: Omit<ImageOptions, 'platform'> & AuthOptions & { childAnnotations?: Record<string, string> } = {},
): Promise<IndexPushResult> {
  if (platforms.length === 0) throw new Error('pushIndex: give at least one platform, e.g. ["linux/amd64"]');
  const s = session(registry, opts);
  const oci = (opts.mediaType ?? 'oci') === 'oci';
  const children: Array<{ platform: string; digest: string }> = [];
  const descriptors: Record<string, unknown>[] = [];
  for (const platform of platforms) {
    const img = buildImage({
      ...opts,
      ...(opts.childAnnotations ? { annotations: opts.childAnnotations } : { annotations: {} }),
      platform,
    });
    await pushBuilt(s, repo, img.digest, img);
    children.push({ platform, digest: img.digest });
    descriptors.push({
      mediaType: img.mediaType,
      digest: img.digest,
      size: img.manifestBytes.length,
      platform: parsePlatform(platform),
    });
  }
  const mediaType = oci ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerList;
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType, manifests: descriptors };
  if (oci && opts.annotations && Object.keys(opts.annotations).length > 0)
    manifest.annotations = opts.annotations;
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await putManifest(s, repo, tag, mediaType, bytes);
  return { digest, mediaType, size: bytes.length, manifest, children };
}

/** GET a manifest by tag or digest (this is a "pull" to the registry). */
export async function pullManifest(
  registry: RegistryTarget,
  repo: string,
  reference: string,
  opts: AuthOptions = {},
): Promise<PulledManifest> {
  const res = await session(registry, opts).request('GET', `/v2/${repo}/manifests/${reference}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  await expectStatus(res, [200], `get manifest ${repo}:${reference}`);
  const raw = await res.text();
  return {
    digest: res.headers.get('docker-content-digest') ?? sha256Digest(raw),
    mediaType: res.headers.get('content-type') ?? '',
    raw,
    manifest: JSON.parse(raw) as Record<string, unknown>,
  };
}

/** HEAD a manifest: its digest, or null when the tag/digest does not exist. */
export async function headManifest(
  registry: RegistryTarget,
  repo: string,
  reference: string,
  opts: AuthOptions = {},
): Promise<string | null> {
  const res = await session(registry, opts).request('HEAD', `/v2/${repo}/manifests/${reference}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  if (res.status === 404) return null;
  await expectStatus(res, [200], `head manifest ${repo}:${reference}`);
  return res.headers.get('docker-content-digest');
}

/** Fetches a blob (e.g. an image config) by digest and parses it as JSON. */
export async function getBlobJson(
  registry: RegistryTarget,
  repo: string,
  digest: string,
  opts: AuthOptions = {},
): Promise<Record<string, unknown>> {
  const s = session(registry, opts);
  let res = await s.request('GET', `/v2/${repo}/blobs/${digest}`);
  // Distribution may redirect blob reads to storage; follow once.
  const loc = res.headers.get('location');
  if (res.status >= 300 && res.status < 400 && loc) res = await s.request('GET', loc);
  await expectStatus(res, [200], `get blob ${repo}@${digest}`);
  return (await res.json()) as Record<string, unknown>;
}

export async function listTags(
  registry: RegistryTarget,
  repo: string,
  opts: AuthOptions = {},
): Promise<string[]> {
  const res = await session(registry, opts).request('GET', `/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  await expectStatus(res, [200], `list tags of ${repo}`);
  const body = (await res.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}

/** DELETE /v2/<repo>/manifests/<digest> (needs `deleteEnabled`). Removes every tag pointing at it. */
export async function deleteManifest(
  registry: RegistryTarget,
  repo: string,
  digest: string,
  opts: AuthOptions = {},
): Promise<void> {
  const res = await session(registry, opts).request('DELETE', `/v2/${repo}/manifests/${digest}`);
  await expectStatus(res, [202], `delete manifest ${repo}@${digest}`);
  await res.arrayBuffer();
}

/**
 * Deletes the manifest a tag points at. Distribution 2.8 cannot untag alone, so every other tag on the
 * same digest goes too. Returns the deleted digest.
 */
export async function deleteTag(
  registry: RegistryTarget,
  repo: string,
  tag: string,
  opts: AuthOptions = {},
): Promise<string> {
  const digest = await headManifest(registry, repo, tag, opts);
  if (digest === null) throw new Error(`deleteTag: ${repo}:${tag} does not exist`);
  await deleteManifest(registry, repo, digest, opts);
  return digest;
}

/** Writes `img` into an OCI image layout directory (index.json + blobs/sha256/...) under `tag`. */
export async function writeOciLayout(dir: string, img: BuiltImage, tag: string): Promise<void> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const write = (digest: string, data: Buffer): Promise<void> =>
    writeFile(join(blobsDir, digest.slice('sha256:'.length)), data);
  for (const b of [...img.layers, img.config]) await write(b.digest, b.data);
  await write(img.digest, img.manifestBytes);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      {
        mediaType: img.mediaType,
        digest: img.digest,
        size: img.manifestBytes.length,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

/**
 * `skopeo copy oci:<layoutDir>:<layoutTag> docker://<host>/<repo>:<tag>` over plain HTTP.
 * `format: 'v2s2'` converts to a Docker schema2 manifest (a different digest than the layout's).
 */
export async function skopeoCopyOciLayout(
  layoutDir: string,
  layoutTag: string,
  registry: RegistryTarget,
  repo: string,
  tag: string,
  opts: AuthOptions & { format?: 'oci' | 'v2s2' } = {},
): Promise<{ stdout: string; stderr: string }> {
  const creds = opts.creds === undefined ? registry.defaultCreds : opts.creds;
  const host = new URL(registry.url).host;
  // --insecure-policy: Debian ships no /etc/containers/policy.json, and test images are unsigned anyway.
  const args = ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--retry-times', '0'];
  if (creds) args.push('--dest-creds', `${creds.user}:${creds.pass}`);
  if (opts.format) args.push('--format', opts.format);
  args.push(`oci:${layoutDir}:${layoutTag}`, `docker://${host}/${repo}:${tag}`);
  try {
    return await execFileP('skopeo', args, { timeout: 60_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}
