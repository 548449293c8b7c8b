/**
 * Per-user CASL rules from a tenant's active CASL bundle, for front ends that build their own
 * `createMongoAbility`: the rule set the server decides with (read from the stored bundle),
 * with the user's roles applied and templates filled in (policies/casl/pack.ts).
 */
import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';
import { readTarGz } from '../../../policies/bundle/tar';
import { unpackBundle } from '../../../policies/bundle/unpack';
import { packedRulesForUser, rulesForUser } from '../../../policies/casl';
import type { CaslRule } from '../../../policies/casl/rules';
import { loadRuleSet } from '../../../policies/casl/source';
import { withTenant } from '../../db/tenant-scope';
import { VerdictError } from '../../errors';

export interface UserRules {
  readonly bundle: { readonly name: string; readonly version: string; readonly revision: string };
  readonly rules: unknown[];
}

interface ActiveVersion {
  id: string;
  version: string;
  revision: string;
  engine: string;
}

export class CaslRulesService {
  /** Parsed rule sets by bundle version (versions are immutable). */
  private readonly ruleSets = new LRUCache<string, readonly CaslRule[]>({ max: 256 });

  constructor(private readonly knex: Knex) {}

  async rulesFor(
    tenantId: string,
    bundleName: string,
    user: unknown,
    packed: boolean,
  ): Promise<UserRules> {
    const active = await withTenant(this.knex, tenantId, (trx) =>
      trx('tenant_bundles as tb')
        .join('bundles as b', function joinBundle() {
          this.on('b.id', '=', 'tb.bundle_id').andOn('b.tenant_id', '=', 'tb.tenant_id');
        })
        .join('bundle_versions as v', 'v.id', 'tb.stable_version_id')
        .where({ 'tb.tenant_id': tenantId, 'b.name': bundleName })
        .first<ActiveVersion | undefined>('v.id', 'v.version', 'v.revision', 'v.engine'),
    );
    if (!active)
      throw new VerdictError(
        'not_found',
        `No active bundle named ${JSON.stringify(bundleName)}: push and activate a CASL bundle under that name first.`,
      );
    if (active.engine !== 'casl')
      throw new VerdictError(
        'bad_request',
        `Bundle ${JSON.stringify(bundleName)} is a Rego bundle; per-user rules come from CASL bundles (engine "casl").`,
      );
    const rules = await this.ruleSet(tenantId, active.id);
    return {
      bundle: { name: bundleName, version: active.version, revision: active.revision },
      rules: packed
        ? packedRulesForUser(rules, user)
        : rulesForUser(rules, user).map((r) => r.rule),
    };
  }

  private async ruleSet(tenantId: string, versionId: string): Promise<readonly CaslRule[]> {
    const known = this.ruleSets.get(versionId);
    if (known) return known;
    const row = await withTenant(this.knex, tenantId, (trx) =>
      trx('bundle_versions').where({ id: versionId }).first<{ tar: Buffer } | undefined>('tar'),
    );
    const source = row && unpackBundle(readTarGz(row.tar)).ruleSet;
    const loaded = source && loadRuleSet(source);
    // The registry compiled this bundle before storing it, so its rule set is valid.
    if (!loaded?.rules)
      throw new VerdictError(
        'bundle_unavailable',
        'The active CASL bundle holds no readable rule set; push it again.',
      );
    this.ruleSets.set(versionId, loaded.rules);
    return loaded.rules;
  }
}
