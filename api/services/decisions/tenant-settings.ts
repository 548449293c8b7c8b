/**
 * The per-tenant settings a decision needs (strict audit), read from `tenants` and kept for a
 * few seconds so the hot path does not query the database on every decision. A refresh that
 * fails keeps the last value; with none to keep, the decision fails with a 503.
 */
import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';
import { VerdictError } from '../../errors';

export interface TenantDecisionSettings {
  readonly auditStrict: boolean;
}

export interface TenantSettingsOptions {
  knex: Knex;
  /** How long a read value is used before it is read again (default 5000 ms). */
  ttlMs?: number;
  maxTenants?: number;
}

interface Held {
  settings: TenantDecisionSettings;
  readAt: number;
}

export class TenantSettings {
  private readonly knex: Knex;
  private readonly ttlMs: number;
  private readonly held: LRUCache<string, Held>;
  private readonly reading = new Map<string, Promise<TenantDecisionSettings>>();

  constructor(options: TenantSettingsOptions) {
    this.knex = options.knex;
    this.ttlMs = Math.max(0, options.ttlMs ?? 5000);
    this.held = new LRUCache<string, Held>({ max: Math.max(1, options.maxTenants ?? 10_000) });
  }

  /** The tenant's settings; resolves at once while the last read is fresh. */
  get(tenantId: string): Promise<TenantDecisionSettings> {
    const held = this.held.get(tenantId);
    if (held !== undefined && Date.now() - held.readAt < this.ttlMs) {
      return Promise.resolve(held.settings);
    }
    let reading = this.reading.get(tenantId);
    if (reading === undefined) {
      reading = this.read(tenantId, held).finally(() => {
        this.reading.delete(tenantId);
      });
      this.reading.set(tenantId, reading);
    }
    return reading;
  }

  /** Forgets what was read (after a tenant's settings changed on this instance). */
  forget(tenantId: string): void {
    this.held.delete(tenantId);
  }

  private async read(tenantId: string, held: Held | undefined): Promise<TenantDecisionSettings> {
    let row: { audit_strict: boolean } | undefined;
    try {
      row = await this.knex('tenants')
        .where({ id: tenantId })
        .first<{ audit_strict: boolean } | undefined>('audit_strict');
    } catch (err) {
      if (held !== undefined) return held.settings;
      throw new VerdictError(
        'database_unavailable',
        "The tenant's settings could not be read because the database is unavailable; retry shortly.",
        { cause: err },
      );
    }
    const settings = { auditStrict: row?.audit_strict === true };
    this.held.set(tenantId, { settings, readAt: Date.now() });
    return settings;
  }
}
