/**
 * Renders deploy/base with `kubectl kustomize` and checks the objects a platform team relies on.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped YAML
type Loose = any;
type Obj = {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, Loose>;
};

describe.skipIf(!hasKubectl)('deploy/base (kubectl kustomize)', () => {
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

describe.skipIf(!hasKubectl)('deploy/overlays/redis (kubectl kustomize)', () => {
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
