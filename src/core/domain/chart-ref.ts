/**
 * Helm chart sources. A policy may watch a chart as it watches an image; its `image` then names the chart:
 * - `oci://<registry>/<path>/<chart>`: an OCI chart, read from the registry like an image. Helm stores a
 *   version's `+` as `_` in the tag (OCI tags cannot hold `+`), so tags are read back with `_` → `+`.
 * - `https://<repo-url>/<chart>` (or `http://`): a chart in an HTTP Helm repository, whose versions are the
 *   chart's entries in `<repo-url>/index.yaml`.
 * Pure.
 */
import { canonicalImageName, ImageRefError } from './image-ref.js';

export type ChartSource =
  | { readonly kind: 'oci' /** The OCI repository, canonical, no scheme. */; readonly image: string }
  | {
      readonly kind: 'http';
      /** The Helm repository's URL, no trailing slash. */
      readonly repositoryUrl: string;
      readonly chart: string;
    };

/** A chart's name (Helm allows letters, digits, `-`, `_` and `.`); the schema of `chart.name` uses it too. */
export const CHART_NAME_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$';
const CHART_NAME_RE = new RegExp(CHART_NAME_PATTERN);

/** The chart a policy's `image` names, or undefined for a container image. Throws on a malformed chart. */
export function chartSourceOf(image: string): ChartSource | undefined {
  if (image.startsWith('oci://')) return { kind: 'oci', image: canonicalImageName(image.slice(6)) };
  if (!/^https?:\/\//.test(image)) return undefined;
  const url = new URL(image);
  const path = url.pathname.replace(/\/+$/, '');
  const slash = path.lastIndexOf('/');
  const chart = decodeURIComponent(path.slice(slash + 1));
  if (!CHART_NAME_RE.test(chart)) throw new ImageRefError(`"${image}" does not end in a chart name`);
  url.pathname = path.slice(0, slash);
  url.search = '';
  url.hash = '';
  return { kind: 'http', repositoryUrl: url.toString().replace(/\/+$/, ''), chart };
}

/** True when `image` names a Helm chart (`oci://…` or `http(s)://…`). */
export function isChart(image: string): boolean {
  return image.startsWith('oci://') || image.startsWith('https://') || image.startsWith('http://');
}

/** The `image` of a chart policy: the repository's URL (`https://…` or `oci://…`) and the chart's name. */
export function chartImage(repository: string, chart: string): string {
  return `${repository.replace(/\/+$/, '')}/${chart}`;
}

/**
 * What registry notifications name for a watched image key: an OCI chart's registry path without `oci://`
 * (a push of the chart is a push to that repository); anything else as it is.
 */
export function notifiedImage(imageKey: string): string {
  return imageKey.startsWith('oci://') ? imageKey.slice(6) : imageKey;
}

/** An OCI tag as the chart version it stores (`1.2.3_build.1` → `1.2.3+build.1`). */
export function chartVersionOfTag(tag: string): string {
  return tag.replaceAll('_', '+');
}

/** A chart version as its OCI tag. */
export function tagOfChartVersion(version: string): string {
  return version.replaceAll('+', '_');
}
