/**
 * W3C trace context (`traceparent`, `tracestate`) between callers and Verdict. A caller's
 * context becomes the parent of the request's span; its trace id is what the decision's audit
 * row records. Verdict answers with a `traceresponse` header (W3C Trace Context Level 2) only
 * while it traces, naming its own span so a caller can find it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  ROOT_CONTEXT,
  TraceFlags,
  context,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

/** The caller's trace context; the root context when it sent none or a malformed one. */
export function callerContext(headers: IncomingHttpHeaders): Context {
  if (headers.traceparent === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
}

function isSampled(spanContext: SpanContext): boolean {
  return (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * The trace id a decision records: the trace of the request's span when Verdict traces it and
 * either sampled it or continued a caller's trace; with tracing off, the caller's own trace
 * id. Undefined when the request belongs to no trace anyone keeps.
 */
export function decisionTraceId(headers: IncomingHttpHeaders): string | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) {
    if (headers.traceparent === undefined) return undefined;
    return trace.getSpanContext(callerContext(headers))?.traceId;
  }
  const spanContext = span.spanContext();
  if (isSampled(spanContext)) return spanContext.traceId;
  // Not recorded here, but the caller's trace may be kept upstream.
  if (headers.traceparent === undefined) return undefined;
  return trace.getSpanContext(callerContext(headers))?.traceId;
}

/** The `traceresponse` header value naming `spanContext` (version 00). */
export function traceResponse(spanContext: SpanContext): string {
  const flags = isSampled(spanContext) ? '01' : '00';
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}
