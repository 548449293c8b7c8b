/**
 * Re-encryption under the active data key (`verdict keys rotate-data-key`): every encrypted
 * column is read, decrypted with whatever key it names, and written back under the active
 * key; e-mail blind indexes are recomputed with the current index key on the way. A value
 * still in plain text (users from before encryption) is encrypted. Rows are handled in
 * pages, each row with a compare-and-set on its old value, so the command can run while the
 * service serves and can be run again after an interruption.
 */
import type { Knex } from 'knex';
import { FieldCipher, fieldContext, normalizeEmail } from './data-keys';

interface EncryptedColumn {
  readonly table: string;
  readonly column: string;
  /** The row id column, part of each value's encryption context. */
  readonly key: string;
  /** Recomputes the blind index of this column into `indexColumn`, when it has one. */
  readonly index?: { readonly column: string; readonly purpose: string };
}

export const encryptedColumns: readonly EncryptedColumn[] = [
  {
    table: 'users',
    column: 'email',
    key: 'id',
    index: { column: 'email_index', purpose: 'users.email' },
  },
  { table: 'user_mfa', column: 'secret', key: 'user_id' },
  { table: 'signing_keys', column: 'private_key', key: 'kid' },
];

export interface ColumnReport {
  readonly column: string;
  readonly scanned: number;
  readonly rewritten: number;
}

const pageSize = 500;

interface Row {
  key: string;
  value: string;
  index: string | null;
}

async function reEncryptColumn(
  knex: Knex,
  cipher: FieldCipher,
  spec: EncryptedColumn,
  onlyUnindexed: boolean,
): Promise<ColumnReport> {
  let scanned = 0;
  let rewritten = 0;
  let after: string | undefined;
  for (;;) {
    const query = knex(spec.table)
      .select({ key: spec.key, value: spec.column, index: spec.index?.column ?? knex.raw('null') })
      .orderBy(spec.key)
      .limit(pageSize);
    if (after !== undefined) void query.where(spec.key, '>', after);
    if (onlyUnindexed && spec.index !== undefined) void query.whereNull(spec.index.column);
    const rows = (await query) as Row[];
    if (rows.length === 0) break;
    for (const row of rows) {
      scanned += 1;
      const context = fieldContext(spec.table, spec.column, row.key);
      const plain = FieldCipher.isEncrypted(row.value)
        ? cipher.decryptText(row.value, context)
        : row.value;
      const index =
        spec.index === undefined
          ? null
          : cipher.blindIndex(spec.index.purpose, normalizeEmail(plain));
      if (cipher.isCurrent(row.value) && index === row.index) continue;
      const update: Record<string, string> = { [spec.column]: cipher.encrypt(plain, context) };
      if (spec.index !== undefined && index !== null) update[spec.index.column] = index;
      rewritten += await knex(spec.table)
        .where({ [spec.key]: row.key, [spec.column]: row.value })
        .update(update);
    }
    after = (rows[rows.length - 1] as Row).key;
  }
  return { column: `${spec.table}.${spec.column}`, scanned, rewritten };
}

/** Re-encrypts every encrypted column under the active key; one report per column. */
export async function reEncryptAll(knex: Knex, cipher: FieldCipher): Promise<ColumnReport[]> {
  const reports: ColumnReport[] = [];
  for (const spec of encryptedColumns)
    reports.push(await reEncryptColumn(knex, cipher, spec, false));
  return reports;
}

/**
 * Encrypts e-mail addresses of users that have no blind index yet (rows from before
 * encryption); cheap when there are none, so it runs at every start.
 */
export async function sealUnindexedUsers(knex: Knex, cipher: FieldCipher): Promise<number> {
  const report = await reEncryptColumn(knex, cipher, encryptedColumns[0] as EncryptedColumn, true);
  return report.rewritten;
}
