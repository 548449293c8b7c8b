/**
 * OpenTelemetry tracing of a real server on the real Postgres and Redis, over real HTTP: a
 * decision made with a caller's `traceparent` is one trace — the HTTP span (decision lane and
 * Express route alike), the decision with its cache, engine and audit spans, and the database
 * and Redis calls under it — all in the caller's trace, whose id is on the decision's row in
 * the `decisions` table, and the chain still verifies. With tracing off no `traceresponse` is
 * sent, and the row still records the id of a trace the caller sent, and none otherwise.
 */
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Knex } from 'knex';
import { start, type RunningServer } from '../../api/server';
import { verifyChain } from '../../api/services/audit';
import { startTracing } from '../../api/services/tracing';
import { rbacBundle } from './bundles/fixtures';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';
import { call, setUpAcmeWithRbac } from '../e2e/http';
import { carolDeletes, until } from '../e2e/load';

jest.setTimeout(120_000);

const ADMIN = 'tracing-admin-token-0123456789abcdef';
const callerSpanId = 'b7ad6b7169203331';

let db: TestDatabase;
let redisPrefix = '';
let traced: RunningServer;
const exporter = new InMemorySpanExporter();
let key = '';

function env(): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: redisPrefix,
    VERDICT_ADMIN_TOKEN: ADMIN,
  };
}

/** A fresh trace id for each request, so no two share a trace. */
function newTraceId(): string {
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

interface Answer {
  status: number;
  decisionId: string;
  traceresponse: string | null;
}

async function decide(
  base: string,
  path: string,
  input: unknown,
  headers: Record<string, string> = {},
  token = key,
): Promise<Answer> {
  const res = await fetch(`${base}/v1/data/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ input }),
  });
  const body = (await res.json()) as { decision_id: string };
  return {
    status: res.status,
    decisionId: body.decision_id,
    traceresponse: res.headers.get('traceresponse'),
  };
}

/** The spans of one trace, once its HTTP server span has ended (at the response's close). */
async function traceOf(traceId: string): Promise<ReadableSpan[]> {
  const spans = (): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  await until(
    () => Promise.resolve(spans().some((span) => span.kind === SpanKind.SERVER)),
    `the server span of trace ${traceId}`,
  );
  return spans();
}

function named(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${name} span, found ${String(found.length)}`);
  }
  return found[0] as ReadableSpan;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

async function storedTraceId(knex: Knex, decisionId: string): Promise<string | null> {
  const row = await knex<{ decision_id: string; trace_id: string | null }>('decisions')
    .where('decision_id', decisionId)
    .first('trace_id');
  if (row === undefined) throw new Error(`no audit row for decision ${decisionId}`);
  return row.trace_id;
}

beforeAll(async () => {
  db = await createTestDatabase('tracing');
  redisPrefix = `${uniqueName('tracing')}:`;
  traced = await start({
    config: testConfig(env()),
    tracing: startTracing({ exporter: 'otlp', sampleRatio: 1 }, { spanExporter: exporter }),
  });
  ({ key } = await setUpAcmeWithRbac(traced.url, ADMIN, (await rbacBundle()).tarGz));
});

afterAll(async () => {
  await traced.stop();
  await db.drop();
});

describe('tracing on', () => {
  it('makes one trace of a lane decision in the caller’s trace, its id on the audit row', async () => {
    const traceId = newTraceId();
    const answer = await decide(traced.url, 'rbac/allow', carolDeletes, {
      traceparent: `00-${traceId}-${callerSpanId}-01`,
      tracestate: 'vendor=opaque',
    });
    expect(answer.status).toBe(200);
    expect(answer.traceresponse).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const spans = await traceOf(traceId);
    const http = named(spans, 'POST /v1/data{/*path}');
    expect(http.kind).toBe(SpanKind.SERVER);
    expect(parentOf(http)).toBe(callerSpanId);
    expect(http.spanContext().traceState?.get('vendor')).toBe('opaque');
    expect(answer.traceresponse).toContain(`-${http.spanContext().spanId}-`);
    expect(http.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/data{/*path}',
      'url.path': '/v1/data/rbac/allow',
      'http.response.status_code': 200,
    });

    const decision = named(spans, 'verdict.decision');
    expect(parentOf(decision)).toBe(http.spanContext().spanId);
    expect(decision.attributes).toMatchObject({
      'verdict.decision.id': answer.decisionId,
      'verdict.decision.path': 'rbac/allow',
      'verdict.cache': 'miss',
      'verdict.bundle.name': 'rbac',
    });
    const below = (name: string): ReadableSpan => {
      const span = named(spans, name);
      expect(parentOf(span)).toBe(decision.spanContext().spanId);
      return span;
    };
    expect(below('verdict.cache.l1').attributes['verdict.cache.hit']).toBe(false);
    const l2 = below('verdict.cache.l2');
    expect(l2.attributes['verdict.cache.hit']).toBe(false);
    expect(below('verdict.engine.evaluate').attributes['verdict.entrypoint']).toBe('rbac/allow');
    expect(below('verdict.audit.enqueue').attributes['verdict.audit.strict']).toBe(false);

    // The Redis GET of the L2 lookup, and the database reads of loading the tenant.
    const redisGet = spans.find(
      (span) => span.attributes['db.system.name'] === 'redis' && span.name === 'GET',
    );
    expect(redisGet && parentOf(redisGet)).toBe(l2.spanContext().spanId);
    const queries = spans.filter((span) => span.attributes['db.system.name'] === 'postgresql');
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      expect(query.kind).toBe(SpanKind.CLIENT);
      expect(typeof query.attributes['db.query.text']).toBe('string');
    }

    await traced.audit.flush();
    expect(await storedTraceId(traced.db.knex, answer.decisionId)).toBe(traceId);
    const row = await traced.db
      .knex<{ decision_id: string; tenant_id: string }>('decisions')
      .where('decision_id', answer.decisionId)
      .first('tenant_id');
    expect(await verifyChain(traced.db.knex, row?.tenant_id ?? '')).toMatchObject({
      ok: true,
      rows: expect.any(Number) as number,
    });
  });

  it('traces a decision the Express route answers the same way', async () => {
    const traceId = newTraceId();
    const res = await fetch(`${traced.url}/v1/data/rbac/allow?explain=off`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({ input: carolDeletes }),
    });
    expect(res.status).toBe(200);
    const { decision_id: decisionId } = (await res.json()) as { decision_id: string };
    expect(res.headers.get('traceresponse')).toMatch(new RegExp(`^00-${traceId}-`));

    const spans = await traceOf(traceId);
    const http = named(spans, 'POST /v1/data{/*path}');
    expect(parentOf(http)).toBe(callerSpanId);
    const decision = named(spans, 'verdict.decision');
    expect(parentOf(decision)).toBe(http.spanContext().spanId);
    // The lane's decision above put the answer in L1.
    expect(decision.attributes['verdict.cache']).toBe('hit');
    expect(named(spans, 'verdict.audit.enqueue')).toBeDefined();

    await traced.audit.flush();
    expect(await storedTraceId(traced.db.knex, decisionId)).toBe(traceId);
  });

  it('starts a trace of its own for a caller without one, and records that trace', async () => {
    const answer = await decide(traced.url, 'rbac/allow', { ...carolDeletes, action: 'read' });
    expect(answer.status).toBe(200);
    const traceId = /^00-([0-9a-f]{32})-/.exec(answer.traceresponse ?? '')?.[1];
    expect(traceId).toBeDefined();
    const spans = await traceOf(traceId as string);
    expect(parentOf(named(spans, 'POST /v1/data{/*path}'))).toBeUndefined();
    await traced.audit.flush();
    expect(await storedTraceId(traced.db.knex, answer.decisionId)).toBe(traceId);
  });

  it('holds a strict tenant’s audit insert inside its decision’s trace', async () => {
    await call(traced.url, 'POST', '/v1/tenants', {
      token: ADMIN,
      json: { slug: 'strict', name: 'Strict' },
    });
    await traced.db.knex('tenants').where({ slug: 'strict' }).update({ audit_strict: true });
    const created = await call(traced.url, 'POST', '/v1/tenants/strict/keys', {
      token: ADMIN,
      json: { name: 'app', scopes: ['decide'] },
    });
    const pushed = await call(traced.url, 'POST', '/v1/tenants/strict/bundles', {
      token: ADMIN,
      body: (await rbacBundle()).tarGz,
    });
    expect(pushed.status).toBe(201);
    const activated = await call(traced.url, 'POST', '/v1/tenants/strict/bundles/rbac/activate', {
      token: ADMIN,
      json: { version: '1.0.0' },
    });
    expect(activated.status).toBe(200);

    // Nothing queued before: no batch already on its way takes this decision's row.
    await traced.audit.flush();
    const traceId = newTraceId();
    const answer = await decide(
      traced.url,
      'rbac/allow',
      carolDeletes,
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
      created.body.key as string,
    );
    expect(answer.status).toBe(200);
    const spans = await traceOf(traceId);
    const enqueue = named(spans, 'verdict.audit.enqueue');
    expect(enqueue.attributes['verdict.audit.strict']).toBe(true);
    // The row is written before the answer: its insert is in the trace, under the enqueue.
    const below = (span: ReadableSpan): boolean => {
      for (let at: ReadableSpan | undefined = span; at !== undefined;) {
        if (parentOf(at) === enqueue.spanContext().spanId) return true;
        at = spans.find((other) => other.spanContext().spanId === parentOf(at as ReadableSpan));
      }
      return false;
    };
    const insert = spans.find(
      (span) =>
        span.attributes['db.operation.name'] === 'insert' &&
        String(span.attributes['db.query.text']).startsWith('insert into decisions'),
    );
    expect(insert && below(insert)).toBe(true);
    expect(await storedTraceId(traced.db.knex, answer.decisionId)).toBe(traceId);
  });

  it('names a request Express answers by its route pattern', async () => {
    const traceId = newTraceId();
    const res = await fetch(`${traced.url}/v1/tenants/acme`, {
      headers: {
        authorization: `Bearer ${ADMIN}`,
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
    });
    expect(res.status).toBe(200);
    const spans = await traceOf(traceId);
    const server = spans.find((span) => span.kind === SpanKind.SERVER) as ReadableSpan;
    expect(server.name).toMatch(/^GET \/v1\/tenants\/:/);
    expect(server.attributes['http.response.status_code']).toBe(200);
    // The tenant was read from the database inside the request's trace.
    expect(spans.some((span) => span.attributes['db.system.name'] === 'postgresql')).toBe(true);
  });
});

describe('tracing off', () => {
  let plain: RunningServer;
  beforeAll(async () => {
    plain = await start({ config: testConfig(env()) });
  });
  afterAll(async () => {
    await plain.stop();
  });

  it('sends no traceresponse, records a caller’s trace id, and none without one', async () => {
    const before = exporter.getFinishedSpans().length;
    const traceId = newTraceId();
    const withCaller = await decide(plain.url, 'rbac/allow', carolDeletes, {
      traceparent: `00-${traceId}-${callerSpanId}-00`,
    });
    const without = await decide(plain.url, 'rbac/allow', carolDeletes);
    const malformed = await decide(plain.url, 'rbac/allow', carolDeletes, {
      traceparent: `00-${'0'.repeat(32)}-${callerSpanId}-01`,
    });
    for (const answer of [withCaller, without, malformed]) {
      expect(answer.status).toBe(200);
      expect(answer.traceresponse).toBeNull();
    }
    await plain.audit.flush();
    expect(await storedTraceId(plain.db.knex, withCaller.decisionId)).toBe(traceId);
    expect(await storedTraceId(plain.db.knex, without.decisionId)).toBeNull();
    expect(await storedTraceId(plain.db.knex, malformed.decisionId)).toBeNull();
    // This server made no spans (the traced one is idle meanwhile).
    expect(exporter.getFinishedSpans().length).toBe(before);
  });
});
