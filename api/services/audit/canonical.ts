/**
 * The JSON forms the audit log hashes and stores.
 *
 * `toStorableJson` turns a value into one Postgres `jsonb` accepts and gives back unchanged:
 * `jsonb` refuses the NUL character and unpaired UTF-16 surrogates, so those become U+FFFD
 * (in keys as in strings); what JSON cannot hold is dropped or nulled the way
 * `JSON.stringify` does. Doing this before hashing means the stored row and the hashed row
 * are the same value, and a row can never be refused by the database for its content.
 *
 * `canonicalJson` is the one text the hash is computed over: object keys sorted by UTF-16
 * code units, no white space, strings and numbers as `JSON.stringify` writes them.
 */

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// NUL, or a surrogate half without its partner. Matching NUL is the point here.
const unstorable =
  // eslint-disable-next-line no-control-regex -- NUL is the character looked for
  /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;

// Cheap first test: most text holds no NUL and no surrogate at all.
// eslint-disable-next-line no-control-regex -- NUL is the character looked for
const maybeUnstorable = /[\u0000\uD800-\uDFFF]/;

export function storableText(text: string): string {
  return maybeUnstorable.test(text) ? text.replace(unstorable, '\uFFFD') : text;
}

/** Whether Postgres stores `text` as it is (no NUL, no surrogate half without its partner). */
export function isStorableText(text: string): boolean {
  // The pattern is global: start each test from the beginning.
  unstorable.lastIndex = 0;
  return !unstorable.test(text);
}

/** The JSON value `value` stands for, made safe for `jsonb`; undefined when JSON has none. */
export function toStorableJson(value: unknown): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
      return storableText(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        return value.map((item: unknown) => toStorableJson(item) ?? null);
      }
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(value)) {
        const stored = toStorableJson(item);
        if (stored !== undefined) out[storableText(key)] = stored;
      }
      return out;
    }
    default:
      // undefined, functions, symbols and bigints have no JSON form.
      return undefined;
  }
}

/** Whether `keys` are already in `sort()`'s order (UTF-16 code units). */
function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  }
  return true;
}

// Built with loops and one string rather than map/join: the audit writer hashes every
// decision through this, and it showed in the decision path's profile.
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      text += canonicalJson(value[i] as JsonValue);
    }
    return `${text}]`;
  }
  const keys = Object.keys(value);
  if (!isSorted(keys)) keys.sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) text += ',';
    text += `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`;
  }
  return `${text}}`;
}
