/** Running a piece of work in a span of its own: ended when the work ends, failures recorded. */
import { SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { messageOf } from '../../errors';

function failed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : messageOf(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(err) });
}

/** Runs `work` synchronously as the active span `name`. */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  work: (span: Span) => T,
): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      return work(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Runs `work` as the active span `name`, ended once its promise settles. */
export function inAsyncSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}
