import { describe, expect, it } from 'vitest';
import { problemReport } from '../../../src/core/plan/report.js';

const w = (code: string, message: string) => ({ code, message });

describe('problemReport (pure)', () => {
  it('nothing to fix: no check run', () => {
    expect(problemReport([], [])).toBeUndefined();
    expect(
      problemReport([], [w('mutable-tag', 'a.yaml:1: latest'), w('event-digest-mismatch', 'x')]),
    ).toBeUndefined();
  });

  it('configuration errors fail the check, with the other fixes listed after them', () => {
    const r = problemReport(['.github/tidemark.yml:3: bad'], [w('policy-unused', 'ns:a: unused')])!;
    expect(r.conclusion).toBe('failure');
    expect(r.title).toBe('tidemark: 2 configuration problems');
    expect(r.text).toBe('- .github/tidemark.yml:3: bad\n- ns:a: unused');
  });

  it('only things that do nothing: neutral, each once', () => {
    const r = problemReport(
      [],
      [w('yaml-invalid', 'a.yaml:2: not valid'), w('yaml-invalid', 'a.yaml:2: not valid')],
    )!;
    expect(r).toMatchObject({
      conclusion: 'neutral',
      title: 'tidemark: 1 thing to fix',
      text: '- a.yaml:2: not valid',
    });
  });
});
