import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../src/core/config/repo-config.js';
import { selectLatest } from '../../src/core/policy/index.js';

const DIR = join(import.meta.dirname, '..', '..', 'policies', 'examples');
const TAGS: Record<string, [string[], string]> = {
  'semver.yml': [['1.2.3', 'v1.10.0', '2.0.0', '1.11.0-rc.1'], 'v1.10.0'],
  'main-sha-timestamp.yml': [
    ['main-0a1b2c3-1700000000', 'main-ffee001-1700000500', 'pr-12-1800000000'],
    'main-ffee001-1700000500',
  ],
  'production-build-number.yml': [['production-9', 'production-10', 'staging-99'], 'production-10'],
  'semver-rc-sha.yml': [['1.4.0-rc2-0a1b2c3', '1.4.0-rc10-ffee001', '1.3.0-rc1-abc'], '1.4.0-rc2-0a1b2c3'],
  'helm-chart.yml': [['v1.13.0', 'v1.14.2', 'v1.15.0-alpha.1', 'v2.0.0'], 'v1.14.2'],
  'rfc3339-timestamp.yml': [
    ['2026-11-22T14-03-08Z', '2026-11-21T23-59-59Z', 'latest'],
    '2026-11-22T14-03-08Z',
  ],
};

describe('policies/examples', () => {
  it.each(readdirSync(DIR))('%s is valid and selects as documented', (file) => {
    const { config, errors } = loadRepoConfig([
      { path: '.github/tidemark.yml', text: readFileSync(join(DIR, file), 'utf8') },
    ]);
    expect(errors).toEqual([]);
    const [tags, expected] = TAGS[file]!;
    expect(selectLatest(config.policies[0]!, tags)).toMatchObject({ kind: 'selected', tag: expected });
  });
});
