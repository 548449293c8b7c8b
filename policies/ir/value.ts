/**
 * Rego values as the interpreter and the builtins see them.
 *
 * Scalars are plain JS values: `null`, `boolean`, `string`, and numbers as `number` when exact
 * (any float, integers within ±2^53) or `bigint` for integers beyond that, so big integers stay
 * exact. Arrays are JS arrays. Sets and objects are classes keyed by a canonical string, since
 * Rego lets any value be a set member or an object key.
 *
 * Values are immutable once built; `ObjectValue.set` / `SetValue.add` are for builders only.
 */

/** A Rego scalar; numbers are `bigint` only when `number` would lose precision. */
export type Scalar = null | boolean | number | bigint | string;
/** Any Rego value. */
export type Value = Scalar | readonly Value[] | SetValue | ObjectValue;
/** A Rego number: `number` when exact, else `bigint`. */
export type RegoNumber = number | bigint;

/** The Rego type names, as `type_name` returns them. */
export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

/** The Rego type of `v`. */
export function typeName(v: Value): TypeName {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    default:
      if (Array.isArray(v)) return 'array';
      return v instanceof SetValue ? 'set' : 'object';
  }
}

const TYPE_ORDER: Record<TypeName, number> = {
  null: 0,
  boolean: 1,
  number: 2,
  string: 3,
  array: 4,
  object: 5,
  set: 6,
};

/** Whether `v` is a number, of either representation. */
export function isNumber(v: Value): v is RegoNumber {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Whether `v` is an array. */
export function isArray(v: Value): v is readonly Value[] {
  return Array.isArray(v);
}

/** Whether `v` is an object. */
export function isObject(v: Value): v is ObjectValue {
  return v instanceof ObjectValue;
}

/** Whether `v` is a set. */
export function isSet(v: Value): v is SetValue {
  return v instanceof SetValue;
}

/** Brings an integer-valued bigint back to `number` when that is exact. */
export function normalizeNumber(n: RegoNumber): RegoNumber {
  if (typeof n === 'bigint') {
    return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
  }
  return Object.is(n, -0) ? 0 : n;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Parses a number as written in Rego or JSON, keeping big integers exact. */
export function parseNumber(raw: string): RegoNumber {
  if (/^-?\d+$/.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? normalizeNumber(n) : BigInt(raw);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) && (Number.isInteger(n) || !Number.isFinite(n))) {
    const exact = exactIntegerOf(raw);
    if (exact !== undefined) return normalizeNumber(exact);
  }
  return normalizeNumber(n);
}

/** Largest power of ten expanded exactly; beyond it a decimal literal stays a float. */
const MAX_EXACT_EXPONENT = 10_000;

/**
 * The exact integer a decimal literal such as `1e30`, `1.5e300` or `12.000` denotes, or
 * undefined when it has a fractional part (or an exponent too large to expand).
 */
function exactIntegerOf(raw: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!m) return undefined;
  const [, sign = '', whole = '', frac = '', expText = '0'] = m;
  const exp = Number(expText) - frac.length;
  let digits = (whole + frac).replace(/^0+(?=\d)/, '');
  if (exp < 0) {
    const cut = digits.length + exp;
    if (!/^0*$/.test(digits.slice(Math.max(cut, 0)))) return undefined;
    digits = cut > 0 ? digits.slice(0, cut) : '0';
  } else if (exp > MAX_EXACT_EXPONENT) {
    return undefined;
  }
  const value = BigInt(digits) * 10n ** BigInt(Math.max(exp, 0));
  return sign === '-' ? -value : value;
}

/** Whether `n` is an integer (every bigint is). */
export function isInteger(n: RegoNumber): boolean {
  return typeof n === 'bigint' || Number.isInteger(n);
}

/** Orders two numbers exactly, across `number` and `bigint`: negative, zero or positive. */
export function compareNumbers(a: RegoNumber, b: RegoNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // Mixed or both bigint: JS compares number and bigint exactly.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rego's total order over values: null < boolean < number < string < array < object < set. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return TYPE_ORDER[ta] - TYPE_ORDER[tb];
  switch (ta) {
    case 'null':
      return 0;
    case 'boolean':
      return a === b ? 0 : a === false ? -1 : 1;
    case 'number':
      return compareNumbers(a as RegoNumber, b as RegoNumber);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'array':
      return compareSequences(a as readonly Value[], b as readonly Value[]);
    case 'set':
      return compareSequences((a as SetValue).sorted(), (b as SetValue).sorted());
    case 'object':
      return compareObjects(a as ObjectValue, b as ObjectValue);
  }
}

/** Strings compare by code point, as Go does for UTF-8 bytes. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

function compareSequences(a: readonly Value[], b: readonly Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compare(a[i] as Value, b[i] as Value);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareObjects(a: ObjectValue, b: ObjectValue): number {
  const ea = a.sortedEntries();
  const eb = b.sortedEntries();
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    const [ka, va] = ea[i] as readonly [Value, Value];
    const [kb, vb] = eb[i] as readonly [Value, Value];
    const ck = compare(ka, kb);
    if (ck !== 0) return ck;
    const cv = compare(va, vb);
    if (cv !== 0) return cv;
  }
  return ea.length - eb.length;
}

/**
 * Rego equality: same type and value; numbers compare exactly across `number` and `bigint`,
 * sets and objects regardless of order.
 */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeName(a);
  if (ta !== typeName(b)) return false;
  switch (ta) {
    case 'number':
      return compareNumbers(a as RegoNumber, b as RegoNumber) === 0;
    case 'array': {
      const xa = a as readonly Value[];
      const xb = b as readonly Value[];
      return xa.length === xb.length && xa.every((x, i) => equal(x, xb[i] as Value));
    }
    case 'set':
    case 'object':
      return keyOf(a) === keyOf(b);
    default:
      return false;
  }
}

/**
 * A canonical string for a value: equal values (per `equal`) have equal keys. Used to hash set
 * members and object keys. Composite keys are cached on the instance.
 */
export function keyOf(v: Value): string {
  if (v === null) return 'n';
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'number':
      return 'd' + String(v);
    case 'bigint':
      return 'd' + v.toString();
    case 'string':
      return 's' + v;
    default:
      if (Array.isArray(v)) return arrayKey(v);
      return (v as SetValue | ObjectValue).key();
  }
}

function arrayKey(v: readonly Value[]): string {
  let s = '[';
  for (const x of v) s += JSON.stringify(keyOf(x)) + ',';
  return s + ']';
}

/** A Rego set: members kept unique by their canonical key, iterated in Rego order. */
export class SetValue {
  private readonly members = new Map<string, Value>();
  private sortedCache: readonly Value[] | undefined;
  private keyCache: string | undefined;

  constructor(items: Iterable<Value> = []) {
    for (const item of items) this.add(item);
  }

  /** The number of members. */
  get size(): number {
    return this.members.size;
  }

  /** Builder use only: adds a member. */
  add(v: Value): this {
    const k = keyOf(v);
    if (!this.members.has(k)) {
      this.members.set(k, v);
      this.sortedCache = undefined;
      this.keyCache = undefined;
    }
    return this;
  }

  /** Whether `v` is a member. */
  has(v: Value): boolean {
    return this.members.has(keyOf(v));
  }

  /** Members in Rego order. */
  sorted(): readonly Value[] {
    this.sortedCache ??= [...this.members.values()].sort(compare);
    return this.sortedCache;
  }

  /** Iterates the members in Rego order. */
  [Symbol.iterator](): Iterator<Value> {
    return this.sorted()[Symbol.iterator]();
  }

  /**
   * The canonical text of the set, equal for equal sets; used to key sets in other sets and
   * objects.
   */
  key(): string {
    this.keyCache ??=
      '{' +
      [...this.members.keys()]
        .sort()
        .map((k) => JSON.stringify(k))
        .join(',') +
      '}';
    return this.keyCache;
  }
}

/**
 * A Rego object: any value may be a key, entries kept unique by the key's canonical text and
 * iterated in key order.
 */
export class ObjectValue {
  private readonly entries = new Map<string, readonly [Value, Value]>();
  private sortedCache: readonly (readonly [Value, Value])[] | undefined;
  private keyCache: string | undefined;

  constructor(entries: Iterable<readonly [Value, Value]> = []) {
    for (const [k, v] of entries) this.set(k, v);
  }

  /** An object of string keys from a plain record. */
  static fromRecord(record: Readonly<Record<string, Value>>): ObjectValue {
    return new ObjectValue(Object.entries(record));
  }

  /** The number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Builder use only: sets a key (replacing an equal key). */
  set(k: Value, v: Value): this {
    this.entries.set(keyOf(k), [k, v]);
    this.sortedCache = undefined;
    this.keyCache = undefined;
    return this;
  }

  /** The value at key `k`; undefined when absent. */
  get(k: Value): Value | undefined {
    return this.entries.get(keyOf(k))?.[1];
  }

  /** Whether `k` is a key. */
  has(k: Value): boolean {
    return this.entries.has(keyOf(k));
  }

  /** Entries in Rego key order. */
  sortedEntries(): readonly (readonly [Value, Value])[] {
    this.sortedCache ??= [...this.entries.values()].sort((x, y) => compare(x[0], y[0]));
    return this.sortedCache;
  }

  /** The keys in Rego order. */
  keys(): Value[] {
    return this.sortedEntries().map((e) => e[0]);
  }

  /** The values, in the order of their keys. */
  values(): Value[] {
    return this.sortedEntries().map((e) => e[1]);
  }

  /** Iterates the `[key, value]` entries in key order. */
  [Symbol.iterator](): Iterator<readonly [Value, Value]> {
    return this.sortedEntries()[Symbol.iterator]();
  }

  /**
   * The canonical text of the object, equal for equal objects; used to key objects in sets and
   * other objects.
   */
  key(): string {
    if (this.keyCache === undefined) {
      const parts = [...this.entries.entries()]
        .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
        .map(([k, [, v]]) => JSON.stringify(k) + ':' + JSON.stringify(keyOf(v)));
      this.keyCache = '<' + parts.join(',') + '>';
    }
    return this.keyCache;
  }
}

// ---------------------------------------------------------------------------------------------
// Conversion from and to JSON

/** Converts a JS value (from JSON.parse, YAML, ...) into a Rego value. */
export function fromJS(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'boolean':
    case 'string':
      return x;
    case 'number':
      return normalizeNumber(x);
    case 'bigint':
      return normalizeNumber(x);
    case 'object': {
      if (Array.isArray(x)) return x.map(fromJS);
      if (x instanceof SetValue || x instanceof ObjectValue) return x;
      const obj = new ObjectValue();
      for (const [k, v] of Object.entries(x as Record<string, unknown>)) obj.set(k, fromJS(v));
      return obj;
    }
    default:
      throw new TypeError(`cannot convert ${typeof x} to a Rego value`);
  }
}

/** JSON data as `JSON.parse` gives it. */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };

/**
 * Converts a Rego value to plain JSON data: sets become sorted arrays, non-string object keys
 * become their JSON text (as OPA does), bigints become numbers (lossy; use `toJSONText` to keep
 * them exact).
 */
export function toJS(v: Value): JSONValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') {
    return v;
  }
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJS);
  if (v instanceof SetValue) return v.sorted().map(toJS);
  const out: Record<string, JSONValue> = {};
  for (const [k, val] of v as ObjectValue) {
    // defineProperty: a key such as "__proto__" stays a key instead of replacing the prototype.
    Object.defineProperty(out, typeof k === 'string' ? k : toJSONText(k), {
      value: toJS(val),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Serializes a value as JSON text, exact for big integers, with keys in Rego order. */
export function toJSONText(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'string':
      return JSON.stringify(v);
    default:
      if (Array.isArray(v)) return '[' + v.map(toJSONText).join(',') + ']';
      if (v instanceof SetValue) return '[' + v.sorted().map(toJSONText).join(',') + ']';
      return (
        '{' +
        (v as ObjectValue)
          .sortedEntries()
          .map(
            ([k, val]) =>
              JSON.stringify(typeof k === 'string' ? k : toJSONText(k)) + ':' + toJSONText(val),
          )
          .join(',') +
        '}'
      );
  }
}

/** Rego truthiness for a body expression: only `false` (and undefined) fail. */
export function isTruthy(v: Value): boolean {
  return v !== false;
}
