/**
 * uuid.rfc4122 (a random version 4 UUID, the same for the same key within one query) and
 * uuid.parse (the fields of an RFC 4122 UUID).
 */
import { randomBytes } from 'node:crypto';
import { keyOf, ObjectValue, normalizeNumber, type Value } from '../../ir/value';
import { operand, stringArg } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

function newUUIDv4(): string {
  const b = randomBytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const rfc4122 = builtin(
  'uuid.rfc4122',
  [T.string],
  T.string,
  (args, ctx) => {
    const key = 'uuid.rfc4122:' + keyOf(operand('uuid.rfc4122', args, 1));
    const hit = ctx.memo.get(key);
    if (hit !== undefined) return hit;
    const id = newUUIDv4();
    ctx.memo.set(key, id);
    return id;
  },
  { nondeterministic: true },
);

/** The 16 bytes of a UUID in one of the forms google/uuid accepts, or undefined. */
export function uuidBytes(s: string): Buffer | undefined {
  let text = s;
  if (text.length === 36 + 9 && text.slice(0, 9).toLowerCase() === 'urn:uuid:')
    text = text.slice(9);
  else if (text.length === 38 && text.startsWith('{') && text.endsWith('}'))
    text = text.slice(1, -1);
  let hex: string;
  if (text.length === 36) {
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text))
      return undefined;
    hex = text.replace(/-/g, '');
  } else if (text.length === 32 && s.length === 32) {
    if (!/^[0-9a-fA-F]{32}$/.test(text)) return undefined;
    hex = text;
  } else {
    return undefined;
  }
  return Buffer.from(hex, 'hex');
}

function variantOf(b: number): string {
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  if ((b & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

function macVariables(b: number): string {
  if ((b & 0b11) === 0b11) return 'local:multicast';
  if ((b & 0b01) === 0b01) return 'global:multicast';
  if ((b & 0b10) === 0b10) return 'local:unicast';
  return 'global:unicast';
}

/** 100-nanosecond intervals between the Gregorian reform (1582-10-15) and the Unix epoch. */
const GREGORIAN_TO_UNIX = 122_192_928_000_000_000n;
const DOMAINS = ['Person', 'Group', 'Org'];

const parse = builtin('uuid.parse', [T.string], T.object(T.string, T.any), (args) => {
  const bytes = uuidBytes(stringArg('uuid.parse', args, 1));
  if (bytes === undefined) return undefined;
  const version = (bytes[6] ?? 0) >> 4;
  const fields: Record<string, Value> = {
    version,
    variant: variantOf(bytes[8] ?? 0),
  };
  if (version === 1 || version === 2) {
    const timeLow = BigInt(bytes.readUInt32BE(0));
    const timeMid = BigInt(bytes.readUInt16BE(4));
    const timeHi = BigInt(bytes.readUInt16BE(6) & 0x0fff);
    const t = (timeHi << 48n) | (timeMid << 32n) | timeLow;
    fields.time = normalizeNumber((t - GREGORIAN_TO_UNIX) * 100n);
    const node = bytes.subarray(10, 16);
    fields.nodeid = Array.from(node, (b) => b.toString(16).padStart(2, '0')).join('-');
    fields.macvariables = macVariables(node[0] ?? 0);
    fields.clocksequence = bytes.readUInt16BE(8) & 0x3fff;
    if (version === 2) {
      fields.id = bytes.readUInt32BE(0);
      const domain = bytes[9] ?? 0;
      fields.domain = DOMAINS[domain] ?? `Domain${domain}`;
    }
  }
  return ObjectValue.fromRecord(fields);
});

export const UUID_BUILTINS: readonly BuiltinDef[] = [rfc4122, parse];
