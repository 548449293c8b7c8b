/**
 * Time builtins on Unix nanoseconds: time.now_ns, time.parse_ns (Go layouts),
 * time.parse_rfc3339_ns, time.parse_duration_ns, time.date, time.clock, time.weekday,
 * time.add_date, time.diff, time.format. A time may come with an IANA zone: [ns, "Asia/Tokyo"].
 */
import { isInteger, normalizeNumber, type Value } from '../../ir/value';
import { goQuote } from '../../ir/value-text';
import { daysFromCivil, civilFromDays, DAY_NAMES } from './civil';
import {
  formatTime,
  NAMED_LAYOUTS,
  RFC3339,
  RFC3339_NANO,
  parseTime,
  TimeParseError,
  wallClock,
  type ZonedTime,
} from './golayout';
import { intArg, operand, stringArg, typeError } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';
import { loadZone, UnknownZoneError, type Zone } from './tz';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_DAY = 86_400n * NS_PER_SECOND;

interface TzTime {
  readonly ns: bigint;
  readonly zone: Zone;
  readonly layout: string;
}

const TIME_OPERAND = 'either number (ns) or [number (ns), string (tz)]';

function zoneNamed(name: string, tz: string): Zone {
  try {
    return loadZone(tz);
  } catch (e) {
    if (e instanceof UnknownZoneError) throw new BuiltinError(name, e.message);
    throw e;
  }
}

/** A time operand: ns, [ns, tz] or [ns, tz, layout]. */
function tzTime(name: string, args: readonly Value[]): TzTime {
  const v = operand(name, args, 1);
  let n: Value;
  let zone = loadZone('UTC');
  let layout = '';
  if (Array.isArray(v)) {
    const [first, tz, lay] = v as readonly Value[];
    if (first === undefined) typeError(name, 1, v, TIME_OPERAND);
    if (typeof first !== 'number' && typeof first !== 'bigint') typeError(name, 1, first, 'number');
    n = first;
    if (tz !== undefined) {
      if (typeof tz !== 'string') typeError(name, 1, tz, 'string');
      zone = zoneNamed(name, tz);
    }
    if (lay !== undefined) {
      if (typeof lay !== 'string') typeError(name, 1, lay, 'string');
      layout = lay;
    }
  } else if (typeof v === 'number' || typeof v === 'bigint') {
    n = v;
  } else {
    typeError(name, 1, v, TIME_OPERAND);
  }
  if (!isInteger(n)) throw new BuiltinError(name, 'timestamp too big');
  const ns = BigInt(n);
  if (ns < INT64_MIN || ns > INT64_MAX) throw new BuiltinError(name, 'timestamp too big');
  return { ns, zone, layout };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function zoned(ns: bigint, zone: Zone, withAbbreviation = false): ZonedTime {
  const ms = Number(floorDiv(ns, 1_000_000n));
  return {
    ns,
    offset: zone.offsetAt(ms),
    abbreviation: withAbbreviation ? zone.abbreviationAt(ms) : '',
  };
}

/** The instant at which the zone's clocks show `wallNs` (wall clock read as UTC). */
function instantOf(wallNs: bigint, zone: Zone): bigint {
  const guess = zone.offsetAt(Number(floorDiv(wallNs, 1_000_000n)));
  let ns = wallNs - BigInt(guess) * NS_PER_SECOND;
  const actual = zone.offsetAt(Number(floorDiv(ns, 1_000_000n)));
  if (actual !== guess) ns = wallNs - BigInt(actual) * NS_PER_SECOND;
  return ns;
}

/** A Unix-nanosecond result, which must fit in 64 bits. */
function safeNs(name: string, ns: bigint): Value {
  if (ns < INT64_MIN || ns > INT64_MAX) throw new BuiltinError(name, 'time outside of valid range');
  return normalizeNumber(ns);
}

function parsed(name: string, layout: string, value: string): Value {
  let result;
  try {
    result = parseTime(layout, value);
  } catch (e) {
    if (e instanceof TimeParseError) throw new BuiltinError(name, e.message);
    throw e;
  }
  return safeNs(name, result.wallNs - BigInt(result.offset ?? 0) * NS_PER_SECOND);
}

const parseNs = builtin('time.parse_ns', [T.string, T.string], T.number, (args) => {
  const layout = stringArg('time.parse_ns', args, 1);
  const value = stringArg('time.parse_ns', args, 2);
  return parsed('time.parse_ns', NAMED_LAYOUTS.get(layout) ?? layout, value);
});

const parseRFC3339 = builtin('time.parse_rfc3339_ns', [T.string], T.number, (args) =>
  parsed('time.parse_rfc3339_ns', RFC3339, stringArg('time.parse_rfc3339_ns', args, 1)),
);

// ---------------------------------------------------------------------------------------------
// Durations (Go's time.ParseDuration)

const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map(
  Object.entries({
    ns: 1n,
    us: 1_000n,
    µs: 1_000n,
    μs: 1_000n,
    ms: 1_000_000n,
    s: NS_PER_SECOND,
    m: 60n * NS_PER_SECOND,
    h: 3600n * NS_PER_SECOND,
  }),
);

/**
 * A Go duration string (`1h30m`, `-1.5s`, `300ms`) in nanoseconds; BuiltinError when it is
 * not one, or is out of range.
 */
export function parseDuration(orig: string): bigint {
  const name = 'time.parse_duration_ns';
  const invalid = (): never => {
    throw new BuiltinError(name, `time: invalid duration ${goQuote(orig)}`);
  };
  let s = orig;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') invalid();
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = m?.[1] ?? '';
    const frac = m?.[2];
    if (whole === '' && (frac === undefined || frac === '')) invalid();
    s = s.slice((m?.[0] ?? '').length);
    const unitMatch = /^[^0-9.]+/.exec(s);
    if (!unitMatch) throw new BuiltinError(name, `time: missing unit in duration ${goQuote(orig)}`);
    const u = unitMatch[0];
    s = s.slice(u.length);
    const unit = DURATION_UNITS.get(u);
    if (unit === undefined) {
      throw new BuiltinError(name, `time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    }
    let v = BigInt(whole || '0') * unit;
    if (frac !== undefined && frac !== '') v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += v;
    if (total > 2n ** 63n) invalid();
  }
  if (!neg && total > INT64_MAX) invalid();
  return neg ? -total : total;
}

const parseDurationNs = builtin('time.parse_duration_ns', [T.string], T.number, (args) =>
  normalizeNumber(parseDuration(stringArg('time.parse_duration_ns', args, 1))),
);

// ---------------------------------------------------------------------------------------------
// Reading and shifting times

const timeArg = T.anyOf(T.number, T.tuple(T.number, T.string));

const date = builtin('time.date', [timeArg], T.tuple(T.number, T.number, T.number), (args) => {
  const t = tzTime('time.date', args);
  const w = wallClock(zoned(t.ns, t.zone));
  return [w.year, w.month, w.day];
});

const clock = builtin('time.clock', [timeArg], T.tuple(T.number, T.number, T.number), (args) => {
  const t = tzTime('time.clock', args);
  const w = wallClock(zoned(t.ns, t.zone));
  return [w.hour, w.minute, w.second];
});

const weekday = builtin('time.weekday', [timeArg], T.string, (args) => {
  const t = tzTime('time.weekday', args);
  return DAY_NAMES[wallClock(zoned(t.ns, t.zone)).weekday] ?? '';
});

const addDate = builtin(
  'time.add_date',
  [T.number, T.number, T.number, T.number],
  T.number,
  (args) => {
    const name = 'time.add_date';
    const t = tzTime(name, args);
    const years = intArg(name, args, 2);
    const months = intArg(name, args, 3);
    const days = intArg(name, args, 4);
    const z = zoned(t.ns, t.zone);
    const w = wallClock(z);
    const year = w.year + years;
    const dayCount = daysFromCivil(year, w.month + months, w.day + days);
    if (!Number.isSafeInteger(dayCount) || Math.abs(dayCount) > 200_000_000) {
      throw new BuiltinError(name, 'time outside of valid range');
    }
    const timeOfDay =
      BigInt(w.hour * 3600 + w.minute * 60 + w.second) * NS_PER_SECOND + BigInt(w.nanos);
    const wallNs = BigInt(dayCount) * NS_PER_DAY + timeOfDay;
    if (wallNs < INT64_MIN - NS_PER_DAY || wallNs > INT64_MAX + NS_PER_DAY) {
      throw new BuiltinError(name, 'time outside of valid range');
    }
    return safeNs(name, instantOf(wallNs, t.zone));
  },
);

const diff = builtin(
  'time.diff',
  [timeArg, timeArg],
  T.tuple(T.number, T.number, T.number, T.number, T.number, T.number),
  (args) => {
    const name = 'time.diff';
    const a = tzTime(name, args);
    const b = tzTime(name, args.slice(1));
    // Both are read in the first time's zone, earlier first.
    let [t1, t2] = [a.ns, b.ns];
    if (t1 > t2) [t1, t2] = [t2, t1];
    const w1 = wallClock(zoned(t1, a.zone));
    const w2 = wallClock(zoned(t2, a.zone));
    let year = w2.year - w1.year;
    let month = w2.month - w1.month;
    let day = w2.day - w1.day;
    let hour = w2.hour - w1.hour;
    let minute = w2.minute - w1.minute;
    let second = w2.second - w1.second;
    if (second < 0) {
      second += 60;
      minute--;
    }
    if (minute < 0) {
      minute += 60;
      hour--;
    }
    if (hour < 0) {
      hour += 24;
      day--;
    }
    if (day < 0) {
      // Days in w1's month: the 32nd of it lands on day (32 - length) of the next month.
      day += 32 - civilFromDays(daysFromCivil(w1.year, w1.month, 32)).day;
      month--;
    }
    if (month < 0) {
      month += 12;
      year--;
    }
    return [year, month, day, hour, minute, second];
  },
);

const format = builtin(
  'time.format',
  [T.anyOf(T.number, T.tuple(T.number, T.string), T.tuple(T.number, T.string, T.string))],
  T.string,
  (args) => {
    const t = tzTime('time.format', args);
    const layout = t.layout === '' ? RFC3339_NANO : (NAMED_LAYOUTS.get(t.layout) ?? t.layout);
    return formatTime(zoned(t.ns, t.zone, true), layout);
  },
);

const nowNs = builtin('time.now_ns', [], T.number, (_args, ctx) => normalizeNumber(ctx.nowNs), {
  nondeterministic: true,
});

export const TIME_BUILTINS: readonly BuiltinDef[] = [
  nowNs,
  parseNs,
  parseRFC3339,
  parseDurationNs,
  date,
  clock,
  weekday,
  addDate,
  diff,
  format,
];
