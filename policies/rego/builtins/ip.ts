/**
 * IP addresses and CIDR blocks as Go's net package reads and prints them: addresses are byte
 * arrays (4 bytes for IPv4, 16 for IPv6), IPv4 has no leading zeros, IPv6 may embed a dotted
 * IPv4 tail and prints in RFC 5952 form.
 */

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type IP = Uint8Array;

/** A network: its address and prefix length, as Go's net.IPNet. */
export interface IPNet {
  /** The network address (the IP with its host bits cleared). */
  readonly ip: IP;
  /** Prefix length in bits. */
  readonly bits: number;
}

function parseIPv4(s: string): IP | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function hexGroups(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  for (const g of part.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

function parseIPv6(s: string): IP | undefined {
  let text = s;
  let tail: number[] = [];
  if (text.includes('.')) {
    // A dotted IPv4 address may stand for the last two groups.
    const lastColon = text.lastIndexOf(':');
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = hexGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? hexGroups(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  const back = [...rest, ...tail];
  const total = head.length + back.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...back];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Go's net.ParseIP: IPv4 as 4 bytes, IPv6 as 16; undefined when not an address. */
export function parseIP(s: string): IP | undefined {
  if (s.includes(':')) return parseIPv6(s);
  return parseIPv4(s);
}

const V4_IN_V6_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** The 4-byte form of an IPv4 or IPv4-mapped IPv6 address (Go's IP.To4). */
export function to4(ip: IP): IP | undefined {
  if (ip.length === 4) return ip;
  if (V4_IN_V6_PREFIX.every((b, i) => ip[i] === b)) return ip.slice(12);
  return undefined;
}

/** Go's net.IP.String. */
export function formatIP(ip: IP): string {
  const v4 = to4(ip);
  if (v4 !== undefined) return Array.from(v4).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip[i] ?? 0) << 8) | (ip[i + 1] ?? 0));
  // Compress the longest run (of at least two) of zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/** A string that is not a CIDR block; `text` is the string. */
export class CIDRError extends Error {
  constructor(readonly text: string) {
    super(`invalid CIDR address: ${text}`);
  }
}

/** Go's net.ParseCIDR: the address and its network. */
export function parseCIDR(s: string): { ip: IP; net: IPNet } {
  const slash = s.indexOf('/');
  if (slash < 0) throw new CIDRError(s);
  const addr = s.slice(0, slash);
  const mask = s.slice(slash + 1);
  const ip = addr.includes('%') ? undefined : parseIP(addr);
  if (ip === undefined || !/^\d{1,3}$/.test(mask)) throw new CIDRError(s);
  const bits = Number(mask);
  if (bits > ip.length * 8) throw new CIDRError(s);
  return { ip, net: { ip: maskIP(ip, bits), bits } };
}

/** `ip` with every bit after the first `bits` cleared. */
export function maskIP(ip: IP, bits: number): IP {
  const out = new Uint8Array(ip.length);
  for (let i = 0; i < ip.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = (ip[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Go's IPNet.Contains: the address (as 4 bytes when it is IPv4) must share the prefix. */
export function netContains(net: IPNet, ipIn: IP): boolean {
  const ip = to4(ipIn) ?? ipIn;
  if (ip.length !== net.ip.length) return false;
  const masked = maskIP(ip, net.bits);
  return masked.every((b, i) => b === net.ip[i]);
}

/** The address as an unsigned integer, first byte most significant. */
export function ipToBigInt(ip: IP): bigint {
  let n = 0n;
  for (const b of ip) n = (n << 8n) | BigInt(b);
  return n;
}

/** The `length`-byte address of an integer; the inverse of `ipToBigInt`. */
export function bigIntToIP(n: bigint, length: number): IP {
  const out = new Uint8Array(length);
  let x = n;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** The first and last address of a network, as integers. */
export function netRange(net: IPNet): [bigint, bigint] {
  const first = ipToBigInt(net.ip);
  const hostBits = BigInt(net.ip.length * 8 - net.bits);
  return [first, first | ((1n << hostBits) - 1n)];
}

/** A network in CIDR notation, `10.0.0.0/8`. */
export function formatNet(net: IPNet): string {
  return `${formatIP(net.ip)}/${net.bits}`;
}
