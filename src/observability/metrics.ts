/**
 * Prometheus metrics (`/metrics`). One registry per process, passed to whoever records; no globals.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly webhooks: Counter<'source' | 'provider' | 'outcome'>;
  readonly jobs: Counter<'outcome'>;
  readonly jobsActive: Gauge;
  readonly reconcileDuration: Histogram<'outcome'>;
  readonly bumps: Counter<'policy' | 'mode'>;
  readonly githubCalls: Counter<'kind' | 'status'>;
  readonly githubRateRemaining: Gauge;
  readonly registryRequests: Counter<'host' | 'status'>;
  readonly pushToPr: Histogram;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tidemark_' });
  const registers = [registry];
  return {
    registry,
    webhooks: new Counter({
      name: 'tidemark_webhooks_total',
      help: 'Webhook deliveries received, by source (github|registry), provider and outcome',
      labelNames: ['source', 'provider', 'outcome'],
      registers,
    }),
    jobs: new Counter({
      name: 'tidemark_jobs_total',
      help: 'Reconcile runs, by outcome (succeeded|retried|failed|config-error)',
      labelNames: ['outcome'],
      registers,
    }),
    jobsActive: new Gauge({ name: 'tidemark_jobs_active', help: 'Reconcile runs in progress', registers }),
    reconcileDuration: new Histogram({
      name: 'tidemark_reconcile_duration_seconds',
      help: 'Duration of one repo reconcile run',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    bumps: new Counter({
      name: 'tidemark_bumps_total',
      help: 'Image bumps published, by policy and mode (pull-request|push)',
      labelNames: ['policy', 'mode'],
      registers,
    }),
    githubCalls: new Counter({
      name: 'tidemark_github_api_calls_total',
      help: 'GitHub API calls, by kind (rest|graphql) and status',
      labelNames: ['kind', 'status'],
      registers,
    }),
    githubRateRemaining: new Gauge({
      name: 'tidemark_github_rate_limit_remaining',
      help: 'x-ratelimit-remaining of the last GitHub API response',
      registers,
    }),
    registryRequests: new Counter({
      name: 'tidemark_registry_requests_total',
      help: 'Requests to container registries, by host and HTTP status',
      labelNames: ['host', 'status'],
      registers,
    }),
    pushToPr: new Histogram({
      name: 'tidemark_push_to_publish_seconds',
      help: 'Time from a registry push webhook to the commit or PR that carries it',
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    }),
  };
}
