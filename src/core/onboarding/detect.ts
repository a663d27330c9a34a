/**
 * Image references in a config repo that has no `$imagepolicy` markers, each with the exact byte span of every
 * value a marker would hold. Pure.
 *
 * Both YAML files (read with the `yaml` package, so flow maps and quoting are understood) and line-level
 * templates (helmfile `*.gotmpl`, where a line may be `{{ … }}`) are turned into the same flat records —
 * (parent path, key, scalar value, span) — and one set of rules reads images from records that share a parent:
 *   - `image: repo:tag` anywhere (workload containers and init containers, docker-compose services, Helm values);
 *   - `image: {repository, tag}`, `{registry, repository, tag}`, `{name, tag}`, `{repository, tag, digest}`,
 *     at any depth (per component: `backend.image.tag`);
 *   - kustomize `images:` entries (`name`, `newName`, `newTag`, `digest`).
 * A value that is a template (`{{ … }}`) is reported, never touched; so is a line that already has a comment.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { chartImage } from '../domain/chart-ref.js';
import type { MarkerField, Warning } from '../domain/types.js';

/** One value a marker will sit beside. */
export interface SpanValue {
  readonly field: MarkerField;
  /** Offsets of the value's source text in the file, `[start, end)`. */
  readonly start: number;
  readonly end: number;
  /** Offset of the end of the value's line (before `\r\n` / `\n`): where a marker comment goes. */
  readonly lineEnd: number;
  /** 1-based. */
  readonly line: number;
  readonly value: string;
}

export type ImageShape = 'image' | 'image-map' | 'kustomize' | 'chart';

/** How a proposed chart policy names its chart (`chart:` of `.github/tidemark.yml`). */
export type ChartDeclaration =
  | { readonly repository: string; readonly name: string }
  | {
      readonly sourceRef: {
        readonly kind: 'HelmRepository';
        readonly name: string;
        readonly namespace?: string;
      };
      readonly name: string;
    };

export interface DetectedImage {
  readonly file: string;
  readonly line: number;
  readonly shape: ImageShape;
  /** The image as it will be written in a policy: registry/repository, no tag or digest. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  /** The values to mark (a `ref` for `repo:tag`; `name`/`tag`/`digest` for split forms). */
  readonly values: readonly SpanValue[];
  /** Where the reference was found, for messages: `spec.template.spec.containers[0].image`. */
  readonly path: string;
  /** A Helm chart's version (shape `chart`): `repository` is then the chart as a policy names it (chart-ref). */
  readonly chart?: ChartDeclaration;
}

export interface Detection {
  readonly images: readonly DetectedImage[];
  /** Values tidemark will not touch, each with why (a template, a line with a comment already, …). */
  readonly notes: readonly Warning[];
}

interface Rec {
  readonly parent: string;
  readonly key: string;
  readonly value: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly lineEnd: number;
  /** The value's line already carries a `#` comment after it. */
  readonly commented: boolean;
  readonly marked: boolean;
}

const TEMPLATE = /\{\{|\}\}|\$\{/;
/** A reference with a tag or a digest: `[registry/]repo[:tag][@sha256:…]`. */
const IMAGE_REF =
  /^(?<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

function lineInfo(text: string, offset: number): { lineEnd: number; rest: string } {
  let e = text.indexOf('\n', offset);
  if (e < 0) e = text.length;
  const lineEnd = e > 0 && text[e - 1] === '\r' ? e - 1 : e;
  return { lineEnd, rest: text.slice(offset, lineEnd) };
}

function record(
  text: string,
  lc: LineCounter,
  parent: string,
  key: string,
  value: string,
  start: number,
  end: number,
): Rec {
  const { lineEnd, rest } = lineInfo(text, end);
  return {
    parent,
    key,
    value,
    start,
    end,
    line: lc.linePos(start).line,
    lineEnd,
    commented: /(^|\s)#/.test(rest),
    marked: rest.includes('$imagepolicy'),
  };
}

/** Flat records of every `key: scalar` in a YAML file, with the path of the map that holds them. */
function yamlRecords(text: string): Rec[] | undefined {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return undefined;
  const out: Rec[] = [];
  const walk = (node: Node | null | undefined, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (k === undefined) continue;
        const v = pair.value as Node | null;
        if (isScalar(v) && typeof v.value === 'string' && v.range) {
          out.push(record(text, lc, path, k, v.value, v.range[0], v.range[1]));
        } else if (isScalar(v) && typeof v.value === 'number' && v.range) {
          // `tag: 1.20` is read as a number by YAML; keep its source text.
          out.push(record(text, lc, path, k, text.slice(v.range[0], v.range[1]), v.range[0], v.range[1]));
        } else walk(v, path === '' ? k : `${path}.${k}`);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item as Node, `${path}[${i}]`);
      });
    }
  };
  for (const d of docs) walk(d.contents as Node, '');
  return out;
}

const LINE =
  /^(?<indent>[ \t]*)(?<dash>-[ \t]+)?(?<key>[A-Za-z_][\w.-]*):(?:[ \t]+(?<value>"[^"]*"|'[^']*'|[^\s#][^#]*?))?[ \t]*(?<comment>#.*)?\r?$/;

/** Records from a template file, line by line, the parent path kept by indentation. */
function templateRecords(text: string): Rec[] {
  const lc = new LineCounter();
  let pos = 0;
  for (const line of text.split('\n')) {
    lc.addNewLine(pos);
    pos += line.length + 1;
  }
  const out: Rec[] = [];
  const stack: { indent: number; key: string }[] = [];
  let offset = 0;
  let seq = 0;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m?.groups) {
      const g = m.groups;
      const indent = (g.indent ?? '').length + (g.dash ? g.dash.length : 0);
      while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
      if (g.dash) seq++;
      const parent = [...stack.map((s) => s.key), ...(g.dash ? [`[${seq}]`] : [])].join('.');
      if (g.value === undefined) {
        stack.push({ indent, key: g.dash ? `[${seq}].${g.key}` : g.key! });
      } else {
        const raw = g.value.trim();
        const start =
          offset + line.indexOf(raw, (g.indent ?? '').length + (g.dash?.length ?? 0) + g.key!.length + 1);
        const value = /^["']/.test(raw) ? raw.slice(1, -1) : raw;
        const rest = line.slice(start - offset + raw.length).replace(/\r$/, '');
        out.push({
          parent,
          key: g.key!,
          value,
          start,
          end: start + raw.length,
          line: lc.linePos(start).line,
          lineEnd: offset + line.replace(/\r$/, '').length,
          commented: /(^|\s)#/.test(rest),
          marked: rest.includes('$imagepolicy'),
        });
      }
    }
    offset += line.length + 1;
  }
  return out;
}

/** A repository name with no tag or digest (a registry port is fine). */
function isBareName(name: string): boolean {
  const m = IMAGE_REF.exec(name);
  return !!m?.groups && !m.groups.tag && !m.groups.digest;
}

function span(r: Rec, field: MarkerField): SpanValue {
  return { field, start: r.start, end: r.end, lineEnd: r.lineEnd, line: r.line, value: r.value };
}

export function isTemplateFile(path: string): boolean {
  return /\.(gotmpl|tpl)$/.test(path);
}

export function isKustomization(path: string): boolean {
  return /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(path);
}

/** A chart version a marker can keep: a plain version, not a range (`^1.2`, `>=1`, `1.x`) or a template. */
const CHART_VERSION = /^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$/;

/** A Flux HelmRepository in the repo (as the configuration loader found it): where a HelmRelease's chart lives. */
export interface HelmRepositoryObject {
  readonly name: string;
  readonly namespace?: string;
  readonly url: string;
}

const isChartUrl = (u: string) => /^(https?|oci):\/\/[^\s]+$/.test(u);

/** Every image reference in `files` that a marker could keep up to date. */
export function detectImages(
  files: readonly { readonly path: string; readonly text: string }[],
  sources: readonly HelmRepositoryObject[] = [],
): Detection {
  const images: DetectedImage[] = [];
  const notes: Warning[] = [];
  for (const f of files) {
    const recs = isTemplateFile(f.path) ? templateRecords(f.text) : yamlRecords(f.text);
    if (!recs) continue;
    const byParent = new Map<string, Map<string, Rec>>();
    for (const r of recs) {
      const m = byParent.get(r.parent) ?? new Map<string, Rec>();
      if (!m.has(r.key)) m.set(r.key, r);
      byParent.set(r.parent, m);
    }
    const usable = (rs: readonly Rec[], what: string): boolean => {
      for (const r of rs) {
        if (r.marked) return false;
        if (TEMPLATE.test(r.value)) {
          notes.push({
            code: 'onboard-template',
            message: `${f.path}:${r.line}: ${what} is a template value (${r.value.slice(0, 60)}); left alone — set the value in the file the template reads, or add a marker by hand`,
            file: f.path,
            line: r.line,
          });
          return false;
        }
        if (r.commented) {
          notes.push({
            code: 'onboard-commented',
            message: `${f.path}:${r.line}: ${what} has a comment on its line already; add the marker by hand`,
            file: f.path,
            line: r.line,
          });
          return false;
        }
      }
      return true;
    };
    for (const [parent, keys] of byParent) {
      const at = (k: string) => (parent === '' ? k : `${parent}.${k}`);
      // `image: repo:tag`
      const img = keys.get('image');
      if (img) {
        const m = IMAGE_REF.exec(img.value);
        if (m?.groups && (m.groups.tag || m.groups.digest) && usable([img], `${at('image')}`)) {
          images.push({
            file: f.path,
            line: img.line,
            shape: 'image',
            path: at('image'),
            repository: m.groups.name!,
            ...(m.groups.tag && { tag: m.groups.tag }),
            ...(m.groups.digest && { digest: m.groups.digest }),
            values: [span(img, 'ref')],
          });
        }
      }
      // `image: {repository|name, tag[, registry][, digest]}`
      const leaf = parent.split('.').at(-1) ?? '';
      const repo = keys.get('repository') ?? (leaf === 'image' ? keys.get('name') : undefined);
      const tag = keys.get('tag');
      if (repo && tag && (leaf === 'image' || leaf.endsWith('Image') || keys.has('repository'))) {
        const registry = keys.get('registry');
        const digest = keys.get('digest');
        const name = registry ? `${registry.value.replace(/\/+$/, '')}/${repo.value}` : repo.value;
        if (isBareName(name) && usable([repo, tag, ...(digest ? [digest] : [])], at(tag.key))) {
          const values = [
            // With a separate `registry:`, the repository value is not the whole name: only the tag is marked.
            ...(registry ? [] : [span(repo, 'name')]),
            span(tag, 'tag'),
            ...(digest ? [span(digest, 'digest')] : []),
          ];
          images.push({
            file: f.path,
            line: tag.line,
            shape: 'image-map',
            path: parent,
            repository: name,
            tag: tag.value,
            ...(digest && { digest: digest.value }),
            values,
          });
        }
      }
      // Helm chart versions: a HelmRelease's chart, a helmfile release, a Chart.yaml dependency.
      const version = keys.get('version');
      if (version && CHART_VERSION.test(version.value)) {
        const chartAt = (chart: DetectedImage['chart'], repository: string) => {
          if (!usable([version], at('version'))) return;
          images.push({
            file: f.path,
            line: version.line,
            shape: 'chart',
            path: parent,
            repository,
            tag: version.value,
            values: [span(version, 'tag')],
            ...(chart && { chart }),
          });
        };
        const chartName = keys.get('chart')?.value;
        if (parent === 'spec.chart.spec' && chartName) {
          // A Flux HelmRelease: its sourceRef names a HelmRepository in the repo.
          const refKeys = byParent.get('spec.chart.spec.sourceRef');
          const refName = refKeys?.get('name')?.value;
          const refNs = refKeys?.get('namespace')?.value;
          const source =
            refKeys?.get('kind')?.value === 'HelmRepository' && refName
              ? sources.find((x) => x.name === refName && (!refNs || !x.namespace || x.namespace === refNs))
              : undefined;
          if (source && isChartUrl(source.url))
            chartAt(
              {
                sourceRef: { kind: 'HelmRepository', name: refName!, ...(refNs && { namespace: refNs }) },
                name: chartName,
              },
              chartImage(source.url, chartName),
            );
        } else if (/^releases\.?\[\d+\]$/.test(parent) && chartName) {
          // A helmfile release: `chart: oci://…/<name>` or `chart: <repository name>/<name>`.
          if (chartName.startsWith('oci://')) {
            const cut = chartName.lastIndexOf('/');
            chartAt({ repository: chartName.slice(0, cut), name: chartName.slice(cut + 1) }, chartName);
          } else if (/^[\w.-]+\/[\w.-]+$/.test(chartName)) {
            const [repoName, name] = chartName.split('/') as [string, string];
            const repo = [...byParent].find(
              ([p, k]) => /^repositories\.?\[\d+\]$/.test(p) && k.get('name')?.value === repoName,
            )?.[1];
            const raw = repo?.get('url')?.value?.replace(/\/+$/, '');
            // helmfile writes an OCI repository without a scheme (`url: ghcr.io/acme/charts`, `oci: true`).
            const url = raw && !raw.includes('://') ? `oci://${raw}` : raw;
            if (url && isChartUrl(url)) chartAt({ repository: url, name }, chartImage(url, name));
          }
        } else if (/(^|\/)Chart\.yaml$/.test(f.path) && /^dependencies\[\d+\]$/.test(parent)) {
          // A Chart.yaml dependency: `repository` is the chart repository's URL.
          const name = keys.get('name')?.value;
          const url = keys.get('repository')?.value?.replace(/\/+$/, '');
          if (name && url && isChartUrl(url)) chartAt({ repository: url, name }, chartImage(url, name));
        }
      }
      // kustomize `images:`: name, newName, newTag, digest
      if (isKustomization(f.path) && /^images\[\d+\]$/.test(parent)) {
        const kname = keys.get('newName') ?? keys.get('name');
        const ktag = keys.get('newTag');
        const kdigest = keys.get('digest');
        if (
          kname &&
          (ktag || kdigest) &&
          usable([kname, ...(ktag ? [ktag] : []), ...(kdigest ? [kdigest] : [])], at('newTag'))
        ) {
          images.push({
            file: f.path,
            line: (ktag ?? kdigest)!.line,
            shape: 'kustomize',
            path: parent,
            repository: kname.value,
            ...(ktag && { tag: ktag.value }),
            ...(kdigest && { digest: kdigest.value }),
            values: [
              ...(keys.has('newName') ? [span(kname, 'name')] : []),
              ...(ktag ? [span(ktag, 'tag')] : []),
              ...(kdigest ? [span(kdigest, 'digest')] : []),
            ],
          });
        }
      }
    }
  }
  images.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return { images, notes };
}
