import { describe, expect, it } from 'vitest';
import { previewReport, touchesConfig } from '../../../src/core/plan/preview.js';

const sel = (tag: string, markers = 1) => ({ status: 'selected' as const, tag, markers });

describe('previewReport (pure)', () => {
  it('same picks, no errors: success, nothing bold', () => {
    const side = { perPolicy: { 'ns:web': sel('1.1.0') }, errors: [], changes: [] };
    const r = previewReport(side, side, ['.github/tidemark.yml']);
    expect(r.conclusion).toBe('success');
    expect(r.title).toBe('tidemark preview: no change to what tidemark picks');
    expect(r.text).toContain('| ns:web | 1.1.0 | 1.1.0 |');
  });
  it('a different pick is neutral and bold; a new policy shows — on the base side', () => {
    const r = previewReport(
      { perPolicy: { 'ns:web': sel('1.1.0') }, errors: [], changes: [] },
      { perPolicy: { 'ns:web': sel('2.0.0'), 'ns:api': sel('3.0.0', 0) }, errors: [], changes: [] },
      ['a.yaml'],
    );
    expect(r.conclusion).toBe('neutral');
    expect(r.text).toContain('| ns:api | — | **3.0.0 (no marker)** |');
    expect(r.text).toContain('| ns:web | 1.1.0 | **2.0.0** |');
    expect(r.title).toBe('tidemark preview: 2 policies pick differently once merged');
  });
  it('errors the PR brings fail it, annotated on changed files only; errors already on the base do not', () => {
    const old = { file: 'old.yaml', line: 2, text: 'old.yaml:2: bad' };
    const fresh = { file: '.github/tidemark.yml', line: 4, text: '.github/tidemark.yml:4: semvr' };
    const r = previewReport(
      { perPolicy: {}, errors: [old], changes: [] },
      { perPolicy: {}, errors: [old, fresh], changes: [] },
      ['.github/tidemark.yml'],
    );
    expect(r.conclusion).toBe('failure');
    expect(r.annotations).toEqual([
      {
        path: '.github/tidemark.yml',
        start_line: 4,
        end_line: 4,
        annotation_level: 'failure',
        message: fresh.text,
      },
    ]);
    expect(
      previewReport(
        { perPolicy: {}, errors: [old], changes: [] },
        { perPolicy: {}, errors: [old], changes: [] },
        [],
      ).conclusion,
    ).toBe('success');
  });
  it('only YAML, Kustomizations and templates count as configuration', () => {
    expect(touchesConfig(['README.md', 'src/x.ts'])).toBe(false);
    expect(touchesConfig(['apps/a.yml'])).toBe(true);
    expect(touchesConfig(['Kustomization'])).toBe(true);
    expect(touchesConfig(['values.yaml.gotmpl'])).toBe(true);
  });
});
