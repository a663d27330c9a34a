/**
 * The environment's schema (src/config/env-schema.ts) is the one source of the variables: their checks, the words
 * of a problem, the defaults, the TIDEMARK_* list; its precompiled validator and the README's table follow it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ENV_VALIDATOR_PATH, envValidatorModule } from '../../scripts/native-validator.js';
import { ENV_SCHEMA, ENV_VARIABLES, type EnvVariable, variableSchema } from '../../src/config/env-schema.js';
import { TIDEMARK_SETTINGS } from '../../src/config/settings.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the environment schema', () => {
  it('the precompiled validator is compiled from the schema as it is now (regenerate: npx tsx scripts/write-schema.ts)', () => {
    const committed = readFileSync(join(ROOT, ENV_VALIDATOR_PATH), 'utf8');
    expect(committed === envValidatorModule()).toBe(true);
  });

  it('TIDEMARK_SETTINGS is its TIDEMARK_ properties, in alphabetical order', () => {
    const names = ENV_VARIABLES.filter((n) => n.startsWith('TIDEMARK_'));
    expect([...TIDEMARK_SETTINGS]).toEqual([...names].sort());
    expect(TIDEMARK_SETTINGS).toContain('TIDEMARK_RECONCILE_INTERVAL');
  });

  it('every variable says what it holds and its default; every default passes its own check', () => {
    const ajv = new Ajv({ allErrors: true });
    ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
    const validate = ajv.compile(ENV_SCHEMA);
    for (const name of ENV_VARIABLES) {
      const s = variableSchema(name);
      expect(s.description, name).toMatch(/\. Default /);
      // A check a value can fail has words for the problem.
      if (s.pattern !== undefined) expect(s.expected, name).toBeTruthy();
      if (s.default !== undefined) expect(validate({ [name]: s.default }), name).toBe(true);
    }
  });

  it.each([
    ['PORT', ['0', '3000', ' 8080 '], ['-1', '80a', '3.5', '0x50']],
    ['TIDEMARK_CONCURRENCY', ['1', '4', '010'], ['0', '00', '-2', '1.5']],
    [
      'TIDEMARK_GITHUB_MAX_BODY_BYTES',
      ['1024', '1029', '1030', '1100', '2000', '9999', '10000', '26214400'],
      ['1023', '1019', '999', '0', '1e6', '1024.5'],
    ],
    ['TIDEMARK_SETTLE', ['500ms', '5s', '1.5s', '1h30m', '3d', '1w'], ['600', '5 s', 's', '5x', '']],
    ['WEBHOOK_PATH', ['/api/github/webhooks', '/'], ['api/github', '/a b']],
    ['GHE_HOST', ['github.example.com', 'ghe.lan:8443'], ['https://github.example.com', 'ghe/x']],
  ] as const)('%s: the pattern accepts %j and refuses %j', (name, good, bad) => {
    const pattern = new RegExp(variableSchema(name as EnvVariable).pattern!, 'u');
    for (const v of good) expect(pattern.test(v), v).toBe(true);
    for (const v of bad) expect(pattern.test(v), v).toBe(false);
  });

  it('the whole-number patterns agree with the numbers they stand for', () => {
    const body = new RegExp(variableSchema('TIDEMARK_GITHUB_MAX_BODY_BYTES').pattern!, 'u');
    const concurrency = new RegExp(variableSchema('TIDEMARK_CONCURRENCY').pattern!, 'u');
    for (let n = 0; n <= 12_000; n++) {
      expect(body.test(String(n))).toBe(n >= 1024);
      expect(concurrency.test(String(n))).toBe(n >= 1);
    }
  });
});

describe("the README's table of variables (Configuration (environment))", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration (environment)'));
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('| variable')))
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [names = '', dflt = ''] = l.split('|').slice(1, 3);
      const ticks = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { names: ticks(names), defaults: ticks(dflt) };
    });

  it('names only variables of the schema', () => {
    expect(rows.length).toBeGreaterThan(20);
    const unknown = rows.flatMap((r) => r.names).filter((n) => !(ENV_VARIABLES as string[]).includes(n));
    expect(unknown).toEqual([]);
  });

  it("gives the schema's defaults", () => {
    let compared = 0;
    for (const { names, defaults } of rows)
      for (const [i, dflt] of defaults.entries()) {
        const name = names[defaults.length === names.length ? i : 0] as EnvVariable;
        const s = variableSchema(name);
        // A default the reader applies is the schema's `default`; one applied elsewhere is in its description.
        if (s.default !== undefined) expect(dflt, name).toBe(s.default);
        else expect(s.description, name).toContain(`Default ${dflt}`);
        compared++;
      }
    expect(compared).toBeGreaterThan(12);
  });

  it('every variable is documented (README or docs/), but for those listed here', () => {
    let docs = readme;
    for (const f of readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' }))
      if (f.endsWith('.md')) docs += readFileSync(join(ROOT, 'docs', f), 'utf8');
    // Not in the README yet (a later change to the README adds them).
    const undocumented = ['NODE_ENV', 'WEBHOOK_PATH'];
    expect(ENV_VARIABLES.filter((n) => !docs.includes(`\`${n}\``) && !undocumented.includes(n))).toEqual([]);
  });
});
