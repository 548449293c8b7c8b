/** OpenTelemetry tracing: settings, the process's tracer, propagation and Verdict's own spans. */
export {
  startTracing,
  tracerName,
  tracingOff,
  type Tracing,
  type TracingExporter,
  type TracingSettings,
} from './tracing';
export { callerContext, decisionTraceId, traceResponse } from './propagation';
export { startRequestSpan } from './http';
export { inAsyncSpan, inSpan } from './spans';
export { traceDatabase } from './database';
export { traceRedis } from './redis';
