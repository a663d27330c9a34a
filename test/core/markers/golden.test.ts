import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PolicyResults } from '../../../src/core/domain/types.js';
import { findMarkers, isMarkerFile, rewriteMarkers } from '../../../src/core/markers/index.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'markers');
const results = JSON.parse(readFileSync(join(FIX, 'results.json'), 'utf8')) as PolicyResults;
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');

const cases = readdirSync(FIX)
  .filter((f) => f.endsWith('.in.yaml'))
  .map((f) => f.replace(/\.in\.yaml$/, ''));

describe('golden files: only marked values change, byte for byte', () => {
  it.each(cases)('%s', (name) => {
    const input = read(`${name}.in.yaml`);
    const out = rewriteMarkers(`${name}.yaml`, input, results);
    expect(out.text).toBe(read(`${name}.out.yaml`));
    // Idempotent: a second pass changes nothing.
    expect(rewriteMarkers(`${name}.yaml`, out.text, results).text).toBe(out.text);
    // No results: the input comes back unchanged.
    expect(rewriteMarkers(`${name}.yaml`, input, {}).text).toBe(input);
  });

  it('helmfile values.yaml.gotmpl is rewritten line by line', () => {
    const out = rewriteMarkers('values.yaml.gotmpl', read('values.yaml.gotmpl'), results);
    expect(out.text).toBe(read('values.out.gotmpl'));
  });

  it('a Helm chart template with {{ }} is rewritten line by line', () => {
    const path = 'chart/templates/deployment.yaml';
    const out = rewriteMarkers(path, read('chart/templates/deployment.in.yaml'), results);
    expect(out.text).toBe(read('chart/templates/deployment.out.yaml'));
  });
});

describe('change records and warnings', () => {
  it('records file, line, column, setter, policy key and field, old, new and the Kubernetes object', () => {
    const out = rewriteMarkers('apps/deployment.yaml', read('deployment.in.yaml'), results);
    expect(out.changes).toEqual([
      {
        file: 'apps/deployment.yaml',
        line: 11,
        column: 18,
        setter: 'flux-system:podinfo',
        key: 'flux-system:podinfo',
        field: 'ref',
        old: 'ghcr.io/stefanprodan/podinfo:6.4.0',
        new: 'ghcr.io/stefanprodan/podinfo:6.5.0',
        object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apps', name: 'podinfo' },
      },
      {
        file: 'apps/deployment.yaml',
        line: 16,
        column: 20,
        setter: 'flux-system:sidecar',
        key: 'flux-system:sidecar',
        field: 'ref',
        old: 'ghcr.io/acme/sidecar:1.0.0',
        new: 'ghcr.io/acme/sidecar:1.1.0',
        object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apps', name: 'podinfo' },
      },
    ]);
  });

  it('warns for a :digest marker with no digest and for an unknown policy, leaving both untouched', () => {
    const out = rewriteMarkers('digest.yaml', read('digest.in.yaml'), results);
    expect(out.warnings.map((w) => w.code).sort()).toEqual([
      'marker-digest-unknown',
      'marker-unknown-policy',
    ]);
    expect(out.changes.map((c) => c.setter)).toEqual(['flux-system:pinned', 'flux-system:pinned:digest']);
  });

  it('finds markers without parsing files that lack the token', () => {
    expect(findMarkers('a.yaml', 'image: x # {"$imagepolicy ": "a:b"}\n')).toEqual([]);
    expect(findMarkers('a.yaml', 'a: [unclosed\n')).toEqual([]);
  });

  it('a broken YAML file is left alone, with a warning naming the file and line, and never throws', () => {
    const text = 'ok: 1\na: [unclosed\ntag: 6.4.0 # {"$imagepolicy": "flux-system:podinfo:tag"}\n';
    const out = rewriteMarkers('broken.yaml', text, results);
    expect(out.text).toBe(text);
    expect(out.changes).toEqual([]);
    expect(out.warnings).toEqual([
      expect.objectContaining({ code: 'yaml-invalid', file: 'broken.yaml', line: expect.any(Number) }),
    ]);
    expect(out.warnings[0]!.message).toMatch(
      /^broken\.yaml:\d+: not valid YAML \(.+\); its markers are left alone/,
    );
    // A template with the same bytes is rewritten line by line, as templates always are.
    expect(rewriteMarkers('values.yaml.gotmpl', text, results).text).toContain('tag: 6.5.0 #');
  });
});

describe('which files', () => {
  it.each([
    ['a/b.yaml', true],
    ['a/b.yml', true],
    ['a/Kustomization', true],
    ['a/kustomization', false],
    ['a/b.YAML', false],
    ['a/b.json', false],
    ['a/values.yaml.gotmpl', true],
    ['a/_helpers.tpl', true],
  ])('%s → %s', (path, expected) => {
    expect(isMarkerFile(path)).toBe(expected);
  });
  it('extensions are configurable', () => {
    expect(isMarkerFile('a/values.yaml.gotmpl', [])).toBe(false);
    expect(isMarkerFile('a/x.j2', ['.j2'])).toBe(true);
  });
});
