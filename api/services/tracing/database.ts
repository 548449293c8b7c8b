/**
 * A client span for each database query made inside a traced operation, from knex's own query
 * events (no driver patching). Queries with no active span — background work such as the
 * audit writer's batches and retention — make none, so they do not start traces of their own;
 * nor do queries in the context of a span already ended (work a timer set during a request
 * runs later, such as a batch the writer flushes after its interval).
 * The span holds the SQL text with its placeholders, never the bound values.
 */
import {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import type { Knex } from 'knex';
import { messageOf } from '../../errors';

/** What knex passes its query events (the fields read here). */
interface QueryEvent {
  readonly __knexQueryUid?: string;
  readonly sql?: string;
  readonly method?: string;
}

/** `select` from `select * from ...`; undefined when the text starts with no word. */
function operationOf(event: QueryEvent): string | undefined {
  if (event.method !== undefined && event.method !== 'raw') return event.method;
  return /^\s*([a-z]+)/i.exec(event.sql ?? '')?.[1]?.toLowerCase();
}

export function traceDatabase(knex: Knex, tracer: Tracer): void {
  const open = new Map<string, Span>();
  const finish = (event: QueryEvent, err?: unknown): void => {
    const uid = event.__knexQueryUid;
    if (uid === undefined) return;
    const span = open.get(uid);
    if (span === undefined) return;
    open.delete(uid);
    if (err !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(err) });
    }
    span.end();
  };
  knex.on('query', (event: QueryEvent) => {
    const parent = context.active();
    const uid = event.__knexQueryUid;
    if (uid === undefined || trace.getSpan(parent)?.isRecording() !== true) return;
    const operation = operationOf(event);
    const span = tracer.startSpan(
      operation === undefined ? 'postgresql' : `${operation} postgresql`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
          ...(event.sql === undefined ? {} : { [ATTR_DB_QUERY_TEXT]: event.sql }),
          ...(operation === undefined ? {} : { [ATTR_DB_OPERATION_NAME]: operation }),
        },
      },
      parent,
    );
    open.set(uid, span);
  });
  knex.on('query-response', (_response: unknown, event: QueryEvent) => {
    finish(event);
  });
  knex.on('query-error', (err: unknown, event: QueryEvent) => {
    finish(event, err);
  });
}
