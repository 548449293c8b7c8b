/**
 * The backup file format, version 1 (docs/operations.md, "Backups and restore").
 *
 * A backup is gzip-compressed UTF-8 text, one JSON value per line:
 *
 * 1. the header (`BackupHeader`): what made it, from which migration level, which tenants and
 *    audit rows, how many rows of each table, the data key ids its encrypted fields need, and
 *    the SHA-256 of every line after it;
 * 2. for each table, in restore order, a section line `{"table", "columns", "types"}`
 *    followed by one line per row: a JSON array of the columns' values as Postgres writes them
 *    as text (null for SQL NULL), so every type — timestamps to the microsecond, bytea,
 *    arrays, jsonb — comes back exactly as it was.
 *
 * The header is gzip member of its own in front of the others, which lets it hold the
 * checksum and counts of a content streamed before it was known (concatenated gzip members
 * read as one stream).
 */
import Ajv, { type JSONSchemaType, type SchemaObject } from 'ajv';

export const backupFormat = 'verdict-backup';
export const backupFormatVersion = 1;

/** A file that cannot be restored, or a database a backup cannot go into; the message says why. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

export type AuditMode = 'all' | 'none' | 'range';

export interface BackupHeader {
  format: string;
  format_version: number;
  verdict_version: string;
  /** ISO 8601, when the snapshot was taken. */
  created_at: string;
  /** The last migration applied to the source: a restore migrates its target to this one. */
  migration: string;
  /** Every migration applied to the source, in order. */
  migrations: string[];
  /** Ids of the tenants backed up; null: every tenant. */
  tenants: string[] | null;
  audit: {
    mode: AuditMode;
    /** The range of a range backup (ISO 8601, from inclusive, to exclusive); null: open. */
    from: string | null;
    to: string | null;
    /** Anchors the backup added so that chains starting after its first row still verify. */
    range_anchors: number;
  };
  /** Months with a partition of their own in the source (`2026-05`); a restore creates them. */
  partitions: string[];
  /** Rows of each table in the file, in restore order. */
  tables: Record<string, number>;
  /** Tables deliberately left out, with why. */
  excluded: Record<string, string>;
  /** Tables found in the source that this Verdict does not know: not in the file. */
  unknown_tables: string[];
  keys: {
    /** The data keys (VERDICT_DATA_KEYS ids) the encrypted fields in the file were sealed with. */
    data_key_ids: string[];
    /** Whether users' e-mail look-ups need the blind index key (VERDICT_BLIND_INDEX_KEY). */
    blind_index: boolean;
  };
  /** Hex SHA-256 of every byte after the header line (uncompressed). */
  content_sha256: string;
}

export interface SectionLine {
  table: string;
  columns: string[];
  /** Each column's type as Postgres names it (`timestamp with time zone`). */
  types: string[];
}

const ajv = new Ajv({ allErrors: true, strict: true });

const counts = {
  type: 'object',
  required: [],
  additionalProperties: { type: 'integer', minimum: 0 },
} as const;

const reasons = {
  type: 'object',
  required: [],
  additionalProperties: { type: 'string' },
} as const;

// A plain schema: ajv's JSONSchemaType cannot express a required array that may be null.
const headerSchema: SchemaObject = {
  type: 'object',
  properties: {
    format: { type: 'string', const: backupFormat },
    format_version: { type: 'integer', const: backupFormatVersion },
    verdict_version: { type: 'string' },
    created_at: { type: 'string' },
    migration: { type: 'string', minLength: 1 },
    migrations: { type: 'array', items: { type: 'string' }, minItems: 1 },
    tenants: { type: 'array', items: { type: 'string' }, nullable: true },
    audit: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['all', 'none', 'range'] },
        from: { type: 'string', nullable: true },
        to: { type: 'string', nullable: true },
        range_anchors: { type: 'integer', minimum: 0 },
      },
      required: ['mode', 'from', 'to', 'range_anchors'],
      additionalProperties: false,
    },
    partitions: { type: 'array', items: { type: 'string', pattern: '^\\d{4}-\\d{2}$' } },
    tables: counts,
    excluded: reasons,
    unknown_tables: { type: 'array', items: { type: 'string' } },
    keys: {
      type: 'object',
      properties: {
        data_key_ids: { type: 'array', items: { type: 'string' } },
        blind_index: { type: 'boolean' },
      },
      required: ['data_key_ids', 'blind_index'],
      additionalProperties: false,
    },
    content_sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
  required: [
    'format',
    'format_version',
    'verdict_version',
    'created_at',
    'migration',
    'migrations',
    'tenants',
    'audit',
    'partitions',
    'tables',
    'excluded',
    'unknown_tables',
    'keys',
    'content_sha256',
  ],
  additionalProperties: false,
};

const sectionSchema: JSONSchemaType<SectionLine> = {
  type: 'object',
  properties: {
    table: { type: 'string', minLength: 1 },
    columns: { type: 'array', items: { type: 'string' }, minItems: 1 },
    types: { type: 'array', items: { type: 'string' }, minItems: 1 },
  },
  required: ['table', 'columns', 'types'],
  additionalProperties: false,
};

const validHeader = ajv.compile<BackupHeader>(headerSchema);
const validSection = ajv.compile(sectionSchema);

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** The header line as a header; a BackupError says why it is not one this Verdict reads. */
export function parseHeader(line: string, file: string): BackupHeader {
  const value = parseJson(line);
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (record.format !== backupFormat) {
    throw new BackupError(`${file} is not a Verdict backup (its first line is no backup header)`);
  }
  const version = record.format_version;
  if (typeof version === 'number' && version > backupFormatVersion) {
    throw new BackupError(
      `${file} is a backup of format ${String(version)}, made by a newer Verdict ` +
        `(${String(record.verdict_version)}); this one (format ${String(backupFormatVersion)}) cannot read it`,
    );
  }
  if (!validHeader(value)) {
    const problems = (validHeader.errors ?? [])
      .map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`)
      .join('; ');
    throw new BackupError(`${file} has a damaged backup header: ${problems}`);
  }
  return value;
}

/** A section line, or undefined when `value` is not one. */
export function asSection(value: unknown): SectionLine | undefined {
  return validSection(value) ? value : undefined;
}

/** A row line's values, or undefined when `value` is not an array of strings and nulls. */
export function asRow(value: unknown): (string | null)[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const item of value) {
    if (item !== null && typeof item !== 'string') return undefined;
  }
  return value as (string | null)[];
}
