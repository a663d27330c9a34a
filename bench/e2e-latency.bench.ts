/**
 * Registry push → PR, end to end: a real docker-registry notifies tidemark, which opens (then updates) a PR on
 * the GitHub double. 50 pushes of increasing tags, one at a time; latency = push finished → PR shows the tag.
 * The settle window is 200 ms (production default 5 s), so this measures tidemark's own work.
 */
import { startEnv, until } from '../test/e2e/harness.js';
import { pushImage } from '../test/support/images.js';
import type { BenchReport } from './run.js';

const PUSHES = 50;

export default async function bench(report: BenchReport): Promise<void> {
  const env = await startEnv(async (gh, reg) => {
    await pushImage(reg, 'acme/web', '1.0.0', { seed: 'b1.0.0' });
    const inst = gh.addInstallation('acme');
    await gh.addRepo({
      installationId: inst,
      owner: 'acme',
      name: 'config',
      files: {
        'app.yaml': `image: ${reg.host}/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
        '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1" } }\n`,
      },
    });
  });
  try {
    const times: number[] = [];
    for (let i = 1; i <= PUSHES; i++) {
      const tag = `1.${i}.0`;
      await pushImage(env.reg, 'acme/web', tag, { seed: `b${tag}` });
      const t = performance.now();
      await until(
        `PR for ${tag}`,
        () => env.gh.pulls('acme', 'config').find((p) => p.state === 'open' && p.title.endsWith(` ${tag}`)),
        30_000,
      );
      times.push(performance.now() - t);
    }
    env.gh.assertNoValidationErrors();
    times.sort((a, b) => a - b);
    const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    report.figure(
      'registry push → PR (opened, then updated), median',
      p(0.5),
      'ms',
      `p99 ${p(0.99).toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms, ${PUSHES} pushes, settle 200 ms`,
    );
    report.figure(
      'PRs open at the end',
      env.gh.pulls('acme', 'config').filter((x) => x.state === 'open').length,
      'PR',
    );
  } finally {
    await env.stop();
  }
}
