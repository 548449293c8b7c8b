/**
 * The per-tenant settings a decision needs (strict audit, the default decision), read from
 * `tenants` and kept so the hot path does not query the database on every decision
 * (api/services/refreshing-cache.ts): a value is re-read in the background once it is 15 s old
 * and never used once it is 30 s old, so a changed `audit_strict` or `default_decision` applies
 * to every decision answered more than 30 s after the change. A read that fails leaves the last
 * value in use until it is 30 s old; past that, and with no value at all, the decision fails
 * with a 503 — unless the database's circuit breaker is open: then the last value stays in
 * use, as verified API keys do (docs/architecture.md).
 */
import type { Knex } from 'knex';
import { VerdictError } from '../../errors';
import type { CircuitBreaker } from '../breaker';
import { RefreshingCache } from '../refreshing-cache';

export interface TenantDecisionSettings {
  readonly auditStrict: boolean;
  /** The path `POST /` evaluates (`system/main`); undefined: OPA's default, `system/main`. */
  readonly defaultDecision?: string;
}

interface SettingsRow {
  readonly audit_strict: boolean;
  readonly default_decision?: string;
}

export interface TenantSettingsOptions {
  knex: Knex;
  /** Age past which a read value is no longer used: the decision waits for a read (30 s). */
  maxAgeMs?: number;
  /** Age past which a value in use is re-read in the background (half of maxAgeMs). */
  refreshAfterMs?: number;
  maxTenants?: number;
  /** Milliseconds since the epoch; tests pass a clock they control. */
  clock?: () => number;
  /** The database's breaker: reads go through it; while not closed, old values are kept. */
  breaker?: CircuitBreaker | undefined;
}

/** How long a decision waits for the tenant's settings before the read counts as failed. */
const settingsReadTimeoutMs = 2000;

export class TenantSettings {
  private readonly knex: Knex;
  private readonly held: RefreshingCache<TenantDecisionSettings>;

  constructor(options: TenantSettingsOptions) {
    this.knex = options.knex;
    const { breaker } = options;
    this.held = new RefreshingCache<TenantDecisionSettings>({
      load: (tenantId) =>
        breaker === undefined
          ? this.read(tenantId)
          : breaker.run(() => this.read(tenantId), settingsReadTimeoutMs),
      serveStale: breaker === undefined ? undefined : () => breaker.state !== 'closed',
      maxAgeMs: options.maxAgeMs ?? 30_000,
      refreshAfterMs: options.refreshAfterMs,
      max: options.maxTenants ?? 10_000,
      clock: options.clock,
    });
  }

  /** The tenant's settings; resolves at once while the last read is young enough. */
  get(tenantId: string): Promise<TenantDecisionSettings> {
    return this.held.get(tenantId);
  }

  /** Forgets what was read (after a tenant's settings changed on this instance). */
  forget(tenantId: string): void {
    this.held.delete(tenantId);
  }

  private async read(tenantId: string): Promise<TenantDecisionSettings> {
    let row: SettingsRow | undefined;
    try {
      row = await this.knex('tenants')
        .where({ id: tenantId })
        .first<SettingsRow | undefined>('audit_strict', 'default_decision');
    } catch (err) {
      throw new VerdictError(
        'database_unavailable',
        "The tenant's settings could not be read because the database is unavailable; retry shortly.",
        { cause: err },
      );
    }
    const defaultDecision = row?.default_decision;
    return {
      auditStrict: row?.audit_strict === true,
      ...(defaultDecision === undefined ? {} : { defaultDecision }),
    };
  }
}
