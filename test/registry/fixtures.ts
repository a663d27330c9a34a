/** The registry webhook fixtures (copied from the research), with the provider each one is for. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryProvider } from '../../src/core/domain/types.js';

export const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'registry-webhooks');
export const SECRET = 'test-webhook-secret';
/** The host mapping the fixtures assume (README): Nexus needs one. */
export const FIXTURE_HOST_MAP: Readonly<Record<string, string>> = {
  'docker-hosted': 'nexus.example.com:8443',
};

export interface Fixture {
  readonly file: string;
  readonly provider: RegistryProvider;
  /** Lower-cased header names, as Node delivers them. */
  readonly headers: Record<string, string>;
  /** Raw body: JSON.stringify of the fixture body, the bytes the HMACs were computed over. */
  readonly body: string;
  readonly expect: { image: string; tag: string; digest: string | null }[];
}

/** File name → provider; a fixture that matches none fails the tests loudly. */
const PROVIDER_BY_NAME: readonly [RegExp, RegistryProvider][] = [
  [/dockerhub/, 'dockerhub'],
  [/distribution/, 'distribution'],
  [/harbor/, 'harbor'],
  [/quay/, 'quay'],
  [/^acr/, 'acr'],
  [/gar/, 'gar'],
  [/ecr/, 'ecr'],
  [/jfrog/, 'jfrog'],
  [/nexus/, 'nexus'],
  [/gitea/, 'gitea'],
  [/github|ghcr/, 'github'],
  [/cdevents/, 'cdevents'],
];

export function providerOf(file: string): RegistryProvider {
  const hit = PROVIDER_BY_NAME.find(([re]) => re.test(file));
  if (!hit) throw new Error(`fixture ${file}: no provider matches its name`);
  return hit[1];
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) as {
        headers: Record<string, string>;
        body: unknown;
        expect: Fixture['expect'];
      };
      const headers = Object.fromEntries(Object.entries(raw.headers).map(([k, v]) => [k.toLowerCase(), v]));
      return {
        file,
        provider: providerOf(file),
        headers,
        body: JSON.stringify(raw.body),
        expect: raw.expect,
      };
    });
}

export function loadFixture(file: string): Fixture {
  const f = loadFixtures().find((x) => x.file === file);
  if (!f) throw new Error(`no fixture ${file}`);
  return f;
}

/** The fixture body as an object, for building variants. */
export function bodyOf(file: string): Record<string, unknown> {
  return JSON.parse(loadFixture(file).body) as Record<string, unknown>;
}
