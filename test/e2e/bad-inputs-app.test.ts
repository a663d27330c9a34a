/**
 * The bad-inputs table (test/support/bad-inputs.ts) through the running App: each case is a repo of its own,
 * installed while tidemark runs; after its first run has finished, the `tidemark` check run on its head names
 * the problem (file, line, field, what to write instead), the files that must be left alone are unchanged on
 * every branch tidemark pushed, and the files the rest of the run updates are changed (in its PR, or on main in push mode).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from '../support/bad-inputs.js';
import { pushImage } from '../support/images.js';
import { type Env, startEnv } from './harness.js';

describe('bad inputs through the App', () => {
  let env: Env;
  let installationId: number;
  let host: string;
  beforeAll(async () => {
    env = await startEnv(async (double, reg) => {
      installationId = double.addInstallation('acme');
      for (const tag of ['1.0.0', '1.1.0', 'main-1700000000'])
        await pushImage(reg, 'acme/web', tag, { seed: `bad-${tag}` });
    });
    host = env.reg.host;
  });
  afterEach(() => env.gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  // The CLI prints one line per policy; the check run has a row per policy instead. Those lines are the CLI's.
  const cliOnly = (s: string | RegExp) => typeof s === 'string' && /^flux-system:web \S+ \(/.test(s);

  it.each(Object.entries(CASES).map(([name, c], i) => [name, c, i] as const))('%s', async (_name, c, i) => {
    const name = `bad-${i}`;
    const swap = (t: string) => t.replaceAll('ghcr.io/acme/web', `${host}/acme/web`);
    const files = Object.fromEntries(Object.entries(c.files).map(([p, t]) => [p, swap(t)]));
    await env.addRepo({ installationId, owner: 'acme', name, files });
    await env.idle();
    const { gh } = env;
    // The check run of the last run (in push mode tidemark's own commit moves main, and is run again).
    const check = gh
      .checkRuns('acme', name)
      .filter((r) => r.name === 'tidemark')
      .at(-1);
    // Text from the repo reaches Markdown escaped (no HTML, no @-mention): read it back as a person sees it.
    const shown = `${check?.output?.title}\n${check?.output?.summary}\n${check?.output?.text}`
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&')
      .replaceAll('\u200b', '');
    for (const s of c.says.filter((x) => !cliOnly(x))) {
      if (typeof s === 'string') expect(shown).toContain(swap(s));
      else expect(shown).toMatch(new RegExp(swap(s.source), s.flags));
    }
    if (c.exit === 2) expect(check?.conclusion).toBe('failure');
    const branches = gh.pulls('acme', name).map((p) => p.head.ref);
    for (const ref of ['main', ...branches])
      for (const f of c.untouched)
        expect(await gh.readFile('acme', name, ref, f), `${f} on ${ref}`).toBe(files[f]);
    for (const f of c.changed ?? []) {
      // The rest of the run proceeds: in a PR, or on main in push mode.
      const changed = await Promise.all(
        ['main', ...branches].map((ref) => gh.readFile('acme', name, ref, f)),
      );
      expect(
        changed.some((t) => t !== null && t !== files[f]),
        `${f} changed in a PR or on main`,
      ).toBe(true);
    }
  });
});
