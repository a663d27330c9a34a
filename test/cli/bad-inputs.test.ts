/**
 * Bad inputs through `tidemark plan`, table-driven: each is named with its file, line and field and what to
 * write instead; configuration errors exit 2 and write nothing; a file that cannot be used is left alone while
 * the others proceed.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { CASES, MARKED, POLICY, TAGS } from '../support/bad-inputs.js';
import { captureIO } from './capture-io.js';

describe('bad inputs through tidemark plan', () => {
  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-bad-'));
    try {
      for (const [path, text] of Object.entries(c.files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      await writeFile(join(dir, '..', `${dir.split('/').pop()}.tags.json`), JSON.stringify(TAGS));
      const tags = join(dir, '..', `${dir.split('/').pop()}.tags.json`);
      const io = captureIO();
      const code = await main(['plan', '--dir', dir, '--tags-file', tags, '--write'], io);
      const printed = io.out + io.err;
      expect(code, printed).toBe(c.exit);
      for (const s of c.says) {
        if (typeof s === 'string') expect(printed).toContain(s);
        else expect(printed).toMatch(s);
      }
      expect(printed).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // never a stack trace
      for (const f of c.untouched) expect(await readFile(join(dir, f), 'utf8'), f).toBe(c.files[f]);
      for (const f of c.changed ?? []) expect(await readFile(join(dir, f), 'utf8'), f).not.toBe(c.files[f]);
      await rm(tags, { force: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a marked file that is not UTF-8 (Latin-1) is left byte for byte, with a warning; the rest proceeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-bad-'));
    try {
      const latin1 = Buffer.concat([Buffer.from('x: caf'), Buffer.from([0xe9]), Buffer.from(`\n${MARKED}`)]);
      await mkdir(join(dir, '.github'), { recursive: true });
      await writeFile(join(dir, '.github', 'tidemark.yml'), POLICY());
      await writeFile(join(dir, 'latin1.yaml'), latin1);
      await writeFile(join(dir, 'good.yaml'), MARKED);
      const tags = join(dir, 'tags.json');
      await writeFile(tags, JSON.stringify(TAGS));
      const io = captureIO();
      expect(await main(['plan', '--dir', dir, '--tags-file', tags, '--write'], io)).toBe(0);
      expect(io.err).toContain('latin1.yaml: not UTF-8 text, so it is left alone');
      expect(await readFile(join(dir, 'latin1.yaml'))).toEqual(latin1);
      expect(await readFile(join(dir, 'good.yaml'), 'utf8')).toContain('ghcr.io/acme/web:1.1.0');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
