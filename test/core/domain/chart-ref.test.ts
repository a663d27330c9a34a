/** How a policy's `image` names a Helm chart: parsed, formatted, and keyed for tags and notifications. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chartImage,
  chartSourceOf,
  chartVersionOfTag,
  notifiedImage,
  tagOfChartVersion,
} from '../../../src/core/domain/chart-ref.js';
import { imageKey } from '../../../src/core/plan/plan-files.js';

describe('chart references', () => {
  it.each([
    [
      'oci://ghcr.io/stefanprodan/charts/podinfo',
      { kind: 'oci', image: 'ghcr.io/stefanprodan/charts/podinfo' },
    ],
    [
      'https://charts.jetstack.io/cert-manager',
      { kind: 'http', repositoryUrl: 'https://charts.jetstack.io', chart: 'cert-manager' },
    ],
    [
      'https://example.com/helm/stable/redis',
      { kind: 'http', repositoryUrl: 'https://example.com/helm/stable', chart: 'redis' },
    ],
    ['ghcr.io/acme/web', undefined],
  ])('%s', (image, source) => {
    expect(chartSourceOf(image)).toEqual(source);
  });

  it('an OCI chart is watched, and notified, at its registry path', () => {
    const key = imageKey('oci://GHCR.io/Acme/charts/podinfo');
    expect(key).toBe('oci://ghcr.io/acme/charts/podinfo');
    expect(notifiedImage(key)).toBe('ghcr.io/acme/charts/podinfo');
    expect(imageKey('https://charts.jetstack.io/cert-manager')).toBe(
      'https://charts.jetstack.io/cert-manager',
    );
  });
});

describe('chartImage and chartSourceOf are a pair', () => {
  it('an HTTP repository URL and a chart name come back as they went in', () => {
    const segment = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 3 }), segment, (path, chart) => {
        const repositoryUrl = `https://charts.example.com${path.map((p) => `/${p}`).join('')}`;
        expect(chartSourceOf(chartImage(`${repositoryUrl}/`, chart))).toEqual({
          kind: 'http',
          repositoryUrl,
          chart,
        });
      }),
    );
  });

  it('a chart version and its OCI tag', () => {
    expect(tagOfChartVersion('1.2.3+build.7')).toBe('1.2.3_build.7');
    expect(chartVersionOfTag('1.2.3_build.7')).toBe('1.2.3+build.7');
    expect(chartVersionOfTag(tagOfChartVersion('v1.14.2'))).toBe('v1.14.2');
  });
});
