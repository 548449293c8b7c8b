/**
 * Tenant API keys (how app backends authenticate), the bundle registry (bundles and their
 * immutable versions), and each tenant's bundle state (its stable version). Tenants gain two
 * switches: refuse unsigned bundles, and answer decisions only once their audit row is written.
 */
import type { Knex } from 'knex';

/** The scopes a key may carry; the service's list (api/models/api-key.ts) must match. */
const scopes = ['decide', 'bundles:write', 'audit:read'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.boolean('require_signed_bundles').notNullable().defaultTo(false);
    table.boolean('audit_strict').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('api_keys', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
    table.text('name').notNullable();
    // The public part of the key (`vdk_<prefix>_<secret>`): finds the row, shown in listings.
    table.text('prefix').notNullable().unique();
    // Hex SHA-256 of the secret part; the key itself is shown once, at creation.
    table.text('secret_hash').notNullable();
    table.specificType('scopes', 'text[]').notNullable();
    table.timestamp('expires_at', { useTz: true });
    table.timestamp('last_used_at', { useTz: true });
    table.timestamp('revoked_at', { useTz: true });
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['tenant_id']);
  });
  await knex.raw(
    "alter table api_keys add constraint api_keys_prefix_format check (prefix ~ '^[0-9a-f]{12}$')",
  );
  await knex.raw(
    "alter table api_keys add constraint api_keys_secret_hash_format check (secret_hash ~ '^[0-9a-f]{64}$')",
  );
  await knex.raw(
    `alter table api_keys add constraint api_keys_scopes_known check (
       cardinality(scopes) > 0 and scopes <@ array[${scopes.map((s) => `'${s}'`).join(', ')}]::text[])`,
  );
  await knex.raw(
    'alter table api_keys add constraint api_keys_name_length check (char_length(name) between 1 and 200)',
  );

  await knex.schema.createTable('bundles', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
    table.text('name').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(['tenant_id', 'name']);
    // Target of tenant_bundles' composite key, which ties a bundle to its own tenant.
    table.unique(['id', 'tenant_id']);
  });
  await knex.raw(
    "alter table bundles add constraint bundles_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')",
  );

  await knex.schema.createTable('bundle_versions', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('bundle_id').notNullable().references('id').inTable('bundles').onDelete('CASCADE');
    table.text('version').notNullable();
    // The content revision (the manifest's `revision`, a content hash for built bundles).
    table.text('revision').notNullable();
    table.text('engine').notNullable();
    table.jsonb('manifest').notNullable();
    table.binary('tar').notNullable();
    table.text('signature_status').notNullable();
    table.text('uploaded_by').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(['bundle_id', 'version']);
    // Target of tenant_bundles' composite key, which ties a stable version to its bundle.
    table.unique(['id', 'bundle_id']);
  });
  // Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, optional pre-release and build metadata.
  // (`{0,1}`, not `?`: knex would take a `?` for a parameter placeholder.)
  await knex.raw(
    `alter table bundle_versions add constraint bundle_versions_version_semver check (version ~
       '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+){0,1}(\\+[0-9A-Za-z.-]+){0,1}$')`,
  );
  await knex.raw(
    "alter table bundle_versions add constraint bundle_versions_engine_known check (engine in ('rego', 'casl'))",
  );
  await knex.raw(
    "alter table bundle_versions add constraint bundle_versions_signature_status_known check (signature_status in ('verified', 'unsigned'))",
  );
  // A published version never changes: a fix is a new version. Deleting (with its bundle or
  // tenant) stays possible.
  await knex.raw(`
    create function bundle_versions_refuse_update() returns trigger language plpgsql as $$
    begin
      raise exception 'bundle versions are immutable: publish a new version instead'
        using errcode = 'restrict_violation';
    end
    $$`);
  await knex.raw(`
    create trigger bundle_versions_immutable before update on bundle_versions
    for each row execute function bundle_versions_refuse_update()`);

  await knex.schema.createTable('tenant_bundles', (table) => {
    table.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
    table.uuid('bundle_id').notNullable();
    // Null until a version is activated.
    table.uuid('stable_version_id');
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['tenant_id', 'bundle_id']);
    // The bundle must be the tenant's own, and the stable version one of that bundle's.
    table
      .foreign(['bundle_id', 'tenant_id'])
      .references(['id', 'tenant_id'])
      .inTable('bundles')
      .onDelete('CASCADE');
    table
      .foreign(['stable_version_id', 'bundle_id'])
      .references(['id', 'bundle_id'])
      .inTable('bundle_versions');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tenant_bundles');
  await knex.schema.dropTable('bundle_versions');
  await knex.raw('drop function bundle_versions_refuse_update()');
  await knex.schema.dropTable('bundles');
  await knex.schema.dropTable('api_keys');
  await knex.schema.alterTable('tenants', (table) => {
    table.dropColumn('audit_strict');
    table.dropColumn('require_signed_bundles');
  });
}
