/**
 * Encodings: base64 / base64url, hex, URL query strings, JSON and YAML text. Strings are UTF-8
 * bytes as in Go; decoded bytes that are not valid UTF-8 become U+FFFD.
 */
import { parseAllDocuments, stringify as yamlStringify } from 'yaml';
import { isValidJSON, JSONParseError, parseJSONValue } from '../../ir/json';
import {
  compareNumbers,
  fromJS,
  isArray,
  normalizeNumber,
  ObjectValue,
  SetValue,
  toJSONText,
  typeName,
  type Value,
} from '../../ir/value';
import { goQuote, numberToText } from '../../ir/value-text';
import { objectArg, operand, operandError, stringArg } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// base64 (Go's encoding/base64: padded standard alphabet, newlines ignored when decoding)

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64Decode(name: string, input: string, alphabet: string): Buffer {
  const s = input.replace(/[\r\n]/g, '');
  const illegal = (at: number): never => {
    throw new BuiltinError(name, `illegal base64 data at input byte ${at}`);
  };
  if (s.length % 4 !== 0) illegal(s.length - (s.length % 4));
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '=') {
      // Padding only at the end: "xx==" or "xxx=".
      const rest = s.slice(i);
      if (!(rest === '=' || rest === '==') || i % 4 < 2) illegal(i);
      break;
    }
    if (!alphabet.includes(c)) illegal(i);
  }
  const standard = alphabet === URL ? s.replace(/-/g, '+').replace(/_/g, '/') : s;
  return Buffer.from(standard, 'base64');
}

function base64Encode(s: string, url: boolean, pad: boolean): string {
  let out = utf8(s).toString('base64');
  if (url) out = out.replace(/\+/g, '-').replace(/\//g, '_');
  return pad ? out : out.replace(/=+$/, '');
}

const base64Builtins: readonly BuiltinDef[] = [
  builtin('base64.encode', [T.string], T.string, (args) =>
    base64Encode(stringArg('base64.encode', args, 1), false, true),
  ),
  builtin('base64.decode', [T.string], T.string, (args) =>
    fromUtf8(base64Decode('base64.decode', stringArg('base64.decode', args, 1), STD)),
  ),
  builtin('base64.is_valid', [T.string], T.boolean, ([s]) => {
    if (typeof s !== 'string') return false;
    try {
      base64Decode('base64.is_valid', s, STD);
      return true;
    } catch {
      return false;
    }
  }),
  builtin('base64url.encode', [T.string], T.string, (args) =>
    base64Encode(stringArg('base64url.encode', args, 1), true, true),
  ),
  builtin('base64url.encode_no_pad', [T.string], T.string, (args) =>
    base64Encode(stringArg('base64url.encode_no_pad', args, 1), true, false),
  ),
  builtin('base64url.decode', [T.string], T.string, (args) => {
    let s = stringArg('base64url.decode', args, 1);
    // Unpadded input is accepted (RFC 7515 appendix C).
    if (!s.endsWith('=')) {
      const rem = s.length % 4;
      if (rem === 1) throw new BuiltinError('base64url.decode', `illegal base64url string: ${s}`);
      if (rem > 0) s += '='.repeat(4 - rem);
    }
    return fromUtf8(base64Decode('base64url.decode', s, URL));
  }),
];

// ---------------------------------------------------------------------------------------------
// hex

function hexDecode(s: string): Buffer {
  const bytes = utf8(s);
  const invalid = (b: number): never => {
    const ch = String.fromCodePoint(b);
    const shown = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? ` '${ch}'` : '';
    const code = b.toString(16).toUpperCase().padStart(4, '0');
    throw new BuiltinError('hex.decode', `encoding/hex: invalid byte: U+${code}${shown}`);
  };
  const isHex = (b: number): boolean =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
  for (const b of bytes) if (!isHex(b)) invalid(b);
  if (bytes.length % 2 === 1)
    throw new BuiltinError('hex.decode', 'encoding/hex: odd length hex string');
  return Buffer.from(s, 'hex');
}

const hexBuiltins: readonly BuiltinDef[] = [
  builtin('hex.encode', [T.string], T.string, (args) =>
    utf8(stringArg('hex.encode', args, 1)).toString('hex'),
  ),
  builtin('hex.decode', [T.string], T.string, (args) =>
    fromUtf8(hexDecode(stringArg('hex.decode', args, 1))),
  ),
];

// ---------------------------------------------------------------------------------------------
// URL query strings (Go's net/url)

/** Go's url.QueryEscape: unreserved characters stay, spaces become '+', the rest %XX. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's url.QueryUnescape. */
export function queryUnescape(name: string, s: string): string {
  const bytes: number[] = [];
  const src = utf8(s);
  for (let i = 0; i < src.length; i++) {
    const b = src[i] ?? 0;
    if (b === 0x25) {
      const hex = src.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        const bad = fromUtf8(src.subarray(i, Math.min(i + 3, src.length)));
        throw new BuiltinError(name, `invalid URL escape ${goQuote(bad)}`);
      }
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(b === 0x2b ? 0x20 : b);
  }
  return fromUtf8(Uint8Array.from(bytes));
}

const ENCODE_OBJECT_ERROR = 'values must be string, array[string], or set[string]';

const urlBuiltins: readonly BuiltinDef[] = [
  builtin('urlquery.encode', [T.string], T.string, (args) =>
    queryEscape(stringArg('urlquery.encode', args, 1)),
  ),
  builtin('urlquery.decode', [T.string], T.string, (args) =>
    queryUnescape('urlquery.decode', stringArg('urlquery.decode', args, 1)),
  ),
  builtin(
    'urlquery.encode_object',
    [T.object(T.string, T.anyOf(T.string, T.array(T.string), T.set(T.string)))],
    T.string,
    (args) => {
      const obj = objectArg('urlquery.encode_object', args, 1);
      const pairs: [string, string][] = [];
      for (const [k, v] of obj) {
        const key = typeof k === 'string' ? k : toJSONText(k);
        const values =
          typeof v === 'string'
            ? [v]
            : isArray(v)
              ? v
              : v instanceof SetValue
                ? v.sorted()
                : undefined;
        if (values === undefined) operandError('urlquery.encode_object', 1, ENCODE_OBJECT_ERROR);
        for (const x of values) {
          if (typeof x !== 'string') operandError('urlquery.encode_object', 1, ENCODE_OBJECT_ERROR);
          pairs.push([key, x]);
        }
      }
      pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return pairs.map(([k, v]) => queryEscape(k) + '=' + queryEscape(v)).join('&');
    },
  ),
  builtin('urlquery.decode_object', [T.string], T.object(T.string, T.array(T.string)), (args) => {
    const name = 'urlquery.decode_object';
    const query = stringArg(name, args, 1);
    const params = new Map<string, string[]>();
    for (const part of query.split('&')) {
      if (part.includes(';')) throw new BuiltinError(name, 'invalid semicolon separator in query');
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = queryUnescape(name, eq < 0 ? part : part.slice(0, eq));
      const value = queryUnescape(name, eq < 0 ? '' : part.slice(eq + 1));
      const list = params.get(key) ?? [];
      list.push(value);
      params.set(key, list);
    }
    return new ObjectValue([...params].map(([k, vs]) => [k, vs]));
  }),
];

// ---------------------------------------------------------------------------------------------
// JSON text as Go's encoding/json writes it

/** Go's JSON string encoding, which also escapes <, > and & (HTML safety) and U+2028/9. */
export function goJSONString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      default:
        if (cp < 0x20 || ch === '<' || ch === '>' || ch === '&' || cp === 0x2028 || cp === 0x2029) {
          out += '\\u' + cp.toString(16).padStart(4, '0');
        } else if (cp >= 0xd800 && cp <= 0xdfff) {
          out += '\\ufffd';
        } else out += ch;
    }
  }
  return out + '"';
}

function jsonKey(k: Value): string {
  return typeof k === 'string' ? k : toJSONText(k);
}

/** Serializes like Go's json.Marshal / json.MarshalIndent (sets as arrays, keys sorted). */
export function marshalJSON(v: Value, indent?: { prefix: string; indent: string }): string {
  const write = (x: Value, depth: number): string => {
    if (x === null) return 'null';
    switch (typeof x) {
      case 'boolean':
        return x ? 'true' : 'false';
      case 'number':
      case 'bigint':
        return numberToText(x);
      case 'string':
        return goJSONString(x);
      default: {
        const items: string[] = [];
        let open: string;
        let close: string;
        if (isArray(x) || x instanceof SetValue) {
          [open, close] = ['[', ']'];
          for (const e of isArray(x) ? x : x.sorted()) items.push(write(e, depth + 1));
        } else {
          [open, close] = ['{', '}'];
          const entries = x
            .sortedEntries()
            .map(([k, val]) => [jsonKey(k), val] as const)
            .sort((a, b) => compareKeys(a[0], b[0]));
          const sep = indent === undefined ? ':' : ': ';
          for (const [k, val] of entries) items.push(goJSONString(k) + sep + write(val, depth + 1));
        }
        if (items.length === 0) return open + close;
        if (indent === undefined) return open + items.join(',') + close;
        const inner = '\n' + indent.prefix + indent.indent.repeat(depth + 1);
        const outer = '\n' + indent.prefix + indent.indent.repeat(depth);
        return open + inner + items.join(',' + inner) + outer + close;
      }
    }
  };
  return (indent?.prefix ?? '') + write(v, 0);
}

function compareKeys(a: string, b: string): number {
  // Go sorts map keys by their UTF-8 bytes, i.e. by code point.
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function marshalWithOptions(args: readonly Value[]): string {
  const name = 'json.marshal_with_options';
  const v = operand(name, args, 1);
  const opts = objectArg(name, args, 2);
  let indent = '\t';
  let prefix = '';
  let implicitPretty = false;
  let explicitPretty: boolean | undefined;
  for (const [k, val] of opts) {
    if (typeof k !== 'string')
      operandError(
        name,
        2,
        `failed to stringify key ${toJSONText(k)}: must be string but got ${typeName(k)}`,
      );
    switch (k) {
      case 'prefix':
      case 'indent':
        if (typeof val !== 'string')
          operandError(
            name,
            2,
            `key ${k} failed cast to string: must be string but got ${typeName(val)}`,
          );
        if (k === 'prefix') prefix = val;
        else indent = val;
        implicitPretty = true;
        break;
      case 'pretty':
        if (typeof val !== 'boolean') operandError(name, 2, `key ${k} failed cast to bool`);
        explicitPretty = val;
        break;
      default:
        operandError(name, 2, `object contained unknown key ${k}`);
    }
  }
  const pretty = explicitPretty ?? implicitPretty;
  return pretty ? marshalJSON(v, { prefix, indent }) : marshalJSON(v);
}

function unmarshal(name: string, text: string): Value {
  try {
    return parseJSONValue(text);
  } catch (e) {
    if (e instanceof JSONParseError) throw new BuiltinError(name, e.message);
    throw e;
  }
}

const jsonBuiltins: readonly BuiltinDef[] = [
  builtin('json.marshal', [T.any], T.string, (args) =>
    marshalJSON(operand('json.marshal', args, 1)),
  ),
  builtin(
    'json.marshal_with_options',
    [T.any, T.object(T.string, T.any)],
    T.string,
    marshalWithOptions,
  ),
  builtin('json.unmarshal', [T.string], T.any, (args) =>
    unmarshal('json.unmarshal', stringArg('json.unmarshal', args, 1)),
  ),
  builtin('json.is_valid', [T.string], T.boolean, ([s]) =>
    typeof s === 'string' ? isValidJSON(s) : false,
  ),
];

// ---------------------------------------------------------------------------------------------
// YAML (YAML 1.1 scalars, as Go's yaml.v2 reads them)

const YAML_OPTIONS = { version: '1.1', intAsBigInt: true } as const;

/** Converts what the yaml package produces into Rego values (timestamps as RFC 3339). */
function yamlToValue(x: unknown): Value {
  if (x instanceof Date) return x.toISOString().replace('.000Z', 'Z');
  if (typeof x === 'number' || typeof x === 'bigint') return normalizeNumber(x);
  if (Array.isArray(x)) return x.map(yamlToValue);
  if (x instanceof Map) {
    return new ObjectValue([...x].map(([k, v]) => [String(k), yamlToValue(v)] as const));
  }
  if (x instanceof Set) return [...x].map(yamlToValue);
  if (x !== null && typeof x === 'object') {
    return new ObjectValue(Object.entries(x).map(([k, v]) => [k, yamlToValue(v)] as const));
  }
  return fromJS(x);
}

function parseYAML(name: string, text: string): Value {
  const docs = parseAllDocuments(text, YAML_OPTIONS);
  if (!Array.isArray(docs)) return null; // an empty stream
  for (const doc of docs) {
    const [err] = doc.errors;
    if (err !== undefined)
      throw new BuiltinError(name, `yaml: ${err.message.split('\n')[0] ?? ''}`);
  }
  const [first] = docs;
  if (first === undefined) return null;
  try {
    return yamlToValue(first.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    throw new BuiltinError(name, `yaml: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Rego values as plain data for the YAML writer: sets as sorted arrays, keys as own
 * properties (defined, so that a "__proto__" key stays an ordinary key). */
function toYAMLData(v: Value): unknown {
  if (typeof v === 'bigint') return compareNumbers(v, Number.MAX_SAFE_INTEGER) > 0 ? v : Number(v);
  if (isArray(v)) return v.map(toYAMLData);
  if (v instanceof SetValue) return v.sorted().map(toYAMLData);
  if (v instanceof ObjectValue) {
    const entries = v.sortedEntries().map(([k, x]) => [jsonKey(k), x] as const);
    entries.sort((a, b) => compareKeys(a[0], b[0]));
    const out = {};
    for (const [k, x] of entries) {
      Object.defineProperty(out, k, {
        value: toYAMLData(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

const yamlBuiltins: readonly BuiltinDef[] = [
  builtin('yaml.marshal', [T.any], T.string, (args) =>
    yamlStringify(toYAMLData(operand('yaml.marshal', args, 1)), {
      version: '1.1',
      indentSeq: false,
    }),
  ),
  builtin('yaml.unmarshal', [T.string], T.any, (args) =>
    parseYAML('yaml.unmarshal', stringArg('yaml.unmarshal', args, 1)),
  ),
  builtin('yaml.is_valid', [T.string], T.boolean, ([s]) => {
    if (typeof s !== 'string') return false;
    try {
      parseYAML('yaml.is_valid', s);
      return true;
    } catch {
      return false;
    }
  }),
];

export const ENCODING_BUILTINS: readonly BuiltinDef[] = [
  ...base64Builtins,
  ...hexBuiltins,
  ...urlBuiltins,
  ...jsonBuiltins,
  ...yamlBuiltins,
];
