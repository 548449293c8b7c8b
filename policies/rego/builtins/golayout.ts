/**
 * Go's reference-time layouts ("2006-01-02T15:04:05Z07:00"): formatting a time and parsing a
 * string, as Go's time.Format and time.Parse do. Times are Unix nanoseconds plus the offset
 * (and zone abbreviation) they are shown in.
 */
import { civilFromDays, DAY_NAMES, daysFromCivil, MONTH_NAMES, weekdayOf, yearDay } from './civil';

type Std =
  | 'LongMonth'
  | 'Month'
  | 'NumMonth'
  | 'ZeroMonth'
  | 'LongWeekDay'
  | 'WeekDay'
  | 'Day'
  | 'UnderDay'
  | 'ZeroDay'
  | 'UnderYearDay'
  | 'ZeroYearDay'
  | 'Hour'
  | 'Hour12'
  | 'ZeroHour12'
  | 'Minute'
  | 'ZeroMinute'
  | 'Second'
  | 'ZeroSecond'
  | 'LongYear'
  | 'Year'
  | 'PM'
  | 'pm'
  | 'TZ'
  | 'ISO8601TZ'
  | 'ISO8601SecondsTZ'
  | 'ISO8601ShortTZ'
  | 'ISO8601ColonTZ'
  | 'ISO8601ColonSecondsTZ'
  | 'NumTZ'
  | 'NumSecondsTz'
  | 'NumShortTZ'
  | 'NumColonTZ'
  | 'NumColonSecondsTZ'
  | 'FracSecond0'
  | 'FracSecond9';

interface Chunk {
  readonly prefix: string;
  readonly std?: Std;
  /** Source text of the element (for error messages). */
  readonly text?: string;
  /** Digits of a fractional second and its separator ('.' or ','). */
  readonly digits?: number;
  readonly sep?: string;
}

const ZONE_FORMS: readonly (readonly [string, Std])[] = [
  ['-07:00:00', 'NumColonSecondsTZ'],
  ['-070000', 'NumSecondsTz'],
  ['-07:00', 'NumColonTZ'],
  ['-0700', 'NumTZ'],
  ['-07', 'NumShortTZ'],
  ['Z07:00:00', 'ISO8601ColonSecondsTZ'],
  ['Z070000', 'ISO8601SecondsTZ'],
  ['Z07:00', 'ISO8601ColonTZ'],
  ['Z0700', 'ISO8601TZ'],
  ['Z07', 'ISO8601ShortTZ'],
];

const isLower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';
const isDigitAt = (s: string, i: number): boolean => {
  const c = s[i];
  return c !== undefined && c >= '0' && c <= '9';
};

/** The next layout element at or after `from`: [index, length, std, digits]. */
function nextStd(
  layout: string,
  from: number,
): { at: number; len: number; std: Std; digits?: number } | undefined {
  for (let i = from; i < layout.length; i++) {
    const c = layout[i];
    const rest = layout.slice(i);
    switch (c) {
      case 'J':
        if (rest.startsWith('January')) return { at: i, len: 7, std: 'LongMonth' };
        if (rest.startsWith('Jan') && !isLower(rest[3])) return { at: i, len: 3, std: 'Month' };
        break;
      case 'M':
        if (rest.startsWith('Monday')) return { at: i, len: 6, std: 'LongWeekDay' };
        if (rest.startsWith('Mon') && !isLower(rest[3])) return { at: i, len: 3, std: 'WeekDay' };
        if (rest.startsWith('MST')) return { at: i, len: 3, std: 'TZ' };
        break;
      case '0': {
        const n = rest[1];
        if (n !== undefined && n >= '1' && n <= '6') {
          const std: Std[] = [
            'ZeroMonth',
            'ZeroDay',
            'ZeroHour12',
            'ZeroMinute',
            'ZeroSecond',
            'Year',
          ];
          return { at: i, len: 2, std: std[Number(n) - 1] as Std };
        }
        if (rest.startsWith('002')) return { at: i, len: 3, std: 'ZeroYearDay' };
        break;
      }
      case '1':
        if (rest[1] === '5') return { at: i, len: 2, std: 'Hour' };
        return { at: i, len: 1, std: 'NumMonth' };
      case '2':
        if (rest.startsWith('2006')) return { at: i, len: 4, std: 'LongYear' };
        return { at: i, len: 1, std: 'Day' };
      case '_':
        if (rest[1] === '2') {
          // "_2006" is a literal underscore before the year.
          if (rest.startsWith('_2006')) return { at: i + 1, len: 4, std: 'LongYear' };
          return { at: i, len: 2, std: 'UnderDay' };
        }
        if (rest.startsWith('__2')) return { at: i, len: 3, std: 'UnderYearDay' };
        break;
      case '3':
        return { at: i, len: 1, std: 'Hour12' };
      case '4':
        return { at: i, len: 1, std: 'Minute' };
      case '5':
        return { at: i, len: 1, std: 'Second' };
      case 'P':
        if (rest[1] === 'M') return { at: i, len: 2, std: 'PM' };
        break;
      case 'p':
        if (rest[1] === 'm') return { at: i, len: 2, std: 'pm' };
        break;
      case '-':
      case 'Z':
        for (const [form, std] of ZONE_FORMS) {
          if (rest.startsWith(form)) return { at: i, len: form.length, std };
        }
        break;
      case '.':
      case ',': {
        const d = rest[1];
        if (d === '0' || d === '9') {
          let j = 1;
          while (rest[j] === d) j++;
          if (!isDigitAt(rest, j)) {
            return { at: i, len: j, std: d === '0' ? 'FracSecond0' : 'FracSecond9', digits: j - 1 };
          }
        }
        break;
      }
    }
  }
  return undefined;
}

function chunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let pos = 0;
  for (;;) {
    const next = nextStd(layout, pos);
    if (next === undefined) {
      out.push({ prefix: layout.slice(pos) });
      return out;
    }
    const text = layout.slice(next.at, next.at + next.len);
    out.push({
      prefix: layout.slice(pos, next.at),
      std: next.std,
      text,
      ...(next.digits !== undefined ? { digits: next.digits, sep: text[0] ?? '.' } : {}),
    });
    pos = next.at + next.len;
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** An instant and the offset (and zone abbreviation) to show it in. */
export interface ZonedTime {
  /** Unix nanoseconds. */
  readonly ns: bigint;
  /** Offset east of UTC in seconds. */
  readonly offset: number;
  /** Zone abbreviation ("" when the zone has none). */
  readonly abbreviation: string;
}

const NS_PER_DAY = 86_400_000_000_000n;

/**
 * The calendar and clock fields of a time as shown in its offset; `weekday` 0 is Sunday,
 * `yday` is 1-based.
 */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanos: number;
  readonly weekday: number;
  readonly yday: number;
}

/** The wall-clock fields of a time in its offset. */
export function wallClock(t: ZonedTime): WallClock {
  const local = t.ns + BigInt(t.offset) * 1_000_000_000n;
  let days = local / NS_PER_DAY;
  let rem = local % NS_PER_DAY;
  if (rem < 0n) {
    rem += NS_PER_DAY;
    days -= 1n;
  }
  const d = civilFromDays(Number(days));
  const secs = Number(rem / 1_000_000_000n);
  return {
    ...d,
    hour: Math.floor(secs / 3600),
    minute: Math.floor(secs / 60) % 60,
    second: secs % 60,
    nanos: Number(rem % 1_000_000_000n),
    weekday: weekdayOf(Number(days)),
    yday: yearDay(d),
  };
}

function pad(n: number, width: number, ch = '0'): string {
  const s = String(Math.abs(n)).padStart(width, ch);
  return n < 0 ? '-' + s : s;
}

function formatZone(std: Std, offset: number): string {
  const iso = std.startsWith('ISO8601');
  if (iso && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor(abs / 60) % 60, 2);
  const ss = pad(abs % 60, 2);
  switch (std) {
    case 'ISO8601TZ':
    case 'NumTZ':
      return sign + hh + mm;
    case 'ISO8601SecondsTZ':
    case 'NumSecondsTz':
      return sign + hh + mm + ss;
    case 'ISO8601ShortTZ':
    case 'NumShortTZ':
      return sign + hh;
    case 'ISO8601ColonTZ':
    case 'NumColonTZ':
      return sign + hh + ':' + mm;
    default:
      return sign + hh + ':' + mm + ':' + ss;
  }
}

/** Go's Time.Format. */
export function formatTime(t: ZonedTime, layout: string): string {
  const w = wallClock(t);
  let out = '';
  for (const c of chunks(layout)) {
    out += c.prefix;
    if (c.std === undefined) continue;
    switch (c.std) {
      case 'LongMonth':
        out += MONTH_NAMES[w.month - 1] ?? '';
        break;
      case 'Month':
        out += (MONTH_NAMES[w.month - 1] ?? '').slice(0, 3);
        break;
      case 'NumMonth':
        out += String(w.month);
        break;
      case 'ZeroMonth':
        out += pad(w.month, 2);
        break;
      case 'LongWeekDay':
        out += DAY_NAMES[w.weekday] ?? '';
        break;
      case 'WeekDay':
        out += (DAY_NAMES[w.weekday] ?? '').slice(0, 3);
        break;
      case 'Day':
        out += String(w.day);
        break;
      case 'UnderDay':
        out += pad(w.day, 2, ' ');
        break;
      case 'ZeroDay':
        out += pad(w.day, 2);
        break;
      case 'UnderYearDay':
        out += pad(w.yday, 3, ' ');
        break;
      case 'ZeroYearDay':
        out += pad(w.yday, 3);
        break;
      case 'Hour':
        out += pad(w.hour, 2);
        break;
      case 'Hour12':
        out += String(w.hour % 12 === 0 ? 12 : w.hour % 12);
        break;
      case 'ZeroHour12':
        out += pad(w.hour % 12 === 0 ? 12 : w.hour % 12, 2);
        break;
      case 'Minute':
        out += String(w.minute);
        break;
      case 'ZeroMinute':
        out += pad(w.minute, 2);
        break;
      case 'Second':
        out += String(w.second);
        break;
      case 'ZeroSecond':
        out += pad(w.second, 2);
        break;
      case 'LongYear':
        out += pad(w.year, 4);
        break;
      case 'Year':
        out += pad(((w.year % 100) + 100) % 100, 2);
        break;
      case 'PM':
        out += w.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += w.hour >= 12 ? 'pm' : 'am';
        break;
      case 'TZ':
        out += t.abbreviation !== '' ? t.abbreviation : formatZone('NumTZ', t.offset);
        break;
      case 'FracSecond0':
      case 'FracSecond9': {
        const digits = String(w.nanos).padStart(9, '0').slice(0, c.digits);
        if (c.std === 'FracSecond0') out += (c.sep ?? '.') + digits;
        else {
          const trimmed = String(w.nanos).padStart(9, '0').slice(0, c.digits).replace(/0+$/, '');
          if (trimmed !== '') out += (c.sep ?? '.') + trimmed;
        }
        break;
      }
      default:
        out += formatZone(c.std, t.offset);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** A value that does not match its layout; the message is Go's `parsing time ...` wording. */
export class TimeParseError extends Error {}

/** What parsing a value against a layout read: the wall clock, and any offset or zone written. */
export interface ParsedTime {
  /** Unix nanoseconds of the wall clock read as UTC. */
  readonly wallNs: bigint;
  /** The offset written in the value, when there was one. */
  readonly offset: number | undefined;
  /** A zone abbreviation written in the value ("MST"), when there was one. */
  readonly abbreviation: string | undefined;
}

function lookupName(
  names: readonly string[],
  value: string,
  len?: number,
): [number, string] | undefined {
  for (let i = 0; i < names.length; i++) {
    const name = len === undefined ? (names[i] ?? '') : (names[i] ?? '').slice(0, len);
    if (
      value.length >= name.length &&
      value.slice(0, name.length).toLowerCase() === name.toLowerCase()
    ) {
      return [i, value.slice(name.length)];
    }
  }
  return undefined;
}

/** Leading digits: exactly two when `fixed`, else one or two. */
function getNum(value: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(value, 0)) return undefined;
  if (!isDigitAt(value, 1)) {
    if (fixed) return undefined;
    return [Number(value[0]), value.slice(1)];
  }
  return [Number(value.slice(0, 2)), value.slice(2)];
}

/** Leading digits, up to three (a day of the year); exactly three when `fixed`. */
function getNum3(value: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(value, i); i++) n = n * 10 + Number(value[i]);
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, value.slice(i)];
}

function parseZoneOffset(std: Std, value: string): [number, string] | undefined {
  if (std.startsWith('ISO8601') && value.startsWith('Z')) return [0, value.slice(1)];
  const sign = value[0];
  if (sign !== '+' && sign !== '-') return undefined;
  const colon = std.includes('Colon');
  const hasSeconds = std.includes('Seconds');
  const short = std.includes('Short');
  const pattern = short
    ? /^[+-](\d\d)/
    : colon
      ? hasSeconds
        ? /^[+-](\d\d):(\d\d):(\d\d)/
        : /^[+-](\d\d):(\d\d)/
      : hasSeconds
        ? /^[+-](\d\d)(\d\d)(\d\d)/
        : /^[+-](\d\d)(\d\d)/;
  const m = pattern.exec(value);
  if (!m) return undefined;
  const [text, hh = '0', mm = '0', ss = '0'] = m;
  const h = Number(hh);
  const mi = Number(mm);
  const s = Number(ss);
  if (h > 24 || mi > 60 || s > 60) return undefined;
  const offset = (h * 3600 + mi * 60 + s) * (sign === '-' ? -1 : 1);
  return [offset, value.slice(text.length)];
}

/** A zone abbreviation such as "MST", "UTC" or "GMT+3". */
function parseAbbreviation(value: string): [string, number, string] | undefined {
  if (value.startsWith('UTC')) return ['UTC', 0, value.slice(3)];
  const gmt = /^GMT([+-]\d{1,2})?/.exec(value);
  if (gmt)
    return [gmt[0], gmt[1] === undefined ? 0 : Number(gmt[1]) * 3600, value.slice(gmt[0].length)];
  const m = /^[A-Z]{3,5}/.exec(value);
  if (!m) return undefined;
  // An abbreviation not known to the default (UTC) location reads as offset 0.
  return [m[0], 0, value.slice(m[0].length)];
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** Go's time.Parse: the wall-clock time and any offset the value states. */
export function parseTime(layout: string, input: string): ParsedTime {
  let value = input;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pmSet = false;
  let amSet = false;
  let offset: number | undefined;
  let abbreviation: string | undefined;
  const fail: (element: string, rest: string) => never = (element, rest) => {
    throw new TimeParseError(
      `parsing time ${quote(input)} as ${quote(layout)}: cannot parse ${quote(rest)} as ${quote(element)}`,
    );
  };
  const range: (what: string) => never = (what) => {
    throw new TimeParseError(`parsing time ${quote(input)}: ${what} out of range`);
  };
  const list = chunks(layout);
  for (let ci = 0; ci < list.length; ci++) {
    const c = list[ci] as Chunk;
    if (!value.startsWith(c.prefix)) fail(c.prefix, value);
    value = value.slice(c.prefix.length);
    if (c.std === undefined) {
      if (value.length > 0) {
        throw new TimeParseError(`parsing time ${quote(input)}: extra text: ${quote(value)}`);
      }
      break;
    }
    const hold = value;
    const element = c.text ?? '';
    let r: [number, string] | undefined;
    switch (c.std) {
      case 'Year':
        if (value.length < 2 || !isDigitAt(value, 0) || !isDigitAt(value, 1)) fail(element, hold);
        year = Number(value.slice(0, 2));
        year += year >= 69 ? 1900 : 2000;
        value = value.slice(2);
        break;
      case 'LongYear':
        if (!/^\d{4}/.test(value)) fail(element, hold);
        year = Number(value.slice(0, 4));
        value = value.slice(4);
        break;
      case 'Month':
      case 'LongMonth': {
        const hit = lookupName(MONTH_NAMES, value, c.std === 'Month' ? 3 : undefined);
        if (hit === undefined) fail(element, hold);
        month = hit[0] + 1;
        value = hit[1];
        break;
      }
      case 'NumMonth':
      case 'ZeroMonth':
        r = getNum(value, c.std === 'ZeroMonth');
        if (r === undefined) fail(element, hold);
        [month, value] = r;
        if (month <= 0 || month > 12) range('month');
        break;
      case 'WeekDay':
      case 'LongWeekDay': {
        const hit = lookupName(DAY_NAMES, value, c.std === 'WeekDay' ? 3 : undefined);
        if (hit === undefined) fail(element, hold);
        value = hit[1];
        break;
      }
      case 'Day':
      case 'UnderDay':
      case 'ZeroDay':
        if (c.std === 'UnderDay' && value.startsWith(' ')) value = value.slice(1);
        r = getNum(value, c.std === 'ZeroDay');
        if (r === undefined) fail(element, hold);
        [day, value] = r;
        break;
      case 'UnderYearDay':
      case 'ZeroYearDay':
        if (c.std === 'UnderYearDay') value = value.replace(/^ {1,2}/, '');
        r = getNum3(value, c.std === 'ZeroYearDay');
        if (r === undefined) fail(element, hold);
        [yday, value] = r;
        if (yday < 1 || yday > 366) range('day-of-year');
        break;
      case 'Hour':
        r = getNum(value, false);
        if (r === undefined) fail(element, hold);
        [hour, value] = r;
        if (hour < 0 || hour >= 24) range('hour');
        break;
      case 'Hour12':
      case 'ZeroHour12':
        r = getNum(value, c.std === 'ZeroHour12');
        if (r === undefined) fail(element, hold);
        [hour, value] = r;
        if (hour < 0 || hour > 12) range('hour');
        break;
      case 'Minute':
      case 'ZeroMinute':
        r = getNum(value, c.std === 'ZeroMinute');
        if (r === undefined) fail(element, hold);
        [minute, value] = r;
        if (minute < 0 || minute >= 60) range('minute');
        break;
      case 'Second':
      case 'ZeroSecond': {
        r = getNum(value, c.std === 'ZeroSecond');
        if (r === undefined) fail(element, hold);
        [second, value] = r;
        if (second < 0 || second >= 60) range('second');
        // A fraction the layout does not mention is still accepted.
        const next = list[ci + 1];
        const layoutHasFraction =
          next?.prefix === '' && (next.std === 'FracSecond0' || next.std === 'FracSecond9');
        if (!layoutHasFraction && /^[.,]\d/.test(value)) {
          const m = /^[.,](\d+)/.exec(value);
          const digits = m?.[1] ?? '';
          nanos = Number(digits.slice(0, 9).padEnd(9, '0'));
          value = value.slice(1 + digits.length);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const p = value.slice(0, 2);
        const [pm, am] = c.std === 'PM' ? ['PM', 'AM'] : ['pm', 'am'];
        if (p === pm) pmSet = true;
        else if (p === am) amSet = true;
        else fail(element, hold);
        value = value.slice(2);
        break;
      }
      case 'TZ': {
        const z = parseAbbreviation(value);
        if (z === undefined) fail(element, hold);
        [abbreviation, offset, value] = z;
        break;
      }
      case 'FracSecond0': {
        const n = c.digits ?? 0;
        const m = new RegExp(`^[.,](\\d{${n}})`).exec(value);
        if (!m) fail(element, hold);
        nanos = Number((m[1] ?? '').slice(0, 9).padEnd(9, '0'));
        value = value.slice(1 + n);
        break;
      }
      case 'FracSecond9': {
        if (!/^[.,]/.test(value)) break; // the fraction is optional
        const m = /^[.,](\d+)/.exec(value);
        const digits = m?.[1] ?? '';
        if (digits === '' || digits.length > 9) fail(element, hold);
        nanos = Number(digits.padEnd(9, '0'));
        value = value.slice(1 + digits.length);
        break;
      }
      default: {
        const z = parseZoneOffset(c.std, value);
        if (z === undefined) fail(element, hold);
        [offset, value] = z;
      }
    }
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    const d = civilFromDays(daysFromCivil(year, 1, 1) + yday - 1);
    if (d.year !== year) range('day-of-year');
    if (month >= 0 && month !== d.month) range('day-of-year');
    if (day >= 0 && day !== d.day) range('day-of-year');
    month = d.month;
    day = d.day;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  // Day of month must exist in that month.
  const check = civilFromDays(daysFromCivil(year, month, day));
  if (day < 1 || check.day !== day || check.month !== month) range('day');
  const days = BigInt(daysFromCivil(year, month, day));
  const secs = BigInt(hour * 3600 + minute * 60 + second);
  return {
    wallNs: days * NS_PER_DAY + secs * 1_000_000_000n + BigInt(nanos),
    offset,
    abbreviation,
  };
}

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_NANO = '2006-01-02T15:04:05.999999999Z07:00';

/** Layout names OPA accepts in place of a layout. */
export const NAMED_LAYOUTS: ReadonlyMap<string, string> = new Map([
  ['ANSIC', 'Mon Jan _2 15:04:05 2006'],
  ['UnixDate', 'Mon Jan _2 15:04:05 MST 2006'],
  ['RubyDate', 'Mon Jan 02 15:04:05 -0700 2006'],
  ['RFC822', '02 Jan 06 15:04 MST'],
  ['RFC822Z', '02 Jan 06 15:04 -0700'],
  ['RFC850', 'Monday, 02-Jan-06 15:04:05 MST'],
  ['RFC1123', 'Mon, 02 Jan 2006 15:04:05 MST'],
  ['RFC1123Z', 'Mon, 02 Jan 2006 15:04:05 -0700'],
  ['RFC3339', RFC3339],
  ['RFC3339Nano', RFC3339_NANO],
]);
