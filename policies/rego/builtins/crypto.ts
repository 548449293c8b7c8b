/**
 * Digests and HMACs of strings (their UTF-8 bytes), as lowercase hex: crypto.md5, crypto.sha1,
 * crypto.sha256, crypto.hmac.md5/sha1/sha256/sha512 and crypto.hmac.equal.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { stringArg } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

function digest(name: string, algorithm: string): BuiltinDef {
  return builtin(name, [T.string], T.string, (args) =>
    createHash(algorithm)
      .update(stringArg(name, args, 1), 'utf8')
      .digest('hex'),
  );
}

function hmac(name: string, algorithm: string): BuiltinDef {
  return builtin(name, [T.string, T.string], T.string, (args) =>
    createHmac(algorithm, Buffer.from(stringArg(name, args, 2), 'utf8'))
      .update(stringArg(name, args, 1), 'utf8')
      .digest('hex'),
  );
}

/** Compares two MACs in constant time. */
const hmacEqual = builtin('crypto.hmac.equal', [T.string, T.string], T.boolean, (args) => {
  const a = Buffer.from(stringArg('crypto.hmac.equal', args, 1), 'utf8');
  const b = Buffer.from(stringArg('crypto.hmac.equal', args, 2), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
});

export const CRYPTO_BUILTINS: readonly BuiltinDef[] = [
  digest('crypto.md5', 'md5'),
  digest('crypto.sha1', 'sha1'),
  digest('crypto.sha256', 'sha256'),
  hmac('crypto.hmac.md5', 'md5'),
  hmac('crypto.hmac.sha1', 'sha1'),
  hmac('crypto.hmac.sha256', 'sha256'),
  hmac('crypto.hmac.sha512', 'sha512'),
  hmacEqual,
];
