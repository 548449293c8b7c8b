/**
 * OpenTelemetry tracing of the process: one tracer provider, made at start from the settings
 * (VERDICT_OTEL_*), or none. With tracing off there is no tracer at all: every traced place
 * tests `tracer === undefined` once and takes its plain path, so the decision path pays one
 * branch. Spans are made by hand at Verdict's own boundaries (HTTP, decision, cache, engine,
 * audit, database, Redis); nothing else is instrumented.
 */
import { context, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { verdictVersion } from '../../version';

export type TracingExporter = 'off' | 'otlp';

export interface TracingSettings {
  readonly exporter: TracingExporter;
  /** OTLP/HTTP traces URL; undefined: the standard OTEL_EXPORTER_OTLP_* variables, or the default. */
  readonly endpoint?: string | undefined;
  /** Share of new traces recorded (0 to 1); a caller's sampled flag is followed as it is. */
  readonly sampleRatio: number;
}

export interface Tracing {
  /** Undefined while tracing is off. */
  readonly tracer: Tracer | undefined;
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

export const tracingOff: Tracing = { tracer: undefined, shutdown: () => Promise.resolve() };

export const tracerName = 'verdict';

let contextManagerSet = false;

/**
 * Carries the active span across `await`s (AsyncLocalStorage), so child spans and the
 * database and Redis spans find their parent. Registered once per process, and only when
 * tracing is on.
 */
function useAsyncContext(): void {
  if (contextManagerSet) return;
  contextManagerSet = context.setGlobalContextManager(new AsyncLocalStorageContextManager());
}

/**
 * Starts tracing as the settings say. `spanExporter` replaces the OTLP exporter (tests pass
 * an in-memory one); its spans are handed over as each ends rather than in batches.
 */
export function startTracing(
  settings: TracingSettings,
  options: { spanExporter?: SpanExporter } = {},
): Tracing {
  if (settings.exporter === 'off' && options.spanExporter === undefined) return tracingOff;
  useAsyncContext();
  const processor =
    options.spanExporter === undefined
      ? new BatchSpanProcessor(
          new OTLPTraceExporter(settings.endpoint === undefined ? {} : { url: settings.endpoint }),
        )
      : new SimpleSpanProcessor(options.spanExporter);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: 'verdict',
      [ATTR_SERVICE_VERSION]: verdictVersion(),
    }),
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(settings.sampleRatio),
    }),
    spanProcessors: [processor],
  });
  return {
    tracer: provider.getTracer(tracerName, verdictVersion()),
    shutdown: () => provider.shutdown(),
  };
}
