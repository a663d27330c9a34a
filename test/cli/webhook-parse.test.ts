import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { loadFixtures } from '../registry/fixtures.js';
import { captureIO as captureIOWith } from './capture-io.js';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-webhook-parse-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const captureIO = (stdin = '') => captureIOWith({ stdin, cwd: dir });

async function fileWith(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('tidemark webhook parse', () => {
  it.each(loadFixtures().map((f) => [f.file, f] as const))(
    '%s prints its expect as JSON lines',
    async (file, fx) => {
      const body = await fileWith(file, fx.body);
      const headers = await fileWith(`${file}.headers.json`, JSON.stringify(fx.headers));
      const io = captureIO();
      const code = await main(
        [
          'webhook',
          'parse',
          '--provider',
          fx.provider,
          '--headers',
          headers,
          '--host-map',
          'docker-hosted=nexus.example.com:8443',
          body,
        ],
        io,
      );
      expect(io.err).toBe('');
      expect(code).toBe(0);
      const lines =
        io.out === ''
          ? []
          : io.out
              .trimEnd()
              .split('\n')
              .map((l) => JSON.parse(l));
      expect(lines).toEqual(fx.expect);
    },
  );

  it('reads the body from standard input with -', async () => {
    const fx = loadFixtures().find((f) => f.file === 'quay.json')!;
    const io = captureIO(fx.body);
    expect(await main(['webhook', 'parse', '--provider', 'quay', '-'], io)).toBe(0);
    expect(io.out).toBe(
      '{"image":"quay.io/acme/worker","tag":"v5.0.1","digest":null}\n{"image":"quay.io/acme/worker","tag":"latest","digest":null}\n',
    );
  });

  it('prints nothing and exits 0 for an ignored delivery', async () => {
    const io = captureIO('{"action":"ping","target":{}}');
    expect(await main(['webhook', 'parse', '--provider', 'acr', '-'], io)).toBe(0);
    expect(io.out).toBe('');
    expect(io.err).toBe('');
  });

  it('exits 2 with the field for a malformed body', async () => {
    const io = captureIO(
      '{"events":[{"action":"push","target":{"repository":7,"tag":"1"},"request":{"host":"r.example.com"}}]}',
    );
    expect(await main(['webhook', 'parse', '--provider', 'distribution', '-'], io)).toBe(2);
    expect(io.out).toBe('');
    expect(io.err).toMatch(/events\[0\]\.target\.repository: expected a string/);
  });

  it('exits 2 listing the valid providers for an unknown one', async () => {
    const io = captureIO('{}');
    expect(await main(['webhook', 'parse', '--provider', 'zot', '-'], io)).toBe(2);
    expect(io.err).toMatch(
      /unknown provider "zot".*dockerhub, distribution, harbor, quay, acr, gar, ecr, jfrog, nexus, github, gitea, cdevents/,
    );
  });

  it.each([
    ['no provider', ['-'], /--provider is required/],
    ['no body file', ['--provider', 'quay'], /exactly one body file/],
    ['bad host map', ['--provider', 'nexus', '--host-map', 'nohost', '-'], /--host-map "nohost"/],
    ['missing body file', ['--provider', 'quay', '/nonexistent/body.json'], /cannot read/],
  ])('exits 2 for bad usage: %s', async (_n, args, message) => {
    const io = captureIO('{}');
    expect(await main(['webhook', 'parse', ...args], io)).toBe(2);
    expect(io.err).toMatch(message);
  });

  it('rejects a headers file that is not an object of strings', async () => {
    const headers = await fileWith('bad-headers.json', '{"x-github-event": 1}');
    const io = captureIO('{}');
    expect(await main(['webhook', 'parse', '--provider', 'github', '--headers', headers, '-'], io)).toBe(2);
    expect(io.err).toMatch(/header "x-github-event" must be a string/);
  });

  it('runs as a real process', () => {
    const fx = loadFixtures().find((f) => f.file === 'dockerhub.json')!;
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'webhook', 'parse', '--provider', 'dockerhub', '-'],
      {
        cwd: ROOT,
        input: fx.body,
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"image":"docker.io/acme/web","tag":"1.4.2","digest":null}\n');
  });
});
