import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  callerContext,
  decisionTraceId,
  startTracing,
  traceResponse,
  tracingOff,
} from '../../../../../api/services/tracing';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const parentId = '00f067aa0ba902b7';

describe('callerContext', () => {
  it('takes a valid traceparent and tracestate as a remote parent', () => {
    const spanContext = trace.getSpanContext(
      callerContext({ traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'a=1,b=2' }),
    );
    expect(spanContext).toMatchObject({ traceId, spanId: parentId, traceFlags: 1, isRemote: true });
    expect(spanContext?.traceState?.get('b')).toBe('2');
  });

  it('ignores a missing or malformed traceparent', () => {
    expect(callerContext({})).toBe(ROOT_CONTEXT);
    for (const traceparent of [
      'garbage',
      `00-${'0'.repeat(32)}-${parentId}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `ff-${traceId}-${parentId}-01`,
      `00-${traceId.toUpperCase()}-${parentId}-01`,
    ]) {
      expect(trace.getSpanContext(callerContext({ traceparent }))).toBeUndefined();
    }
  });
});

describe('decisionTraceId with tracing off', () => {
  it('is the caller’s trace id, sampled or not, and nothing without a valid one', () => {
    expect(decisionTraceId({ traceparent: `00-${traceId}-${parentId}-00` })).toBe(traceId);
    expect(decisionTraceId({ traceparent: `00-${traceId}-${parentId}-01` })).toBe(traceId);
    expect(decisionTraceId({})).toBeUndefined();
    expect(decisionTraceId({ traceparent: 'nonsense' })).toBeUndefined();
  });
});

describe('decisionTraceId inside a span', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    // What startTracing registers; set here too in case this file runs alone.
    context.setGlobalContextManager(manager);
  });

  it('is the span’s trace when sampled, the caller’s when not, else nothing', () => {
    const exporter = new InMemorySpanExporter();
    const kept = startTracing({ exporter: 'otlp', sampleRatio: 1 }, { spanExporter: exporter });
    const dropped = startTracing({ exporter: 'otlp', sampleRatio: 0 }, { spanExporter: exporter });
    const inSpanOf = (
      tracer: typeof kept.tracer,
      headers: Record<string, string>,
    ): string | undefined => {
      if (tracer === undefined) throw new Error('tracing should be on');
      const span = tracer.startSpan('request', {}, callerContext(headers));
      try {
        return context.with(trace.setSpan(ROOT_CONTEXT, span), () => decisionTraceId(headers));
      } finally {
        span.end();
      }
    };
    const own = inSpanOf(kept.tracer, {});
    expect(own).toMatch(/^[0-9a-f]{32}$/);
    expect(inSpanOf(dropped.tracer, {})).toBeUndefined();
    const caller = { traceparent: `00-${traceId}-${parentId}-00` };
    // The caller chose not to sample; its trace id is still the one to record.
    expect(inSpanOf(kept.tracer, caller)).toBe(traceId);
    expect(inSpanOf(dropped.tracer, caller)).toBe(traceId);
    // Only the sampled span of `kept` without a caller was exported.
    expect(exporter.getFinishedSpans().map((span) => span.spanContext().traceId)).toEqual([own]);
  });
});

describe('traceResponse', () => {
  it('names the trace, the span and whether it is sampled', () => {
    const spanId = 'a3ce929d0e0e4736';
    expect(traceResponse({ traceId, spanId, traceFlags: 1 })).toBe(`00-${traceId}-${spanId}-01`);
    expect(traceResponse({ traceId, spanId, traceFlags: 0 })).toBe(`00-${traceId}-${spanId}-00`);
  });
});

describe('startTracing', () => {
  it('makes no tracer while the exporter is off', async () => {
    const tracing = startTracing({ exporter: 'off', sampleRatio: 1 });
    expect(tracing).toBe(tracingOff);
    expect(tracing.tracer).toBeUndefined();
    await expect(tracing.shutdown()).resolves.toBeUndefined();
  });

  it('names the service on every span it exports', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ exporter: 'otlp', sampleRatio: 1 }, { spanExporter: exporter });
    tracing.tracer?.startSpan('work').end();
    const [span] = exporter.getFinishedSpans();
    expect(span?.resource.attributes['service.name']).toBe('verdict');
    expect(span?.instrumentationScope.name).toBe('verdict');
    await tracing.shutdown();
  });
});
