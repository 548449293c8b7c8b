import path from 'node:path';
import { describeConfig, loadConfig } from '../../../api/config';
import { VerdictError } from '../../../api/errors';

/** The lines of the error `loadConfig(env)` throws. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env, '/srv/verdict');
  } catch (err) {
    expect(err).toBeInstanceOf(VerdictError);
    const error = err as VerdictError;
    expect(error.code).toBe('config_invalid');
    const [heading, ...lines] = error.message.split('\n');
    expect(heading).toMatch(/^invalid configuration \(\d+ bad settings?\):$/);
    expect(error.extensions.problems).toEqual(lines.map((line) => line.trim()));
    return lines.map((line) => line.trim());
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    expect(loadConfig({}, '/srv/verdict')).toEqual({
      port: 8181,
      host: '0.0.0.0',
      databaseUrl: undefined,
      databasePoolMax: 10,
      redisUrl: undefined,
      redisKeyPrefix: 'verdict:',
      redisTimeoutMs: 500,
      dataDir: path.resolve('/srv/verdict', '.verdict'),
      embeddedPgPort: 0,
      logLevel: 'info',
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 10000,
      adminToken: undefined,
      enginePoolMax: 1000,
      engineMemoryMb: 128,
      engineStepBudget: 10000000,
      decisionCacheMax: 100000,
      decisionCacheTtlMs: 300000,
      breakerFailures: 5,
      breakerOpenMs: 5000,
      maxInputDepth: 64,
      dataKeys: undefined,
      dataKeyId: undefined,
      blindIndexKey: undefined,
      accessTokenTtlSeconds: 600,
      sessionTtlSeconds: 604800,
      signingKeyRotationDays: 30,
      maxBodyMembers: 100000,
      corsOrigins: [],
      trustProxy: undefined,
      workers: 'auto',
      metricsEnabled: true,
      metricsToken: undefined,
      metricsTenantLabel: true,
      tracing: { exporter: 'off', endpoint: undefined, sampleRatio: 1 },
      rateLimits: {
        ip: { points: 5000, durationSeconds: 1 },
        decisions: { points: 2000, durationSeconds: 1 },
        admin: { points: 100, durationSeconds: 1 },
        authIp: { points: 30, durationSeconds: 60 },
        authAccount: { points: 10, durationSeconds: 60 },
      },
    });
  });

  it('reads every setting, coercing numbers and resolving the data folder', () => {
    const config = loadConfig(
      {
        PORT: '9000',
        VERDICT_HOST: '127.0.0.1',
        DATABASE_URL: 'postgres://app:pw@db:5432/verdict',
        VERDICT_DB_POOL_MAX: '25',
        REDIS_URL: 'rediss://cache:6380/2',
        VERDICT_REDIS_PREFIX: 'prod:',
        VERDICT_DATA_DIR: 'state',
        VERDICT_EMBEDDED_PG_PORT: '5433',
        LOG_LEVEL: 'debug',
        VERDICT_SHUTDOWN_DELAY_MS: '5000',
        VERDICT_SHUTDOWN_TIMEOUT_MS: '2500',
        VERDICT_ADMIN_TOKEN: 'a'.repeat(24),
        VERDICT_ENGINE_POOL_MAX: '50',
        VERDICT_ENGINE_MEMORY_MB: '32',
        VERDICT_ENGINE_STEP_BUDGET: '200000',
        VERDICT_DECISION_CACHE_MAX: '5000',
        VERDICT_DECISION_CACHE_TTL_MS: '60000',
        VERDICT_MAX_INPUT_DEPTH: '16',
        VERDICT_MAX_BODY_MEMBERS: '5000',
        VERDICT_CORS_ORIGINS: 'https://console.example.com, http://[::1]:5173,http://10.0.0.7:8080',
        VERDICT_TRUST_PROXY: '10.0.0.0/8, loopback',
        VERDICT_RATE_LIMIT_IP: '100/1m',
        VERDICT_RATE_LIMIT_DECISIONS: 'off',
        VERDICT_RATE_LIMIT_ADMIN: '20/2s',
        VERDICT_RATE_LIMIT_AUTH_IP: '5/1h',
        VERDICT_RATE_LIMIT_AUTH_ACCOUNT: '3/1d',
        VERDICT_WORKERS: ' 4 ',
        VERDICT_METRICS: 'off',
        VERDICT_METRICS_TOKEN: 'm'.repeat(24),
        VERDICT_METRICS_TENANT_LABEL: 'off',
        VERDICT_OTEL_EXPORTER: 'otlp',
        VERDICT_OTEL_ENDPOINT: 'http://collector:4318/v1/traces',
        VERDICT_OTEL_SAMPLE_RATIO: '0.25',
      },
      '/srv/verdict',
    );
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://app:pw@db:5432/verdict',
      databasePoolMax: 25,
      redisUrl: 'rediss://cache:6380/2',
      redisKeyPrefix: 'prod:',
      redisTimeoutMs: 500,
      dataDir: '/srv/verdict/state',
      embeddedPgPort: 5433,
      logLevel: 'debug',
      shutdownDelayMs: 5000,
      shutdownTimeoutMs: 2500,
      adminToken: 'a'.repeat(24),
      enginePoolMax: 50,
      engineMemoryMb: 32,
      engineStepBudget: 200000,
      decisionCacheMax: 5000,
      decisionCacheTtlMs: 60000,
      breakerFailures: 5,
      breakerOpenMs: 5000,
      maxInputDepth: 16,
      dataKeys: undefined,
      dataKeyId: undefined,
      blindIndexKey: undefined,
      accessTokenTtlSeconds: 600,
      sessionTtlSeconds: 604800,
      signingKeyRotationDays: 30,
      maxBodyMembers: 5000,
      corsOrigins: ['https://console.example.com', 'http://[::1]:5173', 'http://10.0.0.7:8080'],
      trustProxy: '10.0.0.0/8, loopback',
      workers: 4,
      metricsEnabled: false,
      metricsToken: 'm'.repeat(24),
      metricsTenantLabel: false,
      tracing: {
        exporter: 'otlp',
        endpoint: 'http://collector:4318/v1/traces',
        sampleRatio: 0.25,
      },
      rateLimits: {
        ip: { points: 100, durationSeconds: 60 },
        decisions: undefined,
        admin: { points: 20, durationSeconds: 2 },
        authIp: { points: 5, durationSeconds: 3600 },
        authAccount: { points: 3, durationSeconds: 86400 },
      },
    });
  });

  it('treats empty and blank variables as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '  ', LOG_LEVEL: '' }, '/x');
    expect(config.port).toBe(8181);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('refuses tracing settings that cannot work, saying what each is for', () => {
    expect(
      problemsOf({
        VERDICT_OTEL_EXPORTER: 'jaeger',
        VERDICT_OTEL_ENDPOINT: 'collector:4318',
        VERDICT_OTEL_SAMPLE_RATIO: '1.5',
      }),
    ).toEqual([
      expect.stringMatching(
        /^VERDICT_OTEL_EXPORTER="jaeger": expected off or otlp \(OpenTelemetry/,
      ),
      expect.stringMatching(/^VERDICT_OTEL_ENDPOINT="collector:4318": expected an http\(s\) URL/),
      expect.stringMatching(/^VERDICT_OTEL_SAMPLE_RATIO="1.5": expected a number from 0 to 1/),
    ]);
    expect(problemsOf({ VERDICT_OTEL_SAMPLE_RATIO: 'half' })).toHaveLength(1);
    expect(loadConfig({ VERDICT_OTEL_SAMPLE_RATIO: '0' }, '/x').tracing.sampleRatio).toBe(0);
  });

  it('masks a password in the tracing endpoint when describing the configuration', () => {
    const config = loadConfig({ VERDICT_OTEL_ENDPOINT: 'https://u:secret@otel.example/v1/traces' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('secret');
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ HOME: '/root', VERDICT_UNKNOWN: 'x' }, '/x').port).toBe(8181);
  });

  it.each([
    [
      'PORT',
      'http',
      'PORT="http": expected an integer from 0 to 65535 (the HTTP port; default 8181)',
    ],
    [
      'PORT',
      '65536',
      'PORT="65536": expected an integer from 0 to 65535 (the HTTP port; default 8181)',
    ],
    [
      'PORT',
      '80.5',
      'PORT="80.5": expected an integer from 0 to 65535 (the HTTP port; default 8181)',
    ],
    [
      'VERDICT_HOST',
      'my host',
      'VERDICT_HOST="my host": expected a host name or IP address to listen on (default 0.0.0.0)',
    ],
    [
      'DATABASE_URL',
      'mysql://root@db/verdict',
      'DATABASE_URL=(value hidden): expected a postgres:// or postgresql:// URL, e.g. postgres://user:pass@db:5432/verdict (unset: the embedded database in VERDICT_DATA_DIR)',
    ],
    [
      'VERDICT_DB_POOL_MAX',
      '0',
      'VERDICT_DB_POOL_MAX="0": expected an integer from 1 to 200 (database connections per process; default 10)',
    ],
    [
      'REDIS_URL',
      'cache:6379',
      'REDIS_URL="cache:6379": expected a redis:// or rediss:// URL, e.g. redis://cache:6379/0 (unset: cache, rate limits and pub/sub in-process)',
    ],
    [
      'VERDICT_REDIS_PREFIX',
      'has space',
      'VERDICT_REDIS_PREFIX="has space": expected letters, digits and ._:- only, at most 64 characters (default verdict:)',
    ],
    [
      'VERDICT_EMBEDDED_PG_PORT',
      '-1',
      'VERDICT_EMBEDDED_PG_PORT="-1": expected an integer from 0 to 65535 (0 picks a free port; default 0)',
    ],
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL="verbose": expected one of fatal, error, warn, info, debug, trace, silent (default info)',
    ],
    [
      'VERDICT_ADMIN_TOKEN',
      'short-secret',
      'VERDICT_ADMIN_TOKEN=(value hidden): expected at least 24 characters without spaces (e.g. the output of `openssl rand -base64 32`); the bootstrap credential of the admin API, which is off while it is unset',
    ],
    [
      'VERDICT_SHUTDOWN_DELAY_MS',
      '-1',
      'VERDICT_SHUTDOWN_DELAY_MS="-1": expected an integer from 0 to 600000 milliseconds (how long a stopping server still serves while reporting not ready; default 0)',
    ],
    [
      'VERDICT_SHUTDOWN_TIMEOUT_MS',
      'soon',
      'VERDICT_SHUTDOWN_TIMEOUT_MS="soon": expected an integer from 0 to 600000 milliseconds (how long shutdown waits for requests in flight; default 10000)',
    ],
    [
      'VERDICT_ADMIN_TOKEN',
      'too-short',
      'VERDICT_ADMIN_TOKEN=(value hidden): expected at least 24 characters without spaces (e.g. the output of `openssl rand -base64 32`); the bootstrap credential of the admin API, which is off while it is unset',
    ],
    [
      'VERDICT_ADMIN_TOKEN',
      'twenty four chars with spaces',
      'VERDICT_ADMIN_TOKEN=(value hidden): expected at least 24 characters without spaces (e.g. the output of `openssl rand -base64 32`); the bootstrap credential of the admin API, which is off while it is unset',
    ],
    [
      'VERDICT_ENGINE_POOL_MAX',
      '0',
      'VERDICT_ENGINE_POOL_MAX="0": expected an integer from 1 to 100000 (compiled policy engines kept in memory, least recently used evicted first; default 1000)',
    ],
    [
      'VERDICT_ENGINE_MEMORY_MB',
      '1',
      'VERDICT_ENGINE_MEMORY_MB="1": expected an integer from 2 to 4096 (MiB of memory per policy engine; default 128)',
    ],
    [
      'VERDICT_ENGINE_STEP_BUDGET',
      'lots',
      'VERDICT_ENGINE_STEP_BUDGET="lots": expected an integer from 1000 to 1000000000 (evaluation steps per decision before it is stopped with 503; default 10000000)',
    ],
    [
      'VERDICT_DECISION_CACHE_MAX',
      '-5',
      'VERDICT_DECISION_CACHE_MAX="-5": expected an integer from 1 to 10000000 (decisions kept in the in-process cache; default 100000)',
    ],
    [
      'VERDICT_DECISION_CACHE_TTL_MS',
      '10',
      'VERDICT_DECISION_CACHE_TTL_MS="10": expected an integer from 1000 to 86400000 milliseconds (life of a cached decision; default 300000)',
    ],
    [
      'VERDICT_MAX_INPUT_DEPTH',
      '0',
      'VERDICT_MAX_INPUT_DEPTH="0": expected an integer from 1 to 1000 (deepest nesting of a decision input; default 64)',
    ],
    [
      'VERDICT_CORS_ORIGINS',
      'https://a.example.com/path',
      'VERDICT_CORS_ORIGINS="https://a.example.com/path": expected exact origins separated by commas, each scheme://host[:port] without a path, e.g. https://console.example.com',
    ],
    [
      'VERDICT_CORS_ORIGINS',
      '*',
      'VERDICT_CORS_ORIGINS="*": expected exact origins separated by commas, each scheme://host[:port] without a path, e.g. https://console.example.com',
    ],
    [
      'VERDICT_TRUST_PROXY',
      'everyone!',
      'VERDICT_TRUST_PROXY="everyone!": expected a number of proxy hops, or proxy addresses or CIDR ranges separated by commas, or loopback, linklocal, uniquelocal (e.g. 10.0.0.0/8)',
    ],
    [
      'VERDICT_RATE_LIMIT_ADMIN',
      '100 per second',
      'VERDICT_RATE_LIMIT_ADMIN="100 per second": expected off, or requests/window like 100/1s, 30/1m or 500/1h (per credential on every other /v1 route; default 100/1s)',
    ],
    [
      'VERDICT_RATE_LIMIT_DECISIONS',
      '0/1s',
      'VERDICT_RATE_LIMIT_DECISIONS="0/1s": expected off, or requests/window like 100/1s, 30/1m or 500/1h (per credential on POST /, /v1/data, /v1/batch/data and /v1/casl; default 2000/1s)',
    ],
    [
      'VERDICT_METRICS',
      'yes',
      'VERDICT_METRICS="yes": expected on or off (GET /metrics in the Prometheus text format; default on)',
    ],
    [
      'VERDICT_METRICS_TOKEN',
      'short-token',
      'VERDICT_METRICS_TOKEN=(value hidden): expected at least 24 characters without spaces, the bearer token GET /metrics then requires (e.g. the output of `openssl rand -base64 32`)',
    ],
    [
      'VERDICT_METRICS_TENANT_LABEL',
      'OFF',
      'VERDICT_METRICS_TENANT_LABEL="OFF": expected on or off (whether decision metrics are labelled by tenant; off for many thousands of tenants; default on)',
    ],
    [
      'VERDICT_MAX_BODY_MEMBERS',
      '10',
      'VERDICT_MAX_BODY_MEMBERS="10": expected an integer from 100 to 10000000 (array elements and object members in one JSON body; default 100000)',
    ],
  ])('rejects %s=%j with one clear line', (name, value, line) => {
    expect(problemsOf({ [name]: value })).toEqual([line]);
  });

  it('reports every bad setting at once, one line each, in a stable order', () => {
    const lines = problemsOf({ LOG_LEVEL: 'loud', PORT: 'x', VERDICT_ADMIN_TOKEN: 'abc' });
    expect(lines.map((line) => line.split(/[=:]/)[0])).toEqual([
      'PORT',
      'LOG_LEVEL',
      'VERDICT_ADMIN_TOKEN',
    ]);
  });

  it('never echoes a secret value', () => {
    const secret = 'p@ssw0rd-that-is-too-short';
    const lines = problemsOf({
      VERDICT_ADMIN_TOKEN: secret,
      DATABASE_URL: `mysql://u:${secret}@h`,
    });
    expect(lines.join('\n')).not.toContain(secret);
  });
});

describe('describeConfig', () => {
  it('masks passwords and tokens for logging', () => {
    const described = describeConfig(
      loadConfig(
        {
          DATABASE_URL: 'postgres://app:hunter2@db:5432/verdict',
          REDIS_URL: 'redis://:hunter3@cache:6379',
          VERDICT_ADMIN_TOKEN: 't'.repeat(30),
          VERDICT_METRICS_TOKEN: 'q'.repeat(30),
        },
        '/x',
      ),
    );
    const text = JSON.stringify(described);
    expect(text).not.toMatch(/hunter2|hunter3|t{30}|q{30}/);
    expect(described.metricsToken).toBe('(set)');
    expect(described.databaseUrl).toBe('postgres://app:***@db:5432/verdict');
    expect(described.redisUrl).toBe('redis://:***@cache:6379');
    expect(described.adminToken).toBe('(set)');
  });
});
