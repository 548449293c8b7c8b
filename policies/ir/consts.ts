/** Encoding of Rego values as the JSON constants of an IR policy (see ConstJSON). */
import type { ConstJSON } from './types';
import { ObjectValue, SetValue, parseNumber, type Value } from './value';

/**
 * A value as a policy constant: plain JSON where it can be, tagged (`$set`, `$obj`, `$num`)
 * where JSON cannot say it.
 */
export function encodeConst(v: Value): ConstJSON {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return { $num: v.toString() };
  if (Array.isArray(v)) return v.map(encodeConst);
  if (v instanceof SetValue) return { $set: v.sorted().map(encodeConst) };
  const obj = v as ObjectValue;
  const plain = obj.keys().every((k) => typeof k === 'string' && !k.startsWith('$'));
  if (plain) {
    const out: Record<string, ConstJSON> = {};
    for (const [k, val] of obj) out[k as string] = encodeConst(val);
    return out;
  }
  return { $obj: obj.sortedEntries().map(([k, val]) => [encodeConst(k), encodeConst(val)]) };
}

/** The value a policy constant stands for; the inverse of `encodeConst`. */
export function decodeConst(c: ConstJSON): Value {
  if (c === null || typeof c === 'boolean' || typeof c === 'string' || typeof c === 'number')
    return c;
  if (Array.isArray(c)) return (c as readonly ConstJSON[]).map(decodeConst);
  const rec = c as Readonly<Record<string, ConstJSON>>;
  const keys = Object.keys(rec);
  if (keys.length === 1) {
    const only = keys[0] as string;
    const inner = rec[only] as ConstJSON;
    if (only === '$num' && typeof inner === 'string') return parseNumber(inner);
    if (only === '$set' && Array.isArray(inner))
      return new SetValue((inner as readonly ConstJSON[]).map(decodeConst));
    if (only === '$obj' && Array.isArray(inner)) {
      return new ObjectValue(
        (inner as readonly (readonly ConstJSON[])[]).map(
          (e) => [decodeConst(e[0] ?? null), decodeConst(e[1] ?? null)] as const,
        ),
      );
    }
  }
  const obj = new ObjectValue();
  for (const k of keys) obj.set(k, decodeConst(rec[k] as ConstJSON));
  return obj;
}
