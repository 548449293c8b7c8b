// Values from and to text: strict JSON (RFC 8259, as policies/ir/json.ts reads it: duplicate
// keys keep the last value, nesting deeper than 1000 levels is refused) and Rego's value syntax
// (JSON plus sets `{1, 2}` / `set()` and non-string object keys), as the OPA ABI's
// opa_json_* and opa_value_* exports use them.
import { alloc, writeByte, writeBytes, writerBegin, writerEnd } from './alloc';
import { arrayAppend, finishObject, objectAppendUnsorted, setOfValues } from './collections';
import { numberFromLiteral, numberFromText, scanNumber, writeNumber } from './number';
import { intOf, numberKind, NUM_FLOAT, NUM_INT } from './value';
import {
  booleanOf,
  booleanValue,
  dataOf,
  elementAt,
  keyAt,
  lengthOf,
  newCollection,
  nullValue,
  stringLen,
  stringPtr,
  stringRef,
  tagOf,
  TAG_ARRAY,
  TAG_BOOLEAN,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  TAG_STRING,
  valueAt,
} from './value';
import { isPrintable } from './unicode';

/** Deeper nesting is refused, so no recursive walk over a value can overflow the stack. */
export const MAX_DEPTH: i32 = 1000;

// ---------------------------------------------------------------------------------------------
// Parsing

let pos: usize = 0;
let end: usize = 0;
let regoSyntax = false;

function skipSpace(): void {
  while (pos < end) {
    const c = load<u8>(pos);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) pos++;
    else return;
  }
}

function peek(): u32 {
  return pos < end ? <u32>load<u8>(pos) : 0xffffffff;
}

function matchWord(word: string): bool {
  const n = <usize>word.length;
  if (pos + n > end) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(pos + i) != <u32>word.charCodeAt(<i32>i)) return false;
  }
  pos += n;
  return true;
}

/** Parses one value at `pos`; 0 on a syntax error. */
function parseValue(depth: i32): usize {
  const c = peek();
  if (c == 0x22) return parseString();
  if (c == 0x5b) return parseArray(depth);
  if (c == 0x7b) return parseBraces(depth);
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumberHere();
  if (matchWord('true')) return booleanValue(true);
  if (matchWord('false')) return booleanValue(false);
  if (matchWord('null')) return nullValue();
  if (regoSyntax && matchWord('set()')) return newCollection(TAG_SET, 0);
  return 0;
}

function parseNumberHere(): usize {
  const stop = scanNumber(pos, end);
  if (stop == 0) return 0;
  if (stop < end) {
    const next = load<u8>(stop);
    // `01`, `1.2.3`, `1e5e5`: the number does not end where the grammar says.
    if (
      (next >= 0x30 && next <= 0x39) ||
      next == 0x2e ||
      next == 0x65 ||
      next == 0x45 ||
      next == 0x2b ||
      next == 0x2d
    ) {
      return 0;
    }
  }
  const v = numberFromLiteral(pos, <u32>(stop - pos));
  pos = stop;
  return v;
}

function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Four hex digits at p, or -1. */
function hex4(p: usize): i32 {
  if (p + 4 > end) return -1;
  let v: i32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const h = hexValue(load<u8>(p + i));
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

function putUtf8(out: usize, cp: u32): usize {
  if (cp < 0x80) {
    store<u8>(out, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(out, <u8>(0xc0 | (cp >> 6)));
    store<u8>(out, <u8>(0x80 | (cp & 0x3f)), 1);
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(out, <u8>(0xe0 | (cp >> 12)));
    store<u8>(out, <u8>(0x80 | ((cp >> 6) & 0x3f)), 1);
    store<u8>(out, <u8>(0x80 | (cp & 0x3f)), 2);
    return 3;
  }
  store<u8>(out, <u8>(0xf0 | (cp >> 18)));
  store<u8>(out, <u8>(0x80 | ((cp >> 12) & 0x3f)), 1);
  store<u8>(out, <u8>(0x80 | ((cp >> 6) & 0x3f)), 2);
  store<u8>(out, <u8>(0x80 | (cp & 0x3f)), 3);
  return 4;
}

function parseString(): usize {
  const start = pos + 1;
  let p = start;
  let escaped = false;
  // First pass: find the end and whether anything needs decoding.
  for (;;) {
    if (p >= end) return 0;
    const c = load<u8>(p);
    if (c == 0x22) break;
    if (c < 0x20) return 0;
    if (c == 0x5c) {
      escaped = true;
      p += 2;
      continue;
    }
    p++;
  }
  const close = p;
  pos = close + 1;
  // Strings without escapes point into the text itself, which outlives the evaluation.
  if (!escaped) return stringRef(start, <u32>(close - start));
  // Decoded text is never longer than the escaped text.
  const buf = alloc(close - start);
  let w = buf;
  p = start;
  while (p < close) {
    const c = <u32>load<u8>(p);
    if (c != 0x5c) {
      store<u8>(w, <u8>c);
      w++;
      p++;
      continue;
    }
    const e = <u32>load<u8>(p + 1);
    p += 2;
    let out: u32 = 0;
    switch (e) {
      case 0x22:
        out = 0x22;
        break;
      case 0x5c:
        out = 0x5c;
        break;
      case 0x2f:
        out = 0x2f;
        break;
      case 0x62:
        out = 0x08;
        break;
      case 0x66:
        out = 0x0c;
        break;
      case 0x6e:
        out = 0x0a;
        break;
      case 0x72:
        out = 0x0d;
        break;
      case 0x74:
        out = 0x09;
        break;
      case 0x75: {
        const u = hex4(p);
        if (u < 0 || p + 4 > close) return 0;
        p += 4;
        let cp = <u32>u;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          // A high surrogate joins a following low one; alone it becomes U+FFFD.
          const low =
            p + 6 <= close && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75 ? hex4(p + 2) : -1;
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>low - 0xdc00);
            p += 6;
          } else {
            cp = 0xfffd;
          }
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          cp = 0xfffd;
        }
        w += putUtf8(w, cp);
        continue;
      }
      default: {
        // Rego value text may carry Go's escapes (valueToRego writes them): \a \v \xNN \UNNNNNNNN.
        if (!regoSyntax) return 0;
        if (e == 0x61) out = 0x07;
        else if (e == 0x76) out = 0x0b;
        else if (e == 0x78 || e == 0x55) {
          const digits: usize = e == 0x78 ? 2 : 8;
          if (p + digits > close) return 0;
          let cp: u32 = 0;
          for (let i: usize = 0; i < digits; i++) {
            const h = hexValue(load<u8>(p + i));
            if (h < 0) return 0;
            cp = (cp << 4) | (<u32>h);
          }
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
          p += digits;
          w += putUtf8(w, cp);
          continue;
        } else return 0;
      }
    }
    store<u8>(w, <u8>out);
    w++;
  }
  const marked = markedNumber(buf, <u32>(w - buf));
  if (marked != 0) return marked;
  return stringRef(buf, <u32>(w - buf));
}

function parseArray(depth: i32): usize {
  if (depth >= MAX_DEPTH) return 0;
  pos++;
  const arr = newCollection(TAG_ARRAY, 0);
  skipSpace();
  if (peek() == 0x5d) {
    pos++;
    return arr;
  }
  for (;;) {
    skipSpace();
    const v = parseValue(depth + 1);
    if (v == 0) return 0;
    arrayAppend(arr, v);
    skipSpace();
    const c = peek();
    pos++;
    if (c == 0x5d) break;
    if (c != 0x2c) return 0;
  }
  return arr;
}

/** `{...}`: an object, or in Rego syntax a set when the first member has no `:`. */
function parseBraces(depth: i32): usize {
  if (depth >= MAX_DEPTH) return 0;
  pos++;
  skipSpace();
  if (peek() == 0x7d) {
    pos++;
    return newCollection(TAG_OBJECT, 0);
  }
  if (!regoSyntax && peek() != 0x22) return 0;
  const first = parseValue(depth + 1);
  if (first == 0) return 0;
  skipSpace();
  if (peek() != 0x3a) return regoSyntax ? parseSetRest(first, depth) : 0;
  const obj = newCollection(TAG_OBJECT, 0);
  let key = first;
  for (;;) {
    if (!regoSyntax && tagOf(key) != TAG_STRING) return 0;
    skipSpace();
    if (peek() != 0x3a) return 0;
    pos++;
    skipSpace();
    const v = parseValue(depth + 1);
    if (v == 0) return 0;
    objectAppendUnsorted(obj, key, v);
    skipSpace();
    const c = peek();
    pos++;
    if (c == 0x7d) break;
    if (c != 0x2c) return 0;
    skipSpace();
    key = parseValue(depth + 1);
    if (key == 0) return 0;
  }
  finishObject(obj);
  return obj;
}

function parseSetRest(first: usize, depth: i32): usize {
  const members = newCollection(TAG_ARRAY, 4);
  arrayAppend(members, first);
  for (;;) {
    skipSpace();
    const c = peek();
    pos++;
    if (c == 0x7d) break;
    if (c != 0x2c) return 0;
    skipSpace();
    const v = parseValue(depth + 1);
    if (v == 0) return 0;
    arrayAppend(members, v);
  }
  return setOfValues(dataOf(members), lengthOf(members));
}

/** The value of the whole text, or 0 when it is not one well-formed value. */
export function parseText(ptr: usize, len: u32, rego: bool): usize {
  pos = ptr;
  end = ptr + <usize>len;
  regoSyntax = rego;
  skipSpace();
  const v = parseValue(0);
  if (v == 0) return 0;
  skipSpace();
  return pos == end ? v : 0;
}

// ---------------------------------------------------------------------------------------------
// Writing. Non-string object keys are written as their JSON text inside a JSON string; as that
// can nest, bytes go through `emit`, which applies one level of string escaping per level.

let escapeLevel: i32 = 0;

function emit(b: u32): void {
  if (escapeLevel == 0) writeByte(b);
  else emitEscaped(b, escapeLevel);
}

const HEX_DIGITS = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

function emitAt(b: u32, level: i32): void {
  if (level == 0) writeByte(b);
  else emitEscaped(b, level);
}

/** Writes byte b as it appears inside a JSON string, at the given escaping level. */
function emitEscaped(b: u32, level: i32): void {
  const below = level - 1;
  if (b == 0x22 || b == 0x5c) {
    emitAt(0x5c, below);
    emitAt(b, below);
  } else if (b >= 0x20) {
    emitAt(b, below);
  } else {
    emitAt(0x5c, below);
    if (b == 0x08) emitAt(0x62, below);
    else if (b == 0x0c) emitAt(0x66, below);
    else if (b == 0x0a) emitAt(0x6e, below);
    else if (b == 0x0d) emitAt(0x72, below);
    else if (b == 0x09) emitAt(0x74, below);
    else {
      emitAt(0x75, below);
      emitAt(0x30, below);
      emitAt(0x30, below);
      emitAt(<u32>load<u8>(HEX_DIGITS + (b >> 4)), below);
      emitAt(<u32>load<u8>(HEX_DIGITS + (b & 15)), below);
    }
  }
}

function emitAscii(s: string): void {
  for (let i = 0; i < s.length; i++) emit(<u32>s.charCodeAt(i));
}

function emitJSONString(ptr: usize, len: u32): void {
  emit(0x22);
  if (escapeLevel == 0) {
    // Fast path: copy runs that need no escaping.
    let run = ptr;
    const stop = ptr + len;
    for (let p = ptr; p < stop; p++) {
      const c = <u32>load<u8>(p);
      if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
      if (p > run) writeBytes(run, p - run);
      emitEscaped(c, 1);
      run = p + 1;
    }
    if (stop > run) writeBytes(run, stop - run);
  } else {
    escapeLevel++;
    for (let i: u32 = 0; i < len; i++) emit(load<u8>(ptr + i));
    escapeLevel--;
  }
  emit(0x22);
}

/** Numbers go through the writer directly; at an escaping level they need no escapes. */
function emitNumber(v: usize, rego: bool): void {
  if (hostTransport && !rego && !fitsDouble(v)) {
    // To a host builtin: a number JavaScript cannot hold exactly travels as a marked string.
    emitAscii('"\\u0000n:');
    writeNumber(v, false);
    emit(0x22);
    return;
  }
  writeNumber(v, rego);
}

// ---------------------------------------------------------------------------------------------
// Host transport: while the generated code calls a host builtin (through the SDK, which moves
// values as JSON and parses them into JavaScript numbers), numbers beyond a double's exact range
// are written as strings "\u0000n:<digits>" and such strings are read back as numbers, so big
// integers cross exactly. policies/wasm/host-builtins.ts does the same on the other side.

let hostTransport = false;

export function vd_host_transport(on: i32): void {
  hostTransport = on != 0;
}

const MAX_EXACT: i64 = 9007199254740991;

function fitsDouble(v: usize): bool {
  const kind = numberKind(v);
  if (kind == NUM_FLOAT) return true;
  if (kind == NUM_INT) {
    const i = intOf(v);
    return i <= MAX_EXACT && i >= -MAX_EXACT;
  }
  return false;
}

/** A decoded string that is a marked number, as a number value; 0 otherwise. */
function markedNumber(ptr: usize, len: u32): usize {
  if (!hostTransport || len < 4) return 0;
  if (load<u8>(ptr) != 0 || load<u8>(ptr + 1) != 0x6e || load<u8>(ptr + 2) != 0x3a) return 0;
  return numberFromText(ptr + 3, len - 3);
}

function writeJSON(v: usize): void {
  switch (tagOf(v)) {
    case TAG_BOOLEAN:
      emitAscii(booleanOf(v) ? 'true' : 'false');
      break;
    case TAG_NUMBER:
      emitNumber(v, false);
      break;
    case TAG_STRING:
      emitJSONString(stringPtr(v), stringLen(v));
      break;
    case TAG_ARRAY:
    case TAG_SET: {
      emit(0x5b);
      const n = lengthOf(v);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) emit(0x2c);
        writeJSON(elementAt(v, i));
      }
      emit(0x5d);
      break;
    }
    case TAG_OBJECT: {
      emit(0x7b);
      const n = lengthOf(v);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) emit(0x2c);
        const k = keyAt(v, i);
        if (tagOf(k) == TAG_STRING) {
          emitJSONString(stringPtr(k), stringLen(k));
        } else {
          emit(0x22);
          escapeLevel++;
          writeJSON(k);
          escapeLevel--;
          emit(0x22);
        }
        emit(0x3a);
        writeJSON(valueAt(v, i));
      }
      emit(0x7d);
      break;
    }
    default:
      emitAscii('null');
  }
}

/** NUL-terminated JSON text of v (undefined prints as null). */
export function dumpJSON(v: usize): usize {
  writerBegin();
  escapeLevel = 0;
  if (v == 0) emitAscii('null');
  else writeJSON(v);
  writeByte(0);
  return writerEnd();
}

// ---------------------------------------------------------------------------------------------
// Rego value syntax, as policies/ir/value-text.ts valueToRego prints it.

function writeHex(v: u32, digits: i32): void {
  for (let i = digits - 1; i >= 0; i--)
    writeByte(<u32>load<u8>(HEX_DIGITS + ((v >> (<u32>i * 4)) & 15)));
}

/** Go's strconv.Quote of UTF-8 bytes. */
export function writeGoQuoted(ptr: usize, len: u32): void {
  writeByte(0x22);
  let p = ptr;
  const stop = ptr + len;
  while (p < stop) {
    const start = p;
    const cp = decodeRune(p, stop);
    p += runeWidth;
    if (cp == 0x22 || cp == 0x5c) {
      writeByte(0x5c);
      writeByte(cp);
    } else if (cp == 0xfffd && runeWidth == 1) {
      // An invalid byte: written as U+FFFD, as a Go string of the decoded text would hold.
      writeByte(0xef);
      writeByte(0xbf);
      writeByte(0xbd);
    } else if (isPrintable(cp)) {
      writeBytes(start, p - start);
    } else if (cp == 7) {
      writeByte(0x5c);
      writeByte(0x61);
    } else if (cp == 8) {
      writeByte(0x5c);
      writeByte(0x62);
    } else if (cp == 9) {
      writeByte(0x5c);
      writeByte(0x74);
    } else if (cp == 10) {
      writeByte(0x5c);
      writeByte(0x6e);
    } else if (cp == 11) {
      writeByte(0x5c);
      writeByte(0x76);
    } else if (cp == 12) {
      writeByte(0x5c);
      writeByte(0x66);
    } else if (cp == 13) {
      writeByte(0x5c);
      writeByte(0x72);
    } else if (cp < 0x20 || cp == 0x7f) {
      writeByte(0x5c);
      writeByte(0x78);
      writeHex(cp, 2);
    } else if (cp < 0x10000) {
      writeByte(0x5c);
      writeByte(0x75);
      writeHex(cp, 4);
    } else {
      writeByte(0x5c);
      writeByte(0x55);
      writeHex(cp, 8);
    }
  }
  writeByte(0x22);
}

/** Width in bytes of the rune last decoded by decodeRune. */
export let runeWidth: usize = 1;

/** The code point at p (U+FFFD for invalid UTF-8, one byte consumed). */
export function decodeRune(p: usize, stop: usize): u32 {
  const b0 = <u32>load<u8>(p);
  runeWidth = 1;
  if (b0 < 0x80) return b0;
  let need: usize = 0;
  let cp: u32 = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
  } else {
    return 0xfffd;
  }
  if (p + need >= stop) return 0xfffd;
  for (let i: usize = 1; i <= need; i++) {
    const b = <u32>load<u8>(p + i);
    if ((b & 0xc0) != 0x80) return 0xfffd;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (
    (need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
    (need == 3 && (cp < 0x10000 || cp > 0x10ffff))
  ) {
    return 0xfffd;
  }
  runeWidth = need + 1;
  return cp;
}

function writeRego(v: usize): void {
  switch (tagOf(v)) {
    case TAG_BOOLEAN:
      emitAscii(booleanOf(v) ? 'true' : 'false');
      break;
    case TAG_NUMBER:
      writeNumber(v, true);
      break;
    case TAG_STRING:
      writeGoQuoted(stringPtr(v), stringLen(v));
      break;
    case TAG_ARRAY:
    case TAG_SET: {
      const n = lengthOf(v);
      if (tagOf(v) == TAG_SET && n == 0) {
        emitAscii('set()');
        break;
      }
      writeByte(tagOf(v) == TAG_SET ? 0x7b : 0x5b);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) emitAscii(', ');
        writeRego(elementAt(v, i));
      }
      writeByte(tagOf(v) == TAG_SET ? 0x7d : 0x5d);
      break;
    }
    case TAG_OBJECT: {
      writeByte(0x7b);
      const n = lengthOf(v);
      for (let i: u32 = 0; i < n; i++) {
        if (i > 0) emitAscii(', ');
        writeRego(keyAt(v, i));
        emitAscii(': ');
        writeRego(valueAt(v, i));
      }
      writeByte(0x7d);
      break;
    }
    default:
      emitAscii('null');
  }
}

/** NUL-terminated Rego text of v. */
export function dumpRego(v: usize): usize {
  writerBegin();
  escapeLevel = 0;
  if (v == 0) emitAscii('null');
  else writeRego(v);
  writeByte(0);
  return writerEnd();
}
