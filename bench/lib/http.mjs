// HTTP from the bench scripts to the servers they start: a free loopback port, waiting until
// a server answers, and JSON calls to its admin API.
import console from 'node:console';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';

const { fetch } = globalThis;

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `url` answers 2xx; fails with the log's tail when `child` exits first. */
export async function waitFor(url, what, child, logFile, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (child.exitCode !== null) {
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`${what} exited (${child.exitCode}) while starting; its log:\n${tail}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${what} did not become ready at ${url} within ${seconds} s`);
}

/** A JSON call; the parsed answer, or an error naming the status and body. */
export async function json(url, { method = 'GET', token, body, type = 'application/json' } = {}) {
  const request = () =>
    fetch(url, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'Content-Type': type } : {}),
      },
      body,
    });
  // A kept-alive socket the server closed just as it was reused fails before any answer:
  // the request never reached a handler, so sending it once more is safe.
  const res = await request().catch((error) => {
    console.error(`${method} ${url}: ${error.cause?.message ?? error.message}; retrying once`);
    return request();
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** SIGTERM, then SIGKILL after `graceMs` if the child has not exited. */
export async function stopChild(child, graceMs = 15000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Spawns `node bin/verdict.js serve -p PORT` from `root` with `env`, its output appended to
 * `logFile`. VERDICT_BENCH_NODE_ARGS adds Node options, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server.
 */
export function spawnVerdict(root, port, env, logFile) {
  const log = fs.openSync(logFile, 'a');
  return spawn(
    process.execPath,
    [
      ...(process.env.VERDICT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      path.join(root, 'bin/verdict.js'),
      'serve',
      '-p',
      String(port),
    ],
    { env, stdio: ['ignore', log, log] },
  );
}

/**
 * Creates tenant `bench` on the server at `base` with a `decide` key, and builds, pushes and
 * activates examples/rbac for it (the bundle is built into `work`). Resolves to the key.
 */
export async function setUpRbacTenant(root, base, adminToken, work, name) {
  const admin = (url, options) => json(url, { ...options, token: adminToken });
  await admin(`${base}/v1/tenants`, {
    method: 'POST',
    body: JSON.stringify({ slug: 'bench', name }),
  });
  const key = await admin(`${base}/v1/tenants/bench/keys`, {
    method: 'POST',
    body: JSON.stringify({ name: 'bench', scopes: ['decide'] }),
  });
  const bundleFile = path.join(work, 'rbac.tar.gz');
  execFileSync(
    process.execPath,
    [
      path.join(root, 'bin/verdict.js'),
      'build',
      path.join(root, 'examples/rbac'),
      '-o',
      bundleFile,
      '-q',
    ],
    { stdio: 'inherit' },
  );
  const version = await admin(`${base}/v1/tenants/bench/bundles`, {
    method: 'POST',
    body: fs.readFileSync(bundleFile),
    type: 'application/gzip',
  });
  await admin(`${base}/v1/tenants/bench/bundles/${version.bundle}/activate`, {
    method: 'POST',
    body: JSON.stringify({ version: version.version }),
  });
  return key.key;
}
