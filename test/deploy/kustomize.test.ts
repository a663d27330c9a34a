/**
 * Renders deploy/base with `kubectl kustomize` and checks the objects a platform team relies on.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
// `npm test` installs kubectl (Debian: kubernetes-client) when it is missing; without it these tests fail.
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!hasKubectl)
  throw new Error('kubectl is not installed: run `npm test` (it installs kubernetes-client) or install it');

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped YAML
type Loose = any;
type Obj = {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, Loose>;
};

describe('deploy/base (kubectl kustomize)', () => {
  const rendered = hasKubectl
    ? execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy/base')], { encoding: 'utf8' })
    : '';
  const objects = parseAllDocuments(rendered).map((d) => d.toJS() as Obj);
  const byKind = (k: string) => objects.filter((o) => o.kind === k);

  it('renders the expected objects', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'Deployment',
      'Ingress',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
    ]);
  });

  it('the container is hardened, probed, and takes its credentials from Secrets', () => {
    const d = byKind('Deployment')[0]!;
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    const secretKeys = c.env
      .filter((e: Loose) => e.valueFrom?.secretKeyRef)
      .map((e: Loose) => `${e.valueFrom.secretKeyRef.name}/${e.name}`);
    expect(secretKeys.sort()).toEqual(['tidemark/APP_ID', 'tidemark/PRIVATE_KEY', 'tidemark/WEBHOOK_SECRET']);
    expect(c.image).toBe('ghcr.io/tidemark-dev/tidemark:0.1.0');
    expect(c.image).not.toMatch(/:latest$/);
    // A writable work dir on an emptyDir, since the root filesystem is read-only.
    expect(c.volumeMounts.map((m: Loose) => m.mountPath)).toContain('/var/lib/tidemark');
    expect(d.spec.replicas).toBe(1);
  });

  it('the Ingress exposes only the webhook paths', () => {
    const paths = byKind('Ingress')[0]!.spec.rules[0].http.paths.map((p: Loose) => `${p.pathType} ${p.path}`);
    expect(paths).toEqual(['Exact /api/github/webhooks', 'Prefix /registry/']);
  });

  it('the PodDisruptionBudget, NetworkPolicy and Service select the tidemark pods', () => {
    const podLabels = byKind('Deployment')[0]!.spec.template.metadata.labels;
    for (const selector of [
      byKind('PodDisruptionBudget')[0]!.spec.selector?.matchLabels,
      byKind('NetworkPolicy')[0]!.spec.podSelector?.matchLabels,
      byKind('Service')[0]!.spec.selector,
    ]) {
      expect(Object.keys(selector ?? {}).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(selector)) expect(podLabels[k]).toBe(v);
    }
  });

  it('the Flux example deploys deploy/base', () => {
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/flux/tidemark.yaml'), 'utf8')).map(
      (d) => d.toJS() as Obj,
    );
    expect(docs.find((d) => d.kind === 'Kustomization')?.spec.path).toBe('./deploy/base');
  });
});

describe('deploy/overlays/redis (kubectl kustomize)', () => {
  const rendered = hasKubectl
    ? execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy/overlays/redis')], { encoding: 'utf8' })
    : '';
  const objects = parseAllDocuments(rendered).map((d) => d.toJS() as Obj);
  const deployment = (name: string) =>
    objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
  const env = (d: Obj) =>
    Object.fromEntries(
      d.spec.template.spec.containers[0].env.map((e: Loose) => [
        e.name,
        e.value ?? `secret:${e.valueFrom?.secretKeyRef?.name}`,
      ]),
    );

  it('web replicas take webhooks, worker replicas work the jobs, both on Redis', () => {
    const web = deployment('tidemark');
    const worker = deployment('tidemark-worker');
    expect(web.spec.replicas).toBe(2);
    expect(env(web)).toMatchObject({ TIDEMARK_ROLE: 'serve', REDIS_URL: 'secret:tidemark-redis' });
    expect(worker.spec.template.spec.containers[0].args).toEqual(['worker']);
    expect(env(worker)).toMatchObject({ REDIS_URL: 'secret:tidemark-redis', APP_ID: 'secret:tidemark' });
    expect(worker.spec.template.spec.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
    });
  });

  it('the Service sends webhooks to web pods only, and web keeps one pod through a drain', () => {
    const svc = objects.find((o) => o.kind === 'Service')!;
    const workerLabels = deployment('tidemark-worker').spec.template.metadata.labels;
    expect(Object.entries(svc.spec.selector).every(([k, v]) => workerLabels[k] === v)).toBe(false);
    expect(objects.find((o) => o.kind === 'PodDisruptionBudget')!.spec).toMatchObject({ minAvailable: 1 });
  });
});

/** Renders `dir`, or a kustomization that takes `dir` as its resource and adds `extra` (an overlay of a user). */
function render(dir: string, extra?: string): Obj[] {
  let target = join(ROOT, dir);
  let tmp: string | undefined;
  if (extra) {
    tmp = mkdtempSync(join(tmpdir(), 'tidemark-kustomize-'));
    writeFileSync(
      join(tmp, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(tmp, target)}\n${extra}`,
    );
    target = tmp;
  }
  try {
    const out = execFileSync('kubectl', ['kustomize', target], { encoding: 'utf8' });
    return parseAllDocuments(out).map((d) => d.toJS() as Obj);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
const containersOf = (objects: Obj[]) =>
  objects.filter((o) => o.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers as Loose[]);
const ports = (np: Obj) =>
  (np.spec.egress as Loose[])
    .flatMap((e) => (e.ports as Loose[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`))
    .sort();

describe.each(['deploy/base', 'deploy/overlays/redis'])('%s for production', (dir) => {
  const objects = render(dir);

  it('every namespaced object is in the tidemark namespace', () => {
    const namespaced = objects.filter((o) => !CLUSTER_SCOPED.has(o.kind));
    expect(namespaced.length).toBeGreaterThan(3);
    for (const o of namespaced)
      expect((o.metadata as Loose).namespace, `${o.kind}/${o.metadata.name}`).toBe('tidemark');
  });

  it('every container gets the registry credentials (DOCKER_CONFIG from a Secret mount)', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      const dockerConfig = c.env.find((e: Loose) => e.name === 'DOCKER_CONFIG')?.value;
      expect(dockerConfig, d.metadata.name).toBe('/etc/tidemark/docker');
      const mount = c.volumeMounts.find((m: Loose) => m.mountPath === dockerConfig);
      expect(mount, d.metadata.name).toBeDefined();
      const volume = pod.volumes.find((v: Loose) => v.name === mount.name);
      expect(volume.secret).toMatchObject({ secretName: 'tidemark-registry-credentials', optional: true });
      expect(volume.secret.items).toEqual([{ key: '.dockerconfigjson', path: 'config.json' }]);
    }
  });

  it('one images: entry names every tidemark container', () => {
    expect(containersOf(objects).map((c) => c.image)).toEqual(
      containersOf(objects).map(() => 'ghcr.io/tidemark-dev/tidemark:0.1.0'),
    );
    const mine = render(
      dir,
      'images:\n  - name: ghcr.io/tidemark-dev/tidemark\n    newName: registry.example.com/platform/tidemark\n    newTag: 9.9.9\n',
    );
    const images = containersOf(mine).map((c) => c.image);
    expect(images.length).toBe(dir.endsWith('redis') ? 2 : 1);
    for (const i of images) expect(i).toBe('registry.example.com/platform/tidemark:9.9.9');
  });

  it('egress: DNS and HTTPS (and Redis on the overlay), for every pod that runs tidemark', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(policies.length).toBe(dir.endsWith('redis') ? 2 : 1);
    const extra = dir.endsWith('redis') ? ['6379/TCP'] : [];
    for (const np of policies)
      expect(ports(np), np.metadata.name).toEqual(['443/TCP', '53/TCP', '53/UDP', ...extra].sort());
    // Every Deployment's pods are selected by some policy.
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const labels = d.spec.template.metadata.labels;
      expect(
        policies.some((np) =>
          Object.entries(np.spec.podSelector.matchLabels).every(([k, v]) => labels[k] === v),
        ),
        d.metadata.name,
      ).toBe(true);
    }
  });

  it('a registry on another port is one documented patch away', () => {
    const patched = render(
      dir,
      'patches:\n  - target: { kind: NetworkPolicy }\n    patch: |-\n      - op: add\n        path: /spec/egress/-\n        value: { ports: [{ port: 5000, protocol: TCP }] }\n',
    );
    for (const np of patched.filter((o) => o.kind === 'NetworkPolicy'))
      expect(ports(np)).toContain('5000/TCP');
    expect(readFileSync(join(ROOT, 'deploy/README.md'), 'utf8')).toContain(
      'value: { ports: [{ port: 5000, protocol: TCP }] }',
    );
  });

  it('the Ingress has a class and TLS for its host', () => {
    const ing = objects.find((o) => o.kind === 'Ingress')!;
    expect(ing.spec.ingressClassName).toBeTruthy();
    const host = ing.spec.rules[0].host;
    expect(ing.spec.tls).toEqual([{ hosts: [host], secretName: 'tidemark-tls' }]);
  });
});

describe('deploy/flux', () => {
  it('deploys deploy/base into the tidemark namespace', () => {
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/flux/tidemark.yaml'), 'utf8')).map(
      (d) => d.toJS() as Obj,
    );
    const k = docs.find((d) => d.kind === 'Kustomization')!;
    expect(k.spec).toMatchObject({ path: './deploy/base', targetNamespace: 'tidemark', prune: true });
  });
});
