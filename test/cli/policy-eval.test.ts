import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { captureIO } from './capture-io.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'policy');

describe('tidemark policy eval', () => {
  it('prints the tag a Flux ImagePolicy selects', async () => {
    const io = captureIO();
    const code = await main(
      ['policy', 'eval', '--policy', join(FIX, 'flux-semver.yaml'), '--tags', join(FIX, 'podinfo-tags.txt')],
      io,
    );
    expect(code).toBe(0);
    expect(io.out).toBe('6.5.1\n');
  });

  it('takes a lone Flux ImagePolicy (no ImageRepository): the tags come from --tags', async () => {
    const io = captureIO();
    const code = await main(
      [
        'policy',
        'eval',
        '--policy',
        join(FIX, 'flux-imagepolicy-alone.yaml'),
        '--tags',
        join(FIX, 'podinfo-tags.txt'),
      ],
      io,
    );
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toBe('6.5.1\n');
  });

  it.each([
    ['a policies/examples file', [join(ROOT, 'policies', 'examples', 'semver.yml')], 0, /^v1\.10\.0\n$/, ''],
    [
      'a file of several, --name picks one',
      [join(FIX, 'two-native.yml'), '--name', 'api'],
      0,
      /^2\.1\.0\n$/,
      '',
    ],
    [
      '--name as namespace:name',
      [join(FIX, 'two-native.yml'), '--name', 'flux-system:web'],
      0,
      /^1\.5\.0\n$/,
      '',
    ],
    [
      'several and no --name',
      [join(FIX, 'two-native.yml')],
      2,
      /^$/,
      'holds 2 policies (web, api); pick one with --name',
    ],
    [
      'a --name it does not hold',
      [join(FIX, 'two-native.yml'), '--name', 'apy'],
      2,
      /^$/,
      'no policy named "apy"; did you mean "api"?',
    ],
  ] as const)('takes %s', async (_name, args, code, out, err) => {
    const io = captureIO();
    const tags = args[0].endsWith('semver.yml')
      ? join(FIX, 'semver-example-tags.txt')
      : join(FIX, 'two-tags.txt');
    expect(await main(['policy', 'eval', '--policy', ...args, '--tags', tags], io), io.err).toBe(code);
    expect(io.out).toMatch(out);
    expect(io.err).toContain(err);
  });

  it('reads tags from stdin and prints JSON with skipped candidates', async () => {
    const io = captureIO({ stdin: 'production-12\nproduction-9\nproduction-x\nlatest\n' });
    const code = await main(
      ['policy', 'eval', '--policy', join(FIX, 'native-numerical.yaml'), '--tags', '-', '--json'],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ tag: 'production-12', considered: 2, skipped: [] });
  });

  it('exits 1 with the reason when nothing qualifies', async () => {
    const io = captureIO({ stdin: 'latest\n' });
    const code = await main(['policy', 'eval', '--policy', join(FIX, 'flux-semver.yaml'), '--tags', '-'], io);
    expect(code).toBe(1);
    expect(io.err).toContain('no tag satisfies semver range ">=6.0.0 <7.0.0"');
  });

  it('exits 2 naming the field, file and line of an invalid policy', async () => {
    const io = captureIO({ stdin: '1.0.0\n' });
    const code = await main(
      ['policy', 'eval', '--policy', join(FIX, 'invalid-range.yaml'), '--tags', '-'],
      io,
    );
    expect(code).toBe(2);
    expect(io.err).toMatch(/invalid-range\.yaml:1: spec\.policy\.semver\.range: invalid range "\^1\.x\.y"/);
  });

  it('exits 2 on unreadable input and on missing options', async () => {
    const io = captureIO();
    expect(await main(['policy', 'eval', '--policy', '/nonexistent.yaml', '--tags', '-'], io)).toBe(2);
    expect(io.err).toContain('cannot read input');
    expect(await main(['policy', 'eval'], captureIO())).toBe(2);
  });

  it('works as a real process through the CLI entry point', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src', 'cli.ts'),
        'policy',
        'eval',
        '--policy',
        join(FIX, 'flux-semver.yaml'),
        '--tags',
        '-',
      ],
      { input: '6.9.9\n7.1.0\n', encoding: 'utf8', cwd: ROOT },
    );
    expect(r.stdout).toBe('6.9.9\n');
    expect(r.status).toBe(0);
  });
});
