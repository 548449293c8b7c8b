/**
 * Configuration from the environment, read once at start. Every setting is validated with
 * one ajv schema; a bad value stops the start with one line per bad setting saying what was
 * given and what is expected, so an operator fixes all of them in one go.
 */
import path from 'node:path';
import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';
import { VerdictError } from './errors';
import { parseDuration } from './schemas/duration';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const switchValues = ['on', 'off'] as const;
type Switch = (typeof switchValues)[number];

/** A rate limit: at most `points` requests per window of `durationSeconds`. */
export interface RateLimitRule {
  readonly points: number;
  readonly durationSeconds: number;
}

/** The rate limits of each route class (api/middleware/route-limits.ts); undefined: off. */
export interface RateLimitRules {
  readonly ip: RateLimitRule | undefined;
  readonly decisions: RateLimitRule | undefined;
  readonly admin: RateLimitRule | undefined;
  readonly authIp: RateLimitRule | undefined;
  readonly authAccount: RateLimitRule | undefined;
}

export interface Config {
  /** HTTP port; 0 picks a free one (tests). */
  port: number;
  host: string;
  /** External Postgres; when absent an embedded PGlite database is started. */
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** Redis for cache and pub/sub; when absent both are in-process. */
  redisUrl: string | undefined;
  /** Prepended to every Redis key and channel, so several deployments can share one Redis. */
  redisKeyPrefix: string;
  /** How long a Redis command may take before it fails (and counts against the breaker). */
  redisTimeoutMs: number;
  /** Absolute path of the folder for local state (embedded database, spool files). */
  dataDir: string;
  /** Loopback port of the embedded Postgres; 0 picks a free one. */
  embeddedPgPort: number;
  logLevel: LogLevel;
  /**
   * How long a stopping server keeps accepting and serving requests while it reports not
   * ready, so that load balancers (a Kubernetes Service's endpoints) stop sending it traffic
   * before it stops listening.
   */
  shutdownDelayMs: number;
  /** How long shutdown waits for in-flight requests before closing their connections. */
  shutdownTimeoutMs: number;
  /**
   * Bootstrap token for the admin API (tenants, API keys) until users can log in; the admin
   * API is disabled while it is unset. Never logged.
   */
  adminToken: string | undefined;
  /** Data keys for field encryption, JSON {kid: base64}; generated into dataDir when unset. Never logged. */
  dataKeys: string | undefined;
  /** The data key that encrypts new values. */
  dataKeyId: string | undefined;
  /** HMAC key of blind indexes (e-mail look-ups). Never logged. */
  blindIndexKey: string | undefined;
  /** Life of a user's access token (JWT). */
  accessTokenTtlSeconds: number;
  /** Life of a login session; its refresh tokens stop working then. */
  sessionTtlSeconds: number;
  /** Age at which the access-token signing key is replaced. */
  signingKeyRotationDays: number;
  /** Most compiled policy engines (bundle versions) kept in memory; LRU beyond. */
  enginePoolMax: number;
  /** Memory cap of each engine's WebAssembly instance, in MiB. */
  engineMemoryMb: number;
  /** Evaluation steps (loop iterations and calls) one decision may take. */
  engineStepBudget: number;
  /** Entries of the in-process decision cache (L1). */
  decisionCacheMax: number;
  /** How long a cached decision lives, in L1 and in Redis (L2). */
  decisionCacheTtlMs: number;
  /** Consecutive failures of Redis or Postgres that open its circuit breaker. */
  breakerFailures: number;
  /** How long an open circuit breaker refuses calls before it lets one probe through. */
  breakerOpenMs: number;
  /** Deepest nesting of arrays and objects accepted in a decision input. */
  maxInputDepth: number;
  /** Most array elements and object members in one JSON request body. */
  maxBodyMembers: number;
  /** Exact origins browsers may call the API from (CORS); empty: none. */
  corsOrigins: string[];
  /** Proxies whose X-Forwarded-For is believed (Express `trust proxy`); undefined: none. */
  trustProxy: string | undefined;
  rateLimits: RateLimitRules;
  /**
   * HTTP worker processes of `verdict serve` (api/cluster): a number, or `auto` — one per
   * core with an external database and Redis, one otherwise.
   */
  workers: number | 'auto';
  /** Whether `GET /metrics` answers with Prometheus metrics. */
  metricsEnabled: boolean;
  /** Bearer token `GET /metrics` requires; undefined: none, like OPA's. Never logged. */
  metricsToken: string | undefined;
  /** Whether decision metrics carry a `tenant` label (off for very many tenants). */
  metricsTenantLabel: boolean;
  /** OpenTelemetry tracing (api/services/tracing): off, or spans sent over OTLP/HTTP. */
  tracing: {
    exporter: 'off' | 'otlp';
    /** Undefined: the standard OTEL_EXPORTER_OTLP_* variables, else localhost:4318. */
    endpoint: string | undefined;
    /** Share of new traces kept, 0 to 1 (a caller's sampling decision is followed). */
    sampleRatio: number;
  };
}

/** The environment as the schema sees it: one property per variable, already coerced. */
interface EnvSettings {
  PORT: number;
  VERDICT_HOST: string;
  DATABASE_URL?: string;
  VERDICT_DB_POOL_MAX: number;
  REDIS_URL?: string;
  VERDICT_REDIS_PREFIX: string;
  VERDICT_REDIS_TIMEOUT_MS: number;
  VERDICT_DATA_DIR: string;
  VERDICT_EMBEDDED_PG_PORT: number;
  LOG_LEVEL: LogLevel;
  VERDICT_SHUTDOWN_DELAY_MS: number;
  VERDICT_SHUTDOWN_TIMEOUT_MS: number;
  VERDICT_ADMIN_TOKEN?: string;
  VERDICT_DATA_KEYS?: string;
  VERDICT_DATA_KEY_ID?: string;
  VERDICT_BLIND_INDEX_KEY?: string;
  VERDICT_ACCESS_TOKEN_TTL_SECONDS: number;
  VERDICT_SESSION_TTL_SECONDS: number;
  VERDICT_SIGNING_KEY_ROTATION_DAYS: number;
  VERDICT_ENGINE_POOL_MAX: number;
  VERDICT_ENGINE_MEMORY_MB: number;
  VERDICT_ENGINE_STEP_BUDGET: number;
  VERDICT_DECISION_CACHE_MAX: number;
  VERDICT_DECISION_CACHE_TTL_MS: number;
  VERDICT_BREAKER_FAILURES: number;
  VERDICT_BREAKER_OPEN_MS: number;
  VERDICT_MAX_INPUT_DEPTH: number;
  VERDICT_MAX_BODY_MEMBERS: number;
  VERDICT_CORS_ORIGINS?: string;
  VERDICT_TRUST_PROXY?: string;
  VERDICT_RATE_LIMIT_IP: string;
  VERDICT_RATE_LIMIT_DECISIONS: string;
  VERDICT_WORKERS: string;
  VERDICT_RATE_LIMIT_ADMIN: string;
  VERDICT_RATE_LIMIT_AUTH_IP: string;
  VERDICT_RATE_LIMIT_AUTH_ACCOUNT: string;
  VERDICT_METRICS: Switch;
  VERDICT_METRICS_TOKEN?: string;
  VERDICT_METRICS_TENANT_LABEL: Switch;
  VERDICT_OTEL_EXPORTER: 'off' | 'otlp';
  VERDICT_OTEL_ENDPOINT?: string;
  VERDICT_OTEL_SAMPLE_RATIO: number;
}

type SettingName = keyof EnvSettings;

function rateLimitExpectation(example: string, scope: string): string {
  return `off, or requests/window like 100/1s, 30/1m or 500/1h (${scope}; default ${example})`;
}

/** `off`, or a number of requests per duration (api/schemas/duration.ts). */
const rateLimitPattern = '^(off|[1-9][0-9]{0,8}/[1-9][0-9]{0,5}[smhd])$';
const rateLimitSetting = (example: string) =>
  ({ type: 'string', pattern: rateLimitPattern, default: example }) as const;

/** One origin: scheme, host (name, IPv4 or [IPv6]) and an optional port. */
const originPattern = 'https?://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?';
const proxyPattern = '[0-9A-Za-z.:/]+';
/** One or more items separated by commas (blanks around them allowed). */
const listOf = (item: string): string => `^\\s*${item}(\\s*,\\s*${item})*\\s*$`;

/** What each setting must look like, in the words the error line uses. */
const expectations: Record<SettingName, string> = {
  PORT: 'an integer from 0 to 65535 (the HTTP port; default 8181)',
  VERDICT_HOST: 'a host name or IP address to listen on (default 0.0.0.0)',
  DATABASE_URL:
    'a postgres:// or postgresql:// URL, e.g. postgres://user:pass@db:5432/verdict (unset: the embedded database in VERDICT_DATA_DIR)',
  VERDICT_DB_POOL_MAX: 'an integer from 1 to 200 (database connections per process; default 10)',
  REDIS_URL:
    'a redis:// or rediss:// URL, e.g. redis://cache:6379/0 (unset: cache, rate limits and pub/sub in-process)',
  VERDICT_REDIS_PREFIX: 'letters, digits and ._:- only, at most 64 characters (default verdict:)',
  VERDICT_REDIS_TIMEOUT_MS:
    'an integer from 10 to 60000 milliseconds (how long a Redis command may take before it fails and counts against the Redis circuit breaker; default 500)',
  VERDICT_DATA_DIR:
    'a folder path for local state: the embedded database, the audit spool, generated keys (default ./.verdict)',
  VERDICT_EMBEDDED_PG_PORT: 'an integer from 0 to 65535 (0 picks a free port; default 0)',
  LOG_LEVEL: `one of ${logLevels.join(', ')} (default info)`,
  VERDICT_SHUTDOWN_DELAY_MS:
    'an integer from 0 to 600000 milliseconds (how long a stopping server still serves while reporting not ready; default 0)',
  VERDICT_SHUTDOWN_TIMEOUT_MS:
    'an integer from 0 to 600000 milliseconds (how long shutdown waits for requests in flight; default 10000)',
  VERDICT_WORKERS:
    'auto or an integer from 1 to 64 (HTTP worker processes; default auto: one per core with DATABASE_URL and REDIS_URL set, else 1)',
  VERDICT_ADMIN_TOKEN:
    'at least 24 characters without spaces (e.g. the output of `openssl rand -base64 32`); the bootstrap credential of the admin API, which is off while it is unset',
  VERDICT_DATA_KEYS:
    'JSON of key id to the base64 of 32 random bytes, e.g. {"k1":"<openssl rand -base64 32>"}',
  VERDICT_DATA_KEY_ID: 'the id of a key in VERDICT_DATA_KEYS (1-64 letters, digits, _ or -)',
  VERDICT_BLIND_INDEX_KEY: 'the base64 of 32 random bytes (openssl rand -base64 32)',
  VERDICT_ACCESS_TOKEN_TTL_SECONDS:
    'an integer from 60 to 3600 (seconds an access token lives; default 600)',
  VERDICT_SESSION_TTL_SECONDS:
    'an integer from 300 to 7776000 (seconds a login session lives; default 604800)',
  VERDICT_SIGNING_KEY_ROTATION_DAYS:
    'an integer from 1 to 365 (days before the token signing key is replaced; default 30)',
  VERDICT_ENGINE_POOL_MAX:
    'an integer from 1 to 100000 (compiled policy engines kept in memory, least recently used evicted first; default 1000)',
  VERDICT_ENGINE_MEMORY_MB:
    'an integer from 2 to 4096 (MiB of memory per policy engine; default 128)',
  VERDICT_ENGINE_STEP_BUDGET:
    'an integer from 1000 to 1000000000 (evaluation steps per decision before it is stopped with 503; default 10000000)',
  VERDICT_DECISION_CACHE_MAX:
    'an integer from 1 to 10000000 (decisions kept in the in-process cache; default 100000)',
  VERDICT_DECISION_CACHE_TTL_MS:
    'an integer from 1000 to 86400000 milliseconds (life of a cached decision; default 300000)',
  VERDICT_BREAKER_FAILURES:
    'an integer from 1 to 1000 (consecutive failures of Redis or Postgres that open its circuit breaker; default 5)',
  VERDICT_BREAKER_OPEN_MS:
    'an integer from 100 to 600000 milliseconds (how long an open circuit breaker refuses calls before one probe; default 5000)',
  VERDICT_MAX_INPUT_DEPTH:
    'an integer from 1 to 1000 (deepest nesting of a decision input; default 64)',
  VERDICT_MAX_BODY_MEMBERS:
    'an integer from 100 to 10000000 (array elements and object members in one JSON body; default 100000)',
  VERDICT_CORS_ORIGINS:
    'exact origins separated by commas, each scheme://host[:port] without a path, e.g. https://console.example.com',
  VERDICT_TRUST_PROXY:
    'a number of proxy hops, or proxy addresses or CIDR ranges separated by commas, or loopback, linklocal, uniquelocal (e.g. 10.0.0.0/8)',
  VERDICT_RATE_LIMIT_IP: rateLimitExpectation(
    '5000/1s',
    'per client address, every route but /health',
  ),
  VERDICT_RATE_LIMIT_DECISIONS: rateLimitExpectation(
    '2000/1s',
    'per credential on POST /, /v1/data, /v1/batch/data and /v1/casl',
  ),
  VERDICT_RATE_LIMIT_ADMIN: rateLimitExpectation(
    '100/1s',
    'per credential on every other /v1 route',
  ),
  VERDICT_RATE_LIMIT_AUTH_IP: rateLimitExpectation('30/1m', 'login requests per client address'),
  VERDICT_RATE_LIMIT_AUTH_ACCOUNT: rateLimitExpectation(
    '10/1m',
    'login requests per account, from any address',
  ),
  VERDICT_METRICS: 'on or off (GET /metrics in the Prometheus text format; default on)',
  VERDICT_METRICS_TOKEN:
    'at least 24 characters without spaces, the bearer token GET /metrics then requires (e.g. the output of `openssl rand -base64 32`)',
  VERDICT_METRICS_TENANT_LABEL:
    'on or off (whether decision metrics are labelled by tenant; off for many thousands of tenants; default on)',
  VERDICT_OTEL_EXPORTER:
    'off or otlp (OpenTelemetry traces of requests, decisions, database and Redis calls, sent over OTLP/HTTP; default off)',
  VERDICT_OTEL_ENDPOINT:
    'an http(s) URL, the OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces; default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces)',
  VERDICT_OTEL_SAMPLE_RATIO:
    "a number from 0 to 1 (share of traces started here that are recorded; a caller's traceparent decides for its own; default 1)",
};

/** Settings whose values must never be echoed back, not even in an error line. */
const secretSettings: ReadonlySet<SettingName> = new Set([
  'DATABASE_URL',
  'VERDICT_ADMIN_TOKEN',
  'VERDICT_DATA_KEYS',
  'VERDICT_BLIND_INDEX_KEY',
  'VERDICT_METRICS_TOKEN',
]);

const schema: JSONSchemaType<EnvSettings> = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8181 },
    VERDICT_HOST: {
      type: 'string',
      minLength: 1,
      pattern: '^[A-Za-z0-9.:\\[\\]-]+$',
      default: '0.0.0.0',
    },
    DATABASE_URL: { type: 'string', nullable: true, pattern: '^postgres(ql)?://[^\\s]+$' },
    VERDICT_DB_POOL_MAX: { type: 'integer', minimum: 1, maximum: 200, default: 10 },
    REDIS_URL: { type: 'string', nullable: true, pattern: '^rediss?://[^\\s]+$' },
    VERDICT_REDIS_PREFIX: {
      type: 'string',
      maxLength: 64,
      pattern: '^[A-Za-z0-9._:-]*$',
      default: 'verdict:',
    },
    VERDICT_REDIS_TIMEOUT_MS: { type: 'integer', minimum: 10, maximum: 60000, default: 500 },
    VERDICT_DATA_DIR: { type: 'string', minLength: 1, default: './.verdict' },
    VERDICT_EMBEDDED_PG_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 0 },
    LOG_LEVEL: { type: 'string', enum: logLevels, default: 'info' },
    VERDICT_SHUTDOWN_DELAY_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 0 },
    VERDICT_SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 10000 },
    VERDICT_WORKERS: {
      type: 'string',
      pattern: '^\\s*(auto|[1-9]|[1-5][0-9]|6[0-4])\\s*$',
      default: 'auto',
    },
    VERDICT_ADMIN_TOKEN: { type: 'string', nullable: true, minLength: 24, pattern: '^\\S+$' },
    VERDICT_DATA_KEYS: { type: 'string', nullable: true, minLength: 2 },
    VERDICT_DATA_KEY_ID: { type: 'string', nullable: true, pattern: '^[A-Za-z0-9_-]{1,64}$' },
    VERDICT_BLIND_INDEX_KEY: { type: 'string', nullable: true, minLength: 40 },
    VERDICT_ACCESS_TOKEN_TTL_SECONDS: { type: 'integer', minimum: 60, maximum: 3600, default: 600 },
    VERDICT_SESSION_TTL_SECONDS: {
      type: 'integer',
      minimum: 300,
      maximum: 7776000,
      default: 604800,
    },
    VERDICT_SIGNING_KEY_ROTATION_DAYS: { type: 'integer', minimum: 1, maximum: 365, default: 30 },
    VERDICT_ENGINE_POOL_MAX: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
    VERDICT_ENGINE_MEMORY_MB: { type: 'integer', minimum: 2, maximum: 4096, default: 128 },
    VERDICT_ENGINE_STEP_BUDGET: {
      type: 'integer',
      minimum: 1000,
      maximum: 1000000000,
      default: 10000000,
    },
    VERDICT_DECISION_CACHE_MAX: { type: 'integer', minimum: 1, maximum: 10000000, default: 100000 },
    VERDICT_DECISION_CACHE_TTL_MS: {
      type: 'integer',
      minimum: 1000,
      maximum: 86400000,
      default: 300000,
    },
    VERDICT_BREAKER_FAILURES: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    VERDICT_BREAKER_OPEN_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 5000 },
    VERDICT_MAX_INPUT_DEPTH: { type: 'integer', minimum: 1, maximum: 1000, default: 64 },
    VERDICT_MAX_BODY_MEMBERS: {
      type: 'integer',
      minimum: 100,
      maximum: 10000000,
      default: 100000,
    },
    VERDICT_CORS_ORIGINS: { type: 'string', nullable: true, pattern: listOf(originPattern) },
    VERDICT_TRUST_PROXY: { type: 'string', nullable: true, pattern: listOf(proxyPattern) },
    VERDICT_RATE_LIMIT_IP: rateLimitSetting('5000/1s'),
    VERDICT_RATE_LIMIT_DECISIONS: rateLimitSetting('2000/1s'),
    VERDICT_RATE_LIMIT_ADMIN: rateLimitSetting('100/1s'),
    VERDICT_RATE_LIMIT_AUTH_IP: rateLimitSetting('30/1m'),
    VERDICT_RATE_LIMIT_AUTH_ACCOUNT: rateLimitSetting('10/1m'),
    VERDICT_METRICS: { type: 'string', enum: switchValues, default: 'on' },
    VERDICT_METRICS_TOKEN: { type: 'string', nullable: true, minLength: 24, pattern: '^\\S+$' },
    VERDICT_METRICS_TENANT_LABEL: { type: 'string', enum: switchValues, default: 'on' },
    VERDICT_OTEL_EXPORTER: { type: 'string', enum: ['off', 'otlp'], default: 'off' },
    VERDICT_OTEL_ENDPOINT: { type: 'string', nullable: true, pattern: '^https?://[^\\s]+$' },
    VERDICT_OTEL_SAMPLE_RATIO: { type: 'number', minimum: 0, maximum: 1, default: 1 },
  },
  required: [
    'PORT',
    'VERDICT_HOST',
    'VERDICT_DB_POOL_MAX',
    'VERDICT_REDIS_PREFIX',
    'VERDICT_REDIS_TIMEOUT_MS',
    'VERDICT_DATA_DIR',
    'VERDICT_EMBEDDED_PG_PORT',
    'LOG_LEVEL',
    'VERDICT_SHUTDOWN_DELAY_MS',
    'VERDICT_SHUTDOWN_TIMEOUT_MS',
    'VERDICT_WORKERS',
    'VERDICT_ACCESS_TOKEN_TTL_SECONDS',
    'VERDICT_SESSION_TTL_SECONDS',
    'VERDICT_SIGNING_KEY_ROTATION_DAYS',
    'VERDICT_ENGINE_POOL_MAX',
    'VERDICT_ENGINE_MEMORY_MB',
    'VERDICT_ENGINE_STEP_BUDGET',
    'VERDICT_DECISION_CACHE_MAX',
    'VERDICT_DECISION_CACHE_TTL_MS',
    'VERDICT_BREAKER_FAILURES',
    'VERDICT_BREAKER_OPEN_MS',
    'VERDICT_MAX_INPUT_DEPTH',
    'VERDICT_MAX_BODY_MEMBERS',
    'VERDICT_RATE_LIMIT_IP',
    'VERDICT_RATE_LIMIT_DECISIONS',
    'VERDICT_RATE_LIMIT_ADMIN',
    'VERDICT_RATE_LIMIT_AUTH_IP',
    'VERDICT_RATE_LIMIT_AUTH_ACCOUNT',
    'VERDICT_METRICS',
    'VERDICT_METRICS_TENANT_LABEL',
    'VERDICT_OTEL_EXPORTER',
    'VERDICT_OTEL_SAMPLE_RATIO',
  ],
  additionalProperties: false,
};

const validate = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true }).compile(schema);

const settingNames = Object.keys(expectations) as SettingName[];

function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(expectations, name);
}

/** Names the setting an ajv error is about (the schema is flat, so the path is `/NAME`). */
function settingOf(error: ErrorObject): SettingName | undefined {
  const name = error.instancePath.slice(1);
  return isSettingName(name) ? name : undefined;
}

function describeBadSetting(name: SettingName, raw: string | undefined): string {
  const shown = secretSettings.has(name) ? '(value hidden)' : JSON.stringify(raw);
  return `${name}=${shown}: expected ${expectations[name]}`;
}

/**
 * Reads and validates the configuration. Empty variables count as unset. Throws a
 * `config_invalid` VerdictError whose message has one line per bad setting.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Config {
  const raw: Partial<Record<SettingName, string>> = {};
  for (const name of settingNames) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
  }
  const data: Record<string, unknown> = { ...raw };
  if (!validate(data)) {
    const bad = new Set<SettingName>();
    for (const error of validate.errors ?? []) {
      const name = settingOf(error);
      if (name !== undefined) bad.add(name);
    }
    const problems = settingNames
      .filter((name) => bad.has(name))
      .map((name) => describeBadSetting(name, raw[name]));
    throw new VerdictError(
      'config_invalid',
      `invalid configuration (${problems.length} bad setting${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((line) => `  ${line}`).join('\n'),
      { extensions: { problems } },
    );
  }
  const settings = data as unknown as EnvSettings;
  return {
    port: settings.PORT,
    host: settings.VERDICT_HOST,
    databaseUrl: settings.DATABASE_URL,
    databasePoolMax: settings.VERDICT_DB_POOL_MAX,
    redisUrl: settings.REDIS_URL,
    redisKeyPrefix: settings.VERDICT_REDIS_PREFIX,
    redisTimeoutMs: settings.VERDICT_REDIS_TIMEOUT_MS,
    dataDir: path.resolve(cwd, settings.VERDICT_DATA_DIR),
    embeddedPgPort: settings.VERDICT_EMBEDDED_PG_PORT,
    logLevel: settings.LOG_LEVEL,
    shutdownDelayMs: settings.VERDICT_SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: settings.VERDICT_SHUTDOWN_TIMEOUT_MS,
    adminToken: settings.VERDICT_ADMIN_TOKEN,
    dataKeys: settings.VERDICT_DATA_KEYS,
    dataKeyId: settings.VERDICT_DATA_KEY_ID,
    blindIndexKey: settings.VERDICT_BLIND_INDEX_KEY,
    accessTokenTtlSeconds: settings.VERDICT_ACCESS_TOKEN_TTL_SECONDS,
    sessionTtlSeconds: settings.VERDICT_SESSION_TTL_SECONDS,
    signingKeyRotationDays: settings.VERDICT_SIGNING_KEY_ROTATION_DAYS,
    enginePoolMax: settings.VERDICT_ENGINE_POOL_MAX,
    engineMemoryMb: settings.VERDICT_ENGINE_MEMORY_MB,
    engineStepBudget: settings.VERDICT_ENGINE_STEP_BUDGET,
    decisionCacheMax: settings.VERDICT_DECISION_CACHE_MAX,
    decisionCacheTtlMs: settings.VERDICT_DECISION_CACHE_TTL_MS,
    breakerFailures: settings.VERDICT_BREAKER_FAILURES,
    breakerOpenMs: settings.VERDICT_BREAKER_OPEN_MS,
    maxInputDepth: settings.VERDICT_MAX_INPUT_DEPTH,
    maxBodyMembers: settings.VERDICT_MAX_BODY_MEMBERS,
    corsOrigins: listItems(settings.VERDICT_CORS_ORIGINS),
    trustProxy: settings.VERDICT_TRUST_PROXY,
    rateLimits: {
      ip: rateLimitRule(settings.VERDICT_RATE_LIMIT_IP),
      decisions: rateLimitRule(settings.VERDICT_RATE_LIMIT_DECISIONS),
      admin: rateLimitRule(settings.VERDICT_RATE_LIMIT_ADMIN),
      authIp: rateLimitRule(settings.VERDICT_RATE_LIMIT_AUTH_IP),
      authAccount: rateLimitRule(settings.VERDICT_RATE_LIMIT_AUTH_ACCOUNT),
    },
    workers: settings.VERDICT_WORKERS.trim() === 'auto' ? 'auto' : Number(settings.VERDICT_WORKERS),
    metricsEnabled: settings.VERDICT_METRICS === 'on',
    metricsToken: settings.VERDICT_METRICS_TOKEN,
    metricsTenantLabel: settings.VERDICT_METRICS_TENANT_LABEL === 'on',
    tracing: {
      exporter: settings.VERDICT_OTEL_EXPORTER,
      endpoint: settings.VERDICT_OTEL_ENDPOINT,
      sampleRatio: settings.VERDICT_OTEL_SAMPLE_RATIO,
    },
  };
}

function listItems(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').map((item) => item.trim());
}

/** A rate limit setting the schema has checked: `off`, or `points/duration`. */
function rateLimitRule(text: string): RateLimitRule | undefined {
  if (text === 'off') return undefined;
  const [points = '', duration = ''] = text.split('/');
  return { points: Number(points), durationSeconds: parseDuration(duration) as number };
}

/** The configuration with secrets and credentials masked, for the start-up log line. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: config.databaseUrl === undefined ? undefined : maskUrl(config.databaseUrl),
    redisUrl: config.redisUrl === undefined ? undefined : maskUrl(config.redisUrl),
    adminToken: config.adminToken === undefined ? undefined : '(set)',
    dataKeys: config.dataKeys === undefined ? undefined : '(set)',
    blindIndexKey: config.blindIndexKey === undefined ? undefined : '(set)',
    metricsToken: config.metricsToken === undefined ? undefined : '(set)',
    tracing: {
      ...config.tracing,
      endpoint:
        config.tracing.endpoint === undefined ? undefined : maskUrl(config.tracing.endpoint),
    },
  };
}

/** The URL with its password replaced, safe for logs and error messages. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** One setting as the reference in docs/operations.md lists it (api/config-reference.ts). */
export interface SettingReference {
  readonly name: string;
  /** The schema's default; undefined: unset unless given. */
  readonly defaultValue: string | number | undefined;
  /** What the value must be, as a bad value's error line says it. */
  readonly expected: string;
  /** Never logged nor echoed in an error line. */
  readonly secret: boolean;
}

/** Every setting, in the order the schema declares them. */
export function settingsReference(): SettingReference[] {
  const properties = schema.properties as Record<string, { default?: string | number }>;
  return settingNames.map((name) => ({
    name,
    defaultValue: properties[name]?.default,
    expected: expectations[name],
    secret: secretSettings.has(name),
  }));
}
