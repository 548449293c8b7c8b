/**
 * CIDR builtins: net.cidr_contains, net.cidr_intersects, net.cidr_is_valid, net.cidr_expand,
 * net.cidr_merge, net.cidr_contains_matches (and the deprecated net.cidr_overlap).
 */
import { isArray, ObjectValue, SetValue, type Value } from '../../ir/value';
import { operand, stringArg } from './args';
import {
  bigIntToIP,
  CIDRError,
  formatIP,
  formatNet,
  maskIP,
  netContains,
  netRange,
  parseCIDR,
  parseIP,
  to4,
  type IPNet,
} from './ip';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

function cidrArg(name: string, args: readonly Value[], pos: number): IPNet {
  const s = stringArg(name, args, pos);
  try {
    return parseCIDR(s).net;
  } catch (e) {
    if (e instanceof CIDRError) throw new BuiltinError(name, e.message);
    throw e;
  }
}

/** Whether CIDR `a` contains the address or the whole CIDR `b`. */
function cidrContains(name: string, a: IPNet, b: string): boolean {
  const ip = parseIP(b);
  if (ip !== undefined) return netContains(a, ip);
  let inner: IPNet;
  try {
    inner = parseCIDR(b).net;
  } catch {
    throw new BuiltinError(
      name,
      `not a valid textual representation of an IP address or CIDR: ${b}`,
    );
  }
  if (!netContains(a, inner.ip)) return false;
  const [, last] = netRange(inner);
  return netContains(a, bigIntToIP(last, inner.ip.length));
}

function containsBuiltin(name: string): BuiltinDef {
  return builtin(name, [T.string, T.string], T.boolean, (args) =>
    cidrContains(name, cidrArg(name, args, 1), stringArg(name, args, 2)),
  );
}

const intersects = builtin('net.cidr_intersects', [T.string, T.string], T.boolean, (args) => {
  const a = cidrArg('net.cidr_intersects', args, 1);
  const b = cidrArg('net.cidr_intersects', args, 2);
  return netContains(a, b.ip) || netContains(b, a.ip);
});

const isValid = builtin('net.cidr_is_valid', [T.string], T.boolean, ([s]) => {
  if (typeof s !== 'string') return false;
  try {
    parseCIDR(s);
    return true;
  } catch {
    return false;
  }
});

/** A block bigger than this is an error rather than a huge set. */
export const MAX_EXPANDED_ADDRESSES = 65_536;

const expand = builtin('net.cidr_expand', [T.string], T.set(T.string), (args) => {
  const net = cidrArg('net.cidr_expand', args, 1);
  const [first, last] = netRange(net);
  const count = last - first + 1n;
  if (count > BigInt(MAX_EXPANDED_ADDRESSES)) {
    throw new BuiltinError(
      'net.cidr_expand',
      `${formatNet(net)} has ${count} addresses, more than the ${MAX_EXPANDED_ADDRESSES} it expands`,
    );
  }
  const out = new SetValue();
  for (let n = first; n <= last; n++) out.add(formatIP(bigIntToIP(n, net.ip.length)));
  return out;
});

// ---------------------------------------------------------------------------------------------
// net.cidr_merge

/** Go's IP.DefaultMask: the classful prefix of an IPv4 address (A: /8, B: /16, C: /24). */
function classfulBits(ip: Uint8Array): number {
  const first = ip[0] ?? 0;
  return first < 0x80 ? 8 : first < 0xc0 ? 16 : 24;
}

function mergeElement(x: Value): IPNet {
  if (typeof x !== 'string') throw new BuiltinError('net.cidr_merge', 'element must be string');
  const ip = parseIP(x);
  if (ip === undefined) {
    try {
      return parseCIDR(x).net;
    } catch (e) {
      if (e instanceof CIDRError) throw new BuiltinError('net.cidr_merge', e.message);
      throw e;
    }
  }
  const v4 = to4(ip);
  if (v4 === undefined)
    throw new BuiltinError('net.cidr_merge', 'IPv6 invalid: needs prefix length');
  // OPA gives a bare IPv4 address its classful network, unmasked.
  return { ip: v4, bits: classfulBits(v4) };
}

/** The fewest CIDR blocks that cover [first, last] exactly. */
function rangeToNets(first: bigint, last: bigint, length: number): IPNet[] {
  const width = length * 8;
  const out: IPNet[] = [];
  let start = first;
  while (start <= last) {
    let size = 0;
    while (size < width) {
      const block = 1n << BigInt(size + 1);
      if (start % block !== 0n || start + block - 1n > last) break;
      size++;
    }
    out.push({ ip: bigIntToIP(start, length), bits: width - size });
    start += 1n << BigInt(size);
  }
  return out;
}

interface Block {
  first: bigint;
  last: bigint;
  /** The original network when the block was not merged with another. */
  net: IPNet | undefined;
}

function mergeFamily(nets: readonly IPNet[], length: number): IPNet[] {
  const blocks: Block[] = nets.map((net) => {
    const [first, last] = netRange({ ip: maskIP(net.ip, net.bits), bits: net.bits });
    return { first, last, net };
  });
  blocks.sort((a, b) =>
    a.last !== b.last
      ? a.last < b.last
        ? -1
        : 1
      : a.first < b.first
        ? -1
        : a.first > b.first
          ? 1
          : 0,
  );
  for (let i = blocks.length - 1; i > 0; i--) {
    const cur = blocks[i] as Block;
    const prev = blocks[i - 1] as Block;
    if (cur.first - 1n <= prev.last) {
      blocks[i - 1] = {
        first: prev.first < cur.first ? prev.first : cur.first,
        last: cur.last,
        net: undefined,
      };
      blocks.splice(i, 1);
    }
  }
  return blocks.flatMap((b) =>
    b.net !== undefined ? [b.net] : rangeToNets(b.first, b.last, length),
  );
}

const merge = builtin(
  'net.cidr_merge',
  [T.anyOf(T.array(T.string), T.set(T.string))],
  T.set(T.string),
  (args) => {
    const v = operand('net.cidr_merge', args, 1);
    const items = isArray(v) ? v : v instanceof SetValue ? v.sorted() : undefined;
    if (items === undefined) throw new BuiltinError('net.cidr_merge', 'operand must be an array');
    const nets = items.map(mergeElement);
    const out = new SetValue();
    for (const length of [4, 16]) {
      const family = nets.filter((n) => n.ip.length === length);
      for (const n of mergeFamily(family, length)) out.add(formatNet(n));
    }
    return out;
  },
);

// ---------------------------------------------------------------------------------------------
// net.cidr_contains_matches

/** [cidr, key] pairs of an operand: a string, or an array/set/object of strings or [cidr, ...]. */
function cidrEntries(pos: number, v: Value): [string, Value][] {
  const cidrOf = (x: Value): string => {
    if (typeof x === 'string') return x;
    if (isArray(x) && x.length > 0) {
      const [first] = x;
      if (typeof first === 'string') return first;
    }
    throw new BuiltinError(
      'net.cidr_contains_matches',
      `operand ${pos}: element must be string or non-empty array`,
    );
  };
  if (typeof v === 'string') return [[v, v]];
  if (isArray(v)) return v.map((x, i) => [cidrOf(x), i]);
  if (v instanceof SetValue) return v.sorted().map((x) => [cidrOf(x), x]);
  if (v instanceof ObjectValue) return v.sortedEntries().map(([k, x]) => [cidrOf(x), k]);
  return [];
}

const containsMatches = builtin(
  'net.cidr_contains_matches',
  [T.any, T.any],
  T.set(T.array()),
  (args) => {
    const name = 'net.cidr_contains_matches';
    const out = new SetValue();
    for (const [cidr1, key1] of cidrEntries(1, operand(name, args, 1))) {
      for (const [cidr2, key2] of cidrEntries(2, operand(name, args, 2))) {
        let outer: IPNet;
        try {
          outer = parseCIDR(cidr1).net;
        } catch (e) {
          if (e instanceof CIDRError) throw new BuiltinError(name, e.message);
          throw e;
        }
        if (cidrContains(name, outer, cidr2)) out.add([key1, key2]);
      }
    }
    return out;
  },
);

export const NET_BUILTINS: readonly BuiltinDef[] = [
  containsBuiltin('net.cidr_contains'),
  containsBuiltin('net.cidr_overlap'),
  intersects,
  isValid,
  expand,
  merge,
  containsMatches,
];
