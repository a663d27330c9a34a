/**
 * A generated config repo for end-to-end benchmarks: `files` YAML files (Deployments of ~40 lines), `marked`
 * of them carrying markers for `images` images (each marked file names two policies, full-ref and `:tag`
 * markers), one `.github/tidemark.yml` with a semver policy per image, and a tags file with 200 tags per image
 * (versions 1.0.0 … 1.9.19). Deterministic: the same arguments give the same bytes.
 *
 *   node --import tsx bench/gen-repo.ts <dir> [files=10000] [markedPercent=40] [images=20] [group=per-policy]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface GenOptions {
  readonly files: number;
  readonly markedPercent: number;
  readonly images: number;
  readonly group: 'per-policy' | 'all';
  /** Where the images live (default `registry.example.com/acme`): a real registry's host for the App bench. */
  readonly registry?: string;
}

/** The n-th file; `k` counts the marked files, so markers spread over every image whatever the spacing. */
function deployment(n: number, k: number | undefined, images: number, image: (i: number) => string): string {
  const marked = k !== undefined;
  const a = (k ?? n) % images;
  const b = ((k ?? n) * 7 + 3) % images;
  const lines = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: app-${n}`,
    `  namespace: team-${n % 13}`,
    '  labels:',
    `    app.kubernetes.io/name: app-${n}`,
    '    app.kubernetes.io/part-of: platform',
    'spec:',
    '  replicas: 2',
    '  selector:',
    '    matchLabels:',
    `      app.kubernetes.io/name: app-${n}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app.kubernetes.io/name: app-${n}`,
    '    spec:',
    '      containers:',
    '        - name: main',
    marked
      ? `          image: ${image(a)}:1.0.${n % 7} # {"$imagepolicy": "flux-system:svc-${a}"}`
      : `          image: ${image(a)}:1.0.${n % 7}`,
    '          ports:',
    '            - containerPort: 8080',
    '          env:',
    '            - name: LOG_LEVEL',
    '              value: info',
    '            - name: SIDECAR_TAG',
    marked
      ? `              value: "1.0.${n % 5}" # {"$imagepolicy": "flux-system:svc-${b}:tag"}`
      : `              value: "1.0.${n % 5}"`,
    '          resources:',
    '            requests: { cpu: 100m, memory: 128Mi }',
    '            limits: { memory: 256Mi }',
    '          readinessProbe:',
    '            httpGet: { path: /ready, port: 8080 }',
    '          livenessProbe:',
    '            httpGet: { path: /live, port: 8080 }',
    '      securityContext:',
    '        runAsNonRoot: true',
    '',
  ];
  return lines.join('\n');
}

export async function generateRepo(dir: string, o: GenOptions): Promise<{ tagsFile: string }> {
  const registry = o.registry ?? 'registry.example.com/acme';
  const image = (i: number) => `${registry}/svc-${i}`;
  const marked = Math.round((o.files * o.markedPercent) / 100);
  const step = o.files / Math.max(1, marked);
  const markIndex = new Map(Array.from({ length: marked }, (_, i) => [Math.floor(i * step), i]));
  for (let n = 0; n < o.files; n++) {
    const sub = join(dir, 'apps', `team-${n % 50}`);
    if (n < 50) await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `app-${n}.yaml`), deployment(n, markIndex.get(n), o.images, image));
  }
  await mkdir(join(dir, '.github'), { recursive: true });
  const policies = Array.from(
    { length: o.images },
    (_, i) => `  - name: svc-${i}\n    image: ${image(i)}\n    policy: { semver: { range: "^1.0.0" } }\n`,
  ).join('');
  await writeFile(
    join(dir, '.github', 'tidemark.yml'),
    `policies:\n${policies}update:\n  group: ${o.group}\n`,
  );
  const tags: Record<string, string[]> = {};
  for (let i = 0; i < o.images; i++) {
    const list: string[] = [];
    for (let minor = 0; minor < 10; minor++)
      for (let patch = 0; patch < 20; patch++) list.push(`1.${minor}.${patch}`);
    tags[image(i)] = list;
  }
  const tagsFile = join(dir, '..', `${dir.split('/').pop()}.tags.json`);
  await writeFile(tagsFile, JSON.stringify(tags));
  return { tagsFile };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, files = '10000', pct = '40', images = '20', group = 'per-policy'] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: gen-repo.ts <dir> [files] [markedPercent] [images] [per-policy|all]');
    process.exit(2);
  }
  const { tagsFile } = await generateRepo(dir, {
    files: Number(files),
    markedPercent: Number(pct),
    images: Number(images),
    group: group === 'all' ? 'all' : 'per-policy',
  });
  console.log(tagsFile);
}
