import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  deleteManifest,
  getBlobJson,
  headManifest,
  listTags,
  MEDIA_TYPES,
  pullManifest,
  pushImage,
  pushIndex,
  skopeoCopyOciLayout,
  writeOciLayout,
} from './images.js';
import { type DistributionEvent, type NotifyReceiver, startNotifyReceiver } from './notify-receiver.js';
import { type Registry, startRegistry } from './registry.js';

const NOTIFY_TOKEN = 'Bearer registry-notify-token';

/**
 * The registry sends a receiver's notifications in order: once a fresh push to `fence/app` is seen, every
 * notification caused before it has arrived. Proves absence without waiting on the clock.
 */
let fences = 0;
async function fence(reg: Registry, rx: NotifyReceiver): Promise<void> {
  const tag = `fence-${++fences}`;
  await pushImage(reg, 'fence/app', tag, { seed: tag });
  await rx.waitFor((r) => r.rawBody.includes(`"tag": "${tag}"`));
}

const pushesOf = (rx: NotifyReceiver, repo: string): DistributionEvent[] =>
  rx.distributionEvents().filter((e) => e.action === 'push' && e.target.repository === repo);

describe('registry without auth, with notifications', () => {
  let rx: NotifyReceiver;
  let reg: Registry;
  beforeAll(async () => {
    rx = await startNotifyReceiver();
    reg = await startRegistry({
      notifyUrl: rx.eventsUrl,
      notifyHeaders: { Authorization: [NOTIFY_TOKEN] },
      deleteEnabled: true,
    });
  });
  afterAll(async () => {
    await reg?.stop();
    await rx?.stop();
  });

  it('reports host and url on 127.0.0.1 and a live pid', () => {
    expect(reg.host).toBe(`127.0.0.1:${reg.port}`);
    expect(reg.url).toBe(`http://127.0.0.1:${reg.port}`);
    expect(() => process.kill(reg.pid, 0)).not.toThrow();
  });

  it('a pushed tag produces exactly one push notification, with tag, digest and the configured header', async () => {
    const { digest } = await pushImage(reg, 'demo/app', '1.0.0');
    const req = await rx.waitFor((r) => r.rawBody.includes('"tag": "1.0.0"'));
    expect(req.path).toBe('/registry/events');
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe(NOTIFY_TOKEN);
    expect(req.headers['content-type']).toBe('application/vnd.docker.distribution.events.v1+json');
    await fence(reg, rx); // every notification the push caused has now arrived
    const pushes = pushesOf(rx, 'demo/app');
    expect(pushes).toHaveLength(1);
    expect(pushes[0]?.target).toMatchObject({ tag: '1.0.0', digest, mediaType: MEDIA_TYPES.ociManifest });
  });

  it('pulling produces no push (and, by default, no pull) event', async () => {
    const { digest } = await pushImage(reg, 'demo/pull', 'v1');
    await rx.waitFor((r) => r.rawBody.includes('"repository": "demo/pull"'));
    const before = rx.requests.length;
    const pulled = await pullManifest(reg, 'demo/pull', 'v1');
    expect(pulled.digest).toBe(digest);
    await pullManifest(reg, 'demo/pull', digest);
    await fence(reg, rx);
    expect(rx.requests.slice(before).filter((r) => r.rawBody.includes('"repository": "demo/pull"'))).toEqual(
      [],
    );
    expect(pushesOf(rx, 'demo/pull')).toHaveLength(1);
  });

  it('annotations and labels are readable back from the manifest and config', async () => {
    const annotations = {
      'org.opencontainers.image.source': 'https://github.com/acme/app',
      'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
      'org.opencontainers.image.created': '2025-03-04T05:06:07Z',
    };
    const labels = { 'org.opencontainers.image.source': 'https://github.com/acme/app' };
    const created = '2025-03-04T05:06:07Z';
    const { digest } = await pushImage(reg, 'demo/annotated', '2.0.0', { annotations, labels, created });
    const m = await pullManifest(reg, 'demo/annotated', '2.0.0');
    expect(m.digest).toBe(digest);
    expect(m.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(m.manifest.annotations).toEqual(annotations);
    const configDigest = (m.manifest.config as { digest: string }).digest;
    const config = await getBlobJson(reg, 'demo/annotated', configDigest);
    expect(config.created).toBe(created);
    expect((config.config as { Labels: unknown }).Labels).toEqual(labels);
  });

  it.each([
    ['same seed, same digest', 'a', 'a', true],
    ['different seeds, different digests', 'a', 'b', false],
  ])('%s', async (_name, s1, s2, same) => {
    const a = await pushImage(reg, 'demo/seeds', `x-${s1}-1`, { seed: s1 });
    const b = await pushImage(reg, 'demo/seeds', `x-${s2}-2`, { seed: s2 });
    expect(a.digest === b.digest).toBe(same);
  });

  it('pushes a Docker schema2 manifest when asked', async () => {
    const { digest, mediaType } = await pushImage(reg, 'demo/docker', '1.2.3', { mediaType: 'docker' });
    expect(mediaType).toBe(MEDIA_TYPES.dockerManifest);
    const m = await pullManifest(reg, 'demo/docker', '1.2.3');
    expect(m.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(m.digest).toBe(digest);
    const ev = await rx.waitFor((r) => r.rawBody.includes('"repository": "demo/docker"'));
    expect(ev.rawBody).toContain(MEDIA_TYPES.dockerManifest);
  });

  it.each([
    ['oci', MEDIA_TYPES.ociIndex],
    ['docker', MEDIA_TYPES.dockerList],
  ] as const)('pushes a multi-platform %s index whose children are pullable', async (kind, indexType) => {
    const repo = `demo/multi-${kind}`;
    const platforms = ['linux/amd64', 'linux/arm64/v8'];
    const res = await pushIndex(reg, repo, '3.0.0', platforms, { mediaType: kind, seed: kind });
    const m = await pullManifest(reg, repo, '3.0.0');
    expect(m.mediaType).toBe(indexType);
    expect(m.digest).toBe(res.digest);
    const manifests = m.manifest.manifests as Array<{ digest: string; platform: Record<string, string> }>;
    expect(manifests.map((d) => d.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    expect(new Set(manifests.map((d) => d.digest)).size).toBe(2);
    for (const c of res.children) expect(await headManifest(reg, repo, c.digest)).toBe(c.digest);
    const tagged = await rx.waitFor(
      (r) => r.rawBody.includes(`"repository": "${repo}"`) && r.rawBody.includes('"tag": "3.0.0"'),
    );
    expect(tagged.rawBody).toContain(res.digest);
    expect(await listTags(reg, repo)).toEqual(['3.0.0']);
  });

  it('deleteManifest removes the tag and sends a delete event', async () => {
    const { digest } = await pushImage(reg, 'demo/del', 'gone', { seed: 'del' });
    await deleteManifest(reg, 'demo/del', digest);
    expect(await headManifest(reg, 'demo/del', 'gone')).toBeNull();
    const ev = await rx.waitFor(
      (r) => r.rawBody.includes('"action": "delete"') && r.rawBody.includes('demo/del'),
    );
    expect(ev.rawBody).toContain(digest);
  });

  it('skopeo copies an OCI layout into the registry (digest preserved for format oci)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-oci-layout-'));
    try {
      const img = buildImage({ seed: 'skopeo', annotations: { 'org.opencontainers.image.revision': 'abc' } });
      await writeOciLayout(dir, img, 'latest');
      await skopeoCopyOciLayout(dir, 'latest', reg, 'demo/skopeo', '4.5.6');
      expect(await headManifest(reg, 'demo/skopeo', '4.5.6')).toBe(img.digest);
      const ev = await rx.waitFor((r) => r.rawBody.includes('"repository": "demo/skopeo"'));
      expect(ev.rawBody).toContain('"tag": "4.5.6"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('registry notification settings', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('setNotifyUrl moves notifications to a new receiver and keeps storage', async () => {
    const [a, b] = await Promise.all([startNotifyReceiver(), startNotifyReceiver()]);
    const reg = await startRegistry({ notifyUrl: a.url + '/hook' });
    cleanup.push(a.stop, b.stop, reg.stop);
    await pushImage(reg, 'n/app', 'one');
    await a.waitFor((r) => r.rawBody.includes('"tag": "one"'));
    const oldPid = reg.pid;
    await reg.setNotifyUrl(b.url + '/hook2');
    expect(reg.pid).not.toBe(oldPid);
    expect(await listTags(reg, 'n/app')).toEqual(['one']);
    await pushImage(reg, 'n/app', 'two', { seed: 'two' });
    const got = await b.waitFor((r) => r.rawBody.includes('"tag": "two"'));
    expect(got.path).toBe('/hook2');
    // The first registry process has exited, so nothing can reach `a` any more.
    expect(a.requests.some((r) => r.rawBody.includes('"tag": "two"'))).toBe(false);
  });

  it('notifyPulls sends pull events', async () => {
    const rx = await startNotifyReceiver();
    const reg = await startRegistry({ notifyUrl: rx.url, notifyPulls: true });
    cleanup.push(rx.stop, reg.stop);
    await pushImage(reg, 'p/app', '1');
    await pullManifest(reg, 'p/app', '1');
    const pull = await rx.waitFor((r) => r.rawBody.includes('"action": "pull"'));
    expect(pull.rawBody).toContain('p/app');
  });

  it('stop() is idempotent and kills the process', async () => {
    const reg = await startRegistry();
    const pid = reg.pid;
    await Promise.all([reg.stop(), reg.stop()]);
    await reg.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('registry with basic auth', () => {
  let rx: NotifyReceiver;
  let reg: Registry;
  beforeAll(async () => {
    rx = await startNotifyReceiver();
    reg = await startRegistry({ auth: 'basic', users: [{ user: 'ci', pass: 's3cret' }], notifyUrl: rx.url });
  });
  afterAll(async () => {
    await reg?.stop();
    await rx?.stop();
  });

  it('answers anonymous requests with 401 and a Basic challenge', async () => {
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    await expect(pushImage(reg, 'b/app', '1', { creds: null })).rejects.toThrow(/HTTP 401/);
  });

  it('rejects a wrong password', async () => {
    await expect(pushImage(reg, 'b/app', '1', { creds: { user: 'ci', pass: 'nope' } })).rejects.toThrow(
      /HTTP 401/,
    );
  });

  it('accepts the right credentials; the event names the actor', async () => {
    const { digest } = await pushImage(reg, 'b/app', '1.0.0', { creds: { user: 'ci', pass: 's3cret' } });
    const m = await pullManifest(reg, 'b/app', '1.0.0');
    expect(m.digest).toBe(digest);
    await rx.waitFor((r) => r.rawBody.includes('"tag": "1.0.0"'));
    const ev = rx.distributionEvents().find((e) => e.target.tag === '1.0.0');
    expect(ev?.actor?.name).toBe('ci');
  });
});

describe('registry with token auth', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', users: [{ user: 'bot', pass: 'pw' }], anonymousPull: true });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('challenges with Bearer realm pointing at its token server', async () => {
    const res = await fetch(`${reg.url}/v2/t/app/tags/list`);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`Bearer realm="${reg.tokenServer?.realm}"`);
    expect(challenge).toContain('scope="repository:t/app:pull"');
  });

  it('a token from the token server works against the registry', async () => {
    await pushImage(reg, 't/app', '1.0.0');
    const ts = reg.tokenServer!;
    const tr = await fetch(`${ts.realm}?service=${ts.service}&scope=repository:t/app:pull`, {
      headers: { authorization: `Basic ${Buffer.from('bot:pw').toString('base64')}` },
    });
    expect(tr.status).toBe(200);
    const { token } = (await tr.json()) as { token: string };
    const res = await fetch(`${reg.url}/v2/t/app/tags/list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 't/app', tags: ['1.0.0'] });
    // The push above needed a pull,push token (granted to the credentials), the read a pull one.
    expect(
      ts.requests.some((r) => r.user === 'bot' && r.granted.some((g) => g.actions.includes('push'))),
    ).toBe(true);
  });

  it('a token for another repository is refused', async () => {
    const token = reg.tokenServer!.mint('bot', [
      { type: 'repository', name: 'other/app', actions: ['pull'] },
    ]);
    const res = await fetch(`${reg.url}/v2/t/app/tags/list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
  });

  it('wrong credentials get no token', async () => {
    await expect(pushImage(reg, 't/app', '2', { creds: { user: 'bot', pass: 'bad' } })).rejects.toThrow(
      /token request .* 401/,
    );
  });

  it('anonymous callers may pull but not push', async () => {
    await pushImage(reg, 't/anon', 'v1');
    const m = await pullManifest(reg, 't/anon', 'v1', { creds: null });
    expect(m.mediaType).toBe(MEDIA_TYPES.ociManifest);
    await expect(pushImage(reg, 't/anon', 'v2', { creds: null })).rejects.toThrow(/HTTP 401/);
  });
});
