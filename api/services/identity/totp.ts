/**
 * One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) over node:crypto's HMAC, base32
 * secrets (RFC 4648) and the `otpauth://` URI authenticator apps scan.
 *
 * Verdict enrols SHA-1, 6 digits, 30-second steps (what every authenticator app supports)
 * and accepts the step before and after the current one for clock drift. A code is taken
 * at most once: the caller stores the step of the last accepted code and passes it back,
 * and only later steps are accepted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  readonly algorithm?: OtpAlgorithm;
  readonly digits?: number;
  /** Seconds per step. */
  readonly period?: number;
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(data: Buffer): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += base32Alphabet[(value >>> (bits - 5)) & 31] as string;
      bits -= 5;
    }
  }
  if (bits > 0) text += base32Alphabet[(value << (5 - bits)) & 31] as string;
  return text;
}

/** Decodes base32, ignoring case, spaces and padding; undefined for other characters. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = base32Alphabet.indexOf(char);
    if (index < 0) return undefined;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 section 5.3: HMAC of the counter, dynamic truncation, `digits` decimal digits. */
export function hotp(
  secret: Buffer,
  counter: number,
  digits = 6,
  algorithm: OtpAlgorithm = 'sha1',
): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The TOTP step a time (milliseconds since the epoch) falls in. */
export function totpStep(timeMs: number, period = 30): number {
  return Math.floor(timeMs / 1000 / period);
}

/** RFC 6238: HOTP of the time step. */
export function totp(secret: Buffer, timeMs: number, options: TotpOptions = {}): string {
  return hotp(
    secret,
    totpStep(timeMs, options.period ?? 30),
    options.digits ?? 6,
    options.algorithm ?? 'sha1',
  );
}

/** Steps around the current one a code may come from (clock drift between phone and server). */
const driftSteps = 1;

/**
 * The step `code` belongs to, if it is valid now (±1 step) and later than `lastUsedStep`;
 * undefined otherwise. Every candidate is compared, in constant time, so timing tells
 * nothing about which step matched.
 */
export function verifyTotp(
  secret: Buffer,
  code: string,
  timeMs: number,
  lastUsedStep: number | null,
  options: TotpOptions = {},
): number | undefined {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^[0-9]{${digits}}$`).test(code)) return undefined;
  const current = totpStep(timeMs, options.period ?? 30);
  let matched: number | undefined;
  for (let step = current - driftSteps; step <= current + driftSteps; step += 1) {
    const expected = hotp(secret, step, digits, options.algorithm ?? 'sha1');
    const same = timingSafeEqual(Buffer.from(expected), Buffer.from(code));
    if (same && (lastUsedStep === null || step > lastUsedStep)) matched ??= step;
  }
  return matched;
}

/** A new random secret: 20 bytes, the length RFC 4226 recommends for SHA-1. */
export function newTotpSecret(): Buffer {
  return randomBytes(20);
}

/** The `otpauth://totp/...` URI an authenticator app scans (Key Uri Format). */
export function otpauthUri(secret: Buffer, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
