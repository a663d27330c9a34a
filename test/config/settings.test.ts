/** One list of TIDEMARK_* settings: the code reads no other, readEnv refuses others, the docs name every one. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { TIDEMARK_SETTINGS } from '../../src/config/settings.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function filesUnder(dir: string, ext: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && ext.test(e.name)) out.push(join(e.parentPath, e.name));
  return out;
}

const namesIn = (text: string) => new Set(text.match(/TIDEMARK_[A-Z0-9_]+/g) ?? []);

describe('TIDEMARK_* settings', () => {
  it('the code reads only listed settings, and every listed one is read somewhere', async () => {
    const used = new Set<string>();
    for (const f of await filesUnder(join(ROOT, 'src'), /\.ts$/))
      for (const n of namesIn(await readFile(f, 'utf8')))
        if (!['TIDEMARK_CONFIG_SCHEMA', 'TIDEMARK_SETTINGS'].includes(n)) used.add(n);
    for (const n of TIDEMARK_SETTINGS) used.delete(n);
    expect([...used]).toEqual([]);
  });

  it('every setting is documented (README or docs/)', async () => {
    let docs = await readFile(join(ROOT, 'README.md'), 'utf8');
    for (const f of await filesUnder(join(ROOT, 'docs'), /\.md$/)) docs += await readFile(f, 'utf8');
    const documented = namesIn(docs);
    expect(TIDEMARK_SETTINGS.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('a misspelt setting is refused with the nearest name', () => {
    const r = readEnv({ TIDEMARK_RECONCILE_INTERVALL: '5m' }, { workDir: '/tmp' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([
      'TIDEMARK_RECONCILE_INTERVALL: not a tidemark setting; did you mean TIDEMARK_RECONCILE_INTERVAL? (the settings are listed in the README, "Configuration (environment)")',
    ]);
  });
});
