/**
 * Lints the Dockerfile for the rules this project holds to (no hadolint in Debian 12): multi-stage, pinned
 * bases, build steps shared with CI through scripts/container-build.sh, non-root, healthcheck, exec form.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const lines = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const instr = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(`${name} `));
const finalStage = lines.slice(lines.map((l) => l.toUpperCase().startsWith('FROM ')).lastIndexOf(true));

describe('Dockerfile', () => {
  it('is multi-stage with pinned base images (no latest, no untagged)', () => {
    const froms = instr('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM \S+:(?!latest)\S+/);
  });

  it('runs the shared build script, so CI proves the same steps', () => {
    const runs = instr('RUN');
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) expect(r).toMatch(/container-build\.sh (build|install-runtime)$/);
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain('container-build.sh check');
  });

  it('the final stage runs as a non-root user with a healthcheck and an exec-form entry point', () => {
    const user = finalStage.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)$/);
    expect(finalStage.some((l) => l.startsWith('HEALTHCHECK ') && l.includes('/healthz'))).toBe(true);
    expect(finalStage.find((l) => l.startsWith('ENTRYPOINT '))).toMatch(/^ENTRYPOINT \[/);
  });

  it('adds nothing from URLs and bakes in no secrets', () => {
    expect(instr('ADD')).toEqual([]);
    expect(text).not.toMatch(/PRIVATE_KEY|WEBHOOK_SECRET|APP_ID=/);
  });

  it('the runtime install cleans apt lists and installs only what it needs', () => {
    const script = readFileSync(join(ROOT, 'scripts/container-build.sh'), 'utf8');
    expect(script).toContain('--no-install-recommends git ca-certificates');
    expect(script).toContain('rm -rf /var/lib/apt/lists/*');
  });
});
