/**
 * A strict JSON (RFC 8259) parser that decodes straight into Rego values: numbers keep their
 * exact value (big integers become bigint), objects become ObjectValue, and a duplicate key
 * keeps its last value (as Go's decoder does).
 *
 * The parser is iterative, so deeply nested input cannot overflow the call stack, and every
 * error says what was expected and where (line, column and offset).
 */
import { ObjectValue, parseNumber, type Value } from './value';

/** Input that is not JSON; the message gives the line and column, the fields the offset too. */
export class JSONParseError extends Error {
  constructor(
    readonly detail: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`invalid JSON: ${detail} at line ${line}, column ${column}`);
    this.name = 'JSONParseError';
  }
}

/** A container being filled while its members are parsed. */
type Frame =
  | { readonly kind: 'array'; readonly items: Value[] }
  | { readonly kind: 'object'; readonly obj: ObjectValue; key: string | undefined };

/** A surrogate half without its partner; decoders (Go's too) turn it into U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Deeper nesting is refused, so no later recursive walk over the value can overflow. */
export const MAX_JSON_DEPTH = 1000;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Parses JSON text into a Rego value; throws JSONParseError on malformed input. */
export function parseJSONValue(text: string): Value {
  return new Parser(text).parse();
}

/** Whether `text` is one well-formed JSON value. */
export function isValidJSON(text: string): boolean {
  try {
    parseJSONValue(text);
    return true;
  } catch (e) {
    if (e instanceof JSONParseError) return false;
    throw e;
  }
}

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): Value {
    const stack: Frame[] = [];
    let result: Value | undefined;
    this.skipSpace();
    for (;;) {
      // Parse one value (or open a container).
      let value: Value | undefined;
      const c = this.text[this.pos];
      if (c === '[') {
        this.enter(stack.length);
        this.pos++;
        this.skipSpace();
        if (this.text[this.pos] === ']') {
          this.pos++;
          value = [];
        } else {
          stack.push({ kind: 'array', items: [] });
          continue;
        }
      } else if (c === '{') {
        this.enter(stack.length);
        this.pos++;
        this.skipSpace();
        if (this.text[this.pos] === '}') {
          this.pos++;
          value = new ObjectValue();
        } else {
          const frame: Frame = { kind: 'object', obj: new ObjectValue(), key: undefined };
          frame.key = this.parseKey();
          stack.push(frame);
          continue;
        }
      } else {
        value = this.parseScalar();
      }

      // Hand the value to its container, closing every container that ends here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          result = value;
          break;
        }
        if (top.kind === 'array') top.items.push(value);
        else top.obj.set(top.key ?? '', value);
        this.skipSpace();
        const sep = this.text[this.pos];
        if (sep === ',') {
          this.pos++;
          this.skipSpace();
          if (top.kind === 'object') top.key = this.parseKey();
          break;
        }
        const close = top.kind === 'array' ? ']' : '}';
        if (sep !== close) this.fail(`expected ',' or '${close}'`);
        this.pos++;
        stack.pop();
        value = top.kind === 'array' ? top.items : top.obj;
      }
      if (result !== undefined) break;
      this.skipSpace();
    }
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected data after the JSON value');
    return result;
  }

  private enter(depth: number): void {
    if (depth >= MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
  }

  /** Parses `"key" :` and leaves the position at the member's value. */
  private parseKey(): string {
    if (this.text[this.pos] !== '"') this.fail('expected a string object key');
    const key = this.parseString();
    this.skipSpace();
    if (this.text[this.pos] !== ':') this.fail("expected ':' after an object key");
    this.pos++;
    this.skipSpace();
    return key;
  }

  private parseScalar(): Value {
    const c = this.text[this.pos];
    if (c === '"') return this.parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
    for (const [word, value] of KEYWORDS) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    if (c === undefined) this.fail('unexpected end of input, expected a value');
    this.fail(`unexpected character ${describe(c)}, expected a value`);
  }

  private parseNumber(): Value {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail('invalid number');
    const raw = m[0];
    const next = this.text[this.pos + raw.length];
    if (next !== undefined && /[0-9.eE+-]/.test(next)) this.fail('invalid number');
    this.pos += raw.length;
    return parseNumber(raw);
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    let chunk = this.pos;
    for (;;) {
      const code = this.text.charCodeAt(this.pos);
      if (Number.isNaN(code)) {
        this.pos = start;
        this.fail('unterminated string');
      }
      if (code === 0x22) break;
      if (code < 0x20) this.fail('control character in string (escape it)');
      if (code !== 0x5c) {
        this.pos++;
        continue;
      }
      out += this.text.slice(chunk, this.pos);
      out += this.parseEscape();
      chunk = this.pos;
    }
    out += this.text.slice(chunk, this.pos);
    this.pos++; // closing quote
    return LONE_SURROGATE.test(out) ? out.replace(LONE_SURROGATE, '\ufffd') : out;
  }

  private parseEscape(): string {
    const e = this.text[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case '"':
        return '"';
      case '\\':
        return '\\';
      case '/':
        return '/';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u': {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.pos -= 2;
          this.fail('invalid \\u escape (expected four hex digits)');
        }
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        this.pos -= 2;
        this.fail(`invalid escape ${e === undefined ? 'at end of input' : describe('\\' + e)}`);
    }
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  private fail(detail: string): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < this.pos && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new JSONParseError(detail, this.pos, line, this.pos - lineStart + 1);
  }
}

const KEYWORDS: readonly (readonly [string, Value])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

function describe(s: string): string {
  return JSON.stringify(s);
}
