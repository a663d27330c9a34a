import { describe, expect, it } from 'vitest';
import { didYouMean } from '../../../src/core/domain/did-you-mean.js';

describe('did you mean, on hostile input', () => {
  it('a 1 MiB unknown key costs no edit-distance work and suggests nothing', () => {
    expect(didYouMean('x'.repeat(1024 * 1024), ['policies', 'update', 'registries'])).toBeUndefined();
    expect(didYouMean('polices', ['policies', 'update', 'registries'])).toBe('policies');
  });
});
