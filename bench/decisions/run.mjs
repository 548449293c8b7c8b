// Decision latency over HTTP on loopback, and the in-process costs the cache rule compares.
// Usage: npm run build && node bench/decisions/run.mjs [--redis] [--n 5000]
// Needs Postgres at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a scratch
// database is created and dropped) and, with --redis, Redis at REDIS_URL.
import console from 'node:console';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';
import { URL } from 'node:url';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { start } from '../../dist/api/server.js';
import { loadConfig } from '../../dist/api/config.js';
import { ApiKeyService } from '../../dist/api/services/api-keys.js';
import { DecisionCache, canonicalInputJson } from '../../dist/api/services/decisions/index.js';
import { loadSources } from '../../dist/policies/bundle/sources.js';
import { parseManifest } from '../../dist/policies/bundle/manifest.js';
import { buildBundle } from '../../dist/policies/bundle/build.js';
import { PolicyEngine } from '../../dist/policies/engine.js';
import { toJSONText } from '../../dist/policies/ir/value.js';
import { createLogger } from '../../dist/api/logger.js';

const args = process.argv.slice(2);
const n = Number(args[args.indexOf('--n') + 1] || 5000);
const useRedis = args.includes('--redis');
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `verdict_bench_${process.pid}`;

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const example = path.resolve('examples/rbac');
const manifest = parseManifest(fs.readFileSync(path.join(example, '.manifest'), 'utf8')).manifest;
const sources = loadSources([example]);
const data = JSON.parse(toJSONText(sources.data));
const build = async (cache) =>
  (
    await buildBundle({
      modules: sources.modules,
      data: sources.data,
      entrypoints: [],
      manifest: { ...manifest, cache },
      root: example,
    })
  ).bundle;

const input = (i) => ({
  subject: { id: 'bob', tenant: 'acme' },
  action: 'update',
  resource: { type: 'document', id: `d${i}`, tenant: 'acme', owner: 'carol' },
});

function quantiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}
const us = (ns) => (ns / 1000).toFixed(1);

// --- in-process costs -----------------------------------------------------------------
const bundle = await build('auto');
const engine = await PolicyEngine.load(bundle.wasm);
engine.setData(data);
const cache = new DecisionCache({ logger: createLogger({ level: 'silent' }) });
const inProcess = { eval: [], lookupMiss: [], lookupHit: [] };
for (let i = 0; i < 20000; i++) {
  const value = input(i % 100);
  let t = process.hrtime.bigint();
  JSON.parse(engine.evaluateJSON('rbac/allow', JSON.stringify(value)));
  inProcess.eval.push(Number(process.hrtime.bigint() - t));
  t = process.hrtime.bigint();
  const key = cache.key(
    'tenant',
    bundle.manifest.revision,
    'rbac/allow',
    canonicalInputJson(value),
  );
  const hit = cache.getL1(key);
  const ns = Number(process.hrtime.bigint() - t);
  (hit ? inProcess.lookupHit : inProcess.lookupMiss).push(ns);
  if (!hit) cache.put(key, { defined: true, result: false }, false);
}
const skip = (a) => a.slice(Math.floor(a.length / 4));
console.log('in-process (rbac/allow, 20000 runs, ns -> µs)');
for (const [name, samples] of Object.entries(inProcess)) {
  const q = quantiles(samples);
  console.log(
    `  ${name.padEnd(11)} p50 ${us(q.p50)} µs  p90 ${us(q.p90)} µs  p99 ${us(q.p99)} µs  (n=${samples.length})`,
  );
}

// --- over HTTP ------------------------------------------------------------------------
await admin(`create database "${dbName}"`);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-bench-'));
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const server = await start({
  config: loadConfig({
    PORT: '0',
    VERDICT_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: url.toString(),
    VERDICT_DATA_DIR: dataDir,
    ...(useRedis
      ? {
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          VERDICT_REDIS_PREFIX: `bench${process.pid}:`,
        }
      : {}),
  }),
});
try {
  const knex = server.db.knex;
  const [tenant] = await knex('tenants').insert({ slug: 'bench', name: 'bench' }).returning('id');
  const keys = new ApiKeyService({ knex, logger: server.logger });
  const { plainKey } = await keys.create(tenant.id, { name: 'bench', scopes: ['decide'] });
  const store = async (name, cacheMode) => {
    const b = await build(cacheMode);
    const [row] = await knex('bundles').insert({ tenant_id: tenant.id, name }).returning('id');
    const [version] = await knex('bundle_versions')
      .insert({
        bundle_id: row.id,
        version: '1.0.0',
        revision: b.manifest.revision,
        engine: 'rego',
        manifest: JSON.stringify({ ...b.manifest, roots: [name] }),
        tar: b.tarGz,
        wasm: Buffer.from(b.wasm),
        data: JSON.stringify(data),
        signature_status: 'unsigned',
        uploaded_by: 'bench',
      })
      .returning('id');
    await knex('tenant_bundles').insert({
      tenant_id: tenant.id,
      bundle_id: row.id,
      stable_version_id: version.id,
    });
  };
  // The same policy under three roots, one per cache mode (the Rego package stays `rbac`, so
  // only the `rbac` root routes to an entrypoint: the three bundles are measured one at a time).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const post = (p, body) =>
    new Promise((resolve, reject) => {
      const text = JSON.stringify(body);
      const req = http.request(
        `${server.url}/v1/data/${p}`,
        {
          method: 'POST',
          agent,
          headers: {
            Authorization: `Bearer ${plainKey}`,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(text),
          },
        },
        (res) => {
          let out = '';
          res.on('data', (c) => (out += c));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(JSON.parse(out))
              : reject(new Error(`${res.statusCode} ${out}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  const sequential = async (label, makeInput) => {
    const samples = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await post('rbac/allow', { input: makeInput(i) });
      samples.push(Number(process.hrtime.bigint() - t));
    }
    const q = quantiles(skip(samples));
    console.log(
      `  ${label.padEnd(28)} p50 ${us(q.p50)} µs  p90 ${us(q.p90)} µs  p99 ${us(q.p99)} µs`,
    );
  };
  const concurrent = async (label, makeInput, concurrency = 32, ms = 3000) => {
    let done = 0;
    const end = Date.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (Date.now() < end) {
          await post('rbac/allow', { input: makeInput(w * 1e6 + done) });
          done++;
        }
      }),
    );
    console.log(
      `  ${label.padEnd(28)} ${Math.round(done / (ms / 1000))} decisions/s (${concurrency} clients, ${ms} ms)`,
    );
  };
  // Baseline: the same server's liveness route (Express, helmet, request log; no decision).
  const live = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await new Promise((resolve, reject) => {
      http
        .get(`${server.url}/health/live`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    live.push(Number(process.hrtime.bigint() - t));
  }
  const lq = quantiles(skip(live));
  console.log(
    `HTTP baseline GET /health/live     p50 ${us(lq.p50)} µs  p90 ${us(lq.p90)} µs  p99 ${us(lq.p99)} µs`,
  );
  console.log(
    `HTTP on loopback, sequential, ${n} decisions each (${useRedis ? 'Redis L2' : 'no Redis'}; audit on)`,
  );
  for (const mode of ['off', 'on']) {
    await knex('tenant_bundles').where({ tenant_id: tenant.id }).delete();
    await knex('bundle_versions').delete();
    await knex('bundles').delete();
    await store('rbac', mode);
    await server.decisions.pool.activate(tenant.id);
    server.decisions.pool.clear();
    if (mode === 'off') {
      await sequential('cache off (bypass)', (i) => input(i));
      await concurrent('cache off (bypass)', (i) => input(i % 1000));
    } else {
      await sequential('cache on, all misses', (i) => input(1e7 + i));
      await sequential('cache on, all hits', () => input(1));
      await concurrent('cache on, all hits', () => input(1));
    }
  }
  console.log('decision cache counters', server.decisions.cache.counters);
  console.log('audit writer counters', server.audit.counters);
  agent.destroy();
} finally {
  await server.stop();
  await admin(`drop database if exists "${dbName}" with (force)`);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
