/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, a registry push produces one trace: the registry webhook span, and
 * under it the job, reconcile and publish spans, exported over OTLP/HTTP to a real HTTP receiver.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage } from '../support/images.js';
import { type Env, startEnv, until } from './harness.js';

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

describe('tracing', () => {
  let collector: Server;
  const spans: OtlpSpan[] = [];
  let env: Env;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const json = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
          for (const rs of json.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    env = await startEnv(
      async (gh, reg) => {
        await pushImage(reg, 'acme/web', '1.0.0', { seed: 't1.0.0' });
        const inst = gh.addInstallation('acme');
        await gh.addRepo({
          installationId: inst,
          owner: 'acme',
          name: 'traced',
          files: {
            'app.yaml': `image: ${reg.host}/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
            '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1" } }\n`,
          },
        });
      },
      () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
    );
  });
  afterAll(async () => {
    await env?.stop();
    await new Promise<void>((r) => collector?.close(() => r()));
  });

  it('webhook → job → reconcile → publish in one trace', async () => {
    await pushImage(env.reg, 'acme/web', '1.1.0', { seed: 't1.1.0' });
    await until('a PR', () => env.gh.pulls('acme', 'traced')[0]);
    const hook = await until('the registry webhook span', () =>
      spans.find((s) => s.name === 'webhook registry distribution'),
    );
    const job = await until('its job span', () =>
      spans.find((s) => s.name === 'job' && s.traceId === hook.traceId),
    );
    expect(job.parentSpanId).toBe(hook.spanId);
    const reconcile = await until('reconcile', () =>
      spans.find((s) => s.name === 'reconcile' && s.traceId === hook.traceId),
    );
    const publish = await until('publish', () =>
      spans.find((s) => s.name === 'publish' && s.traceId === hook.traceId),
    );
    expect(reconcile.parentSpanId).toBe(job.spanId);
    expect(publish.parentSpanId).toBe(job.spanId);
  });
});
