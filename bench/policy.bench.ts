/** Policy selection over 100,000 mixed tags: semver range + filterTags pattern + extract. Goal: median < 50 ms. */
import { compilePolicy } from '../src/core/policy/select-latest.js';
import type { ImagePolicySpec } from '../src/core/policy/types.js';
import type { BenchReport } from './run.js';

function mixedTags(n: number): string[] {
  const tags: string[] = [];
  let x = 12345;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < n; i++) {
    switch (i % 5) {
      case 0:
        tags.push(`v${rnd() % 20}.${rnd() % 50}.${rnd() % 100}`);
        break;
      case 1:
        tags.push(`${rnd() % 20}.${rnd() % 50}.${rnd() % 100}-rc.${rnd() % 9}`);
        break;
      case 2:
        tags.push(`main-${rnd().toString(16)}-${1700000000 + i}`);
        break;
      case 3:
        tags.push(`production-${i}`);
        break;
      default:
        tags.push(`sha256-${rnd().toString(16).padStart(8, '0')}.sig`);
    }
  }
  return tags;
}

export default async function bench(report: BenchReport): Promise<void> {
  const tags = mixedTags(100_000);
  const spec: ImagePolicySpec = {
    name: 'bench',
    namespace: 'flux-system',
    image: 'ghcr.io/acme/app',
    exclusionList: ['^.*\\.sig$'],
    filterTags: { pattern: '^v?(?P<ver>[0-9]+\\.[0-9]+\\.[0-9]+(-rc\\.[0-9]+)?)$', extract: '$ver' },
    policy: { semver: { range: '>=1.0.0-0 <15.0.0' } },
    digestReflectionPolicy: 'Never',
    source: { kind: 'native' },
  };
  const policy = compilePolicy(spec);
  const c0 = performance.now();
  policy.select(tags);
  report.figure(
    'policy select, 100k tags, first (cold) run',
    performance.now() - c0,
    'ms',
    'every regex evaluated once',
  );
  for (let i = 0; i < 2; i++) policy.select(tags); // warm-up
  const times: number[] = [];
  let picked = '';
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const r = policy.select(tags);
    times.push(performance.now() - t);
    if (r.kind === 'selected') picked = r.tag;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  report.figure(
    'policy select, 100k tags, semver+filter+extract: median',
    median,
    'ms',
    `p90 ${times[18]!.toFixed(1)} ms, picked ${picked}`,
  );
  report.goal('policy select 100k tags < 50 ms (median)', median < 50, `${median.toFixed(1)} ms`);
}
