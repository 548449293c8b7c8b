/**
 * What the edge security tests share: a real server on the real Postgres and Redis (each run
 * with its own database and key prefix), a raw HTTP client that keeps status, headers and
 * text, checks that an answer is a proper problem, a watch on the built-in prototypes of
 * this process (the server runs in it), and per-category case counters for the one summary
 * line each test file prints.
 */
import { buildBundle } from '../../policies/bundle/build';
import { fromJS, type ObjectValue } from '../../policies/ir/value';
import { start, type RunningServer } from '../../api/server';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';

export const ADMIN = 'security-admin-token-0123456789abcdef';

export interface SecurityServer {
  readonly server: RunningServer;
  readonly url: string;
  stop(): Promise<void>;
}

/** A server on a fresh database and Redis prefix, with the admin token and `env` on top. */
export async function startSecurityServer(
  env: Record<string, string> = {},
): Promise<SecurityServer> {
  const db: TestDatabase = await createTestDatabase('security');
  try {
    const server = await start({
      config: testConfig({
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        VERDICT_REDIS_PREFIX: `${uniqueName('sec')}:`,
        VERDICT_ADMIN_TOKEN: ADMIN,
        ...env,
      }),
      logger: silentLogger,
    });
    return {
      server,
      url: server.url,
      stop: async () => {
        await server.stop();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body when it is JSON; undefined otherwise. */
  readonly json: unknown;
}

export interface SendOptions {
  readonly headers?: Record<string, string>;
  /** Sent as is (a string is sent as UTF-8). */
  readonly body?: string | Uint8Array;
  /** Serialized with JSON.stringify and sent as application/json. */
  readonly json?: unknown;
  readonly token?: string;
}

export async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * Text for a URL: percent-encoded UTF-8; a lone surrogate half, which UTF-8 cannot hold, as
 * %ED%A0%80 (the bytes such a half would have, which a decoder must refuse).
 */
export function urlText(text: string): string {
  let encoded = '';
  for (const ch of text) {
    try {
      encoded += encodeURIComponent(ch);
    } catch {
      encoded += '%ED%A0%80';
    }
  }
  return encoded;
}

/** Why `res` is not an acceptable answer (a 5xx, or a 4xx that is no problem); undefined when fine. */
export function unacceptable(res: RawAnswer): string | undefined {
  if (res.status >= 500) return `${res.status} ${res.text.slice(0, 300)}`;
  if (res.status < 400) return undefined;
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) return `${res.status} with ${type}`;
  const body = res.json as Record<string, unknown> | undefined;
  if (body?.status !== res.status || typeof body.code !== 'string') {
    return `${res.status} problem without matching status and code: ${res.text.slice(0, 300)}`;
  }
  if (/\bat .+:\d+:\d+\)?$/m.test(res.text)) return `${res.status} carries a stack trace`;
  return undefined;
}

/** Asserts that `res` is acceptable, naming the case in the failure message. */
export function expectAcceptable(res: RawAnswer, what: string): void {
  const why = unacceptable(res);
  if (why !== undefined) throw new Error(`${what}: ${why}`);
}

const prototypes: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];
const original = new Map(prototypes.map(([name, proto]) => [name, Reflect.ownKeys(proto)]));

/** The names of built-in prototypes that gained or lost a property since this module loaded. */
export function pollutedPrototypes(): string[] {
  return prototypes
    .filter(([name, proto]) => {
      const before = original.get(name) ?? [];
      const now = Reflect.ownKeys(proto);
      return now.length !== before.length || now.some((key) => !before.includes(key));
    })
    .map(([name]) => name);
}

/** Counts cases per category and prints them in one line. */
export class CaseCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly file: string) {}

  add(category: string, n = 1): void {
    this.counts.set(category, (this.counts.get(category) ?? 0) + n);
  }

  get(category: string): number {
    return this.counts.get(category) ?? 0;
  }

  line(): string {
    const parts = [...this.counts].map(([category, n]) => `${category} ${n}`);
    return `${this.file}: cases tried: ${parts.join(', ')}`;
  }

  print(): void {
    process.stdout.write(`${this.line()}\n`);
  }
}

/** Creates a tenant and a key with `scopes`; returns the key. */
export async function tenantKey(url: string, slug: string, scopes: string[]): Promise<string> {
  const tenant = await send(url, 'POST', '/v1/tenants', {
    token: ADMIN,
    json: { slug, name: slug },
  });
  if (tenant.status !== 201 && tenant.status !== 409) {
    throw new Error(`tenant ${slug}: ${tenant.status} ${tenant.text}`);
  }
  const key = await send(url, 'POST', `/v1/tenants/${slug}/keys`, {
    token: ADMIN,
    json: { name: scopes.join('+'), scopes },
  });
  if (key.status !== 201) throw new Error(`key for ${slug}: ${key.status} ${key.text}`);
  return (key.json as { key: string }).key;
}

/**
 * A small bundle whose answers hold the tenant's own marker: `iso/secret` is the marker from
 * data, `iso/echo` the input, `iso/allow` true when the input's user is the marker.
 */
export async function markerBundle(marker: string): Promise<Uint8Array> {
  const result = await buildBundle({
    modules: [
      {
        file: 'iso/policy.rego',
        text: [
          'package iso',
          '',
          'secret := data.secret',
          '',
          'echo := input',
          '',
          'default allow := false',
          '',
          'allow if input.user == data.secret',
          '',
        ].join('\n'),
      },
    ],
    data: fromJS({ secret: marker }) as ObjectValue,
    entrypoints: ['iso/secret', 'iso/echo', 'iso/allow'],
    manifest: { name: 'iso', version: '1.0.0' },
  });
  if (result.bundle === undefined) throw new Error(JSON.stringify(result.diagnostics));
  return result.bundle.tarGz;
}

/** Pushes and activates `tarGz` for `slug` with the admin token. */
export async function pushAndActivate(url: string, slug: string, tarGz: Uint8Array): Promise<void> {
  const pushed = await send(url, 'POST', `/v1/tenants/${slug}/bundles`, {
    token: ADMIN,
    body: tarGz,
    headers: { 'content-type': 'application/gzip' },
  });
  if (pushed.status !== 201) throw new Error(`push for ${slug}: ${pushed.status} ${pushed.text}`);
  const activated = await send(url, 'POST', `/v1/tenants/${slug}/bundles/iso/activate`, {
    token: ADMIN,
    json: { version: '1.0.0' },
  });
  if (activated.status !== 200) {
    throw new Error(`activate for ${slug}: ${activated.status} ${activated.text}`);
  }
}
