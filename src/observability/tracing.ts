/**
 * OpenTelemetry tracing: webhook → job → reconcile → publish. With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go
 * to that collector over OTLP/HTTP; without it every call here is a no-op (the API's default tracer).
 * The webhook's trace context travels with the job (W3C traceparent), so a job's span is a child of the
 * delivery that caused it.
 */
import { context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

export interface Tracing {
  shutdown(): Promise<void>;
}

export async function startTracing(opts: { endpoint?: string; serviceName?: string }): Promise<Tracing> {
  if (!opts.endpoint) return { shutdown: async () => {} };
  const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const exporter = new OTLPTraceExporter({ url: `${opts.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'tidemark' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  provider.register();
  return {
    async shutdown() {
      await provider.forceFlush();
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

const tracer = () => trace.getTracer('tidemark');

/** Run `fn` in a span; errors mark the span and are rethrown. `parent` is a carrier from `currentCarrier`. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
  parent?: Record<string, string>,
): Promise<T> {
  const ctx = parent ? propagation.extract(context.active(), parent) : context.active();
  return tracer().startActiveSpan(name, { attributes }, ctx, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : new Error(String(err)));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active trace context as a W3C carrier (`traceparent`), to hand to a job. Empty when not tracing. */
export function currentCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
