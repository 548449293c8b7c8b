/**
 * JSON Web Tokens (JWS compact serialization) with node:crypto: io.jwt.decode,
 * io.jwt.decode_verify, io.jwt.verify_{hs,rs,ps,es}{256,384,512}, io.jwt.verify_eddsa,
 * io.jwt.encode_sign and io.jwt.encode_sign_raw. Keys are PEM certificates or public keys,
 * or JWK / JWK Set JSON; HMAC secrets are plain strings.
 */
import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  X509Certificate,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { JSONParseError, parseJSONValue } from '../../ir/json';
import { isArray, ObjectValue, toJSONText, type Value } from '../../ir/value';
import { marshalJSON } from './encoding';
import { objectArg, operand, stringArg, typeError } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinContext, type BuiltinDef } from './types';

const ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
  'EdDSA',
]);

function hashOf(alg: string): string {
  return `sha${alg.slice(2)}`;
}

/** base64url with or without padding. */
function b64urlDecode(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) return undefined;
  const bare = s.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  return Buffer.from(bare, 'base64url');
}

function b64urlEncode(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

interface Token {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
}

function splitToken(name: string, v: Value): Token {
  if (typeof v !== 'string') typeError(name, 1, v, 'string');
  if (!v.includes('.')) throw new BuiltinError(name, 'encoded JWT had no period separators');
  const parts = v.split('.');
  if (parts.length !== 3) {
    throw new BuiltinError(name, `encoded JWT must have 3 sections, found ${parts.length}`);
  }
  const [header = '', payload = '', signature = ''] = parts;
  return { header, payload, signature };
}

function decodePart(name: string, part: string, what: string): string {
  const bytes = b64urlDecode(part);
  if (bytes === undefined)
    throw new BuiltinError(name, `JWT ${what} had invalid encoding: illegal base64url data`);
  return new TextDecoder().decode(bytes);
}

function jsonObject(name: string, text: string, what: string): ObjectValue {
  let v: Value;
  try {
    v = parseJSONValue(text);
  } catch (e) {
    if (e instanceof JSONParseError)
      throw new BuiltinError(name, `JWT ${what} is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!(v instanceof ObjectValue)) throw new BuiltinError(name, `JWT ${what} is not a JSON object`);
  return v;
}

function signatureBytes(name: string, token: Token): Buffer {
  const sig = b64urlDecode(token.signature);
  if (sig === undefined)
    throw new BuiltinError(name, 'JWT signature had invalid encoding: illegal base64url data');
  return sig;
}

// ---------------------------------------------------------------------------------------------
// io.jwt.decode

function decode(name: string, v: Value): Value {
  const token = splitToken(name, v);
  const header = jsonObject(name, decodePart(name, token.header, 'header'), 'header');
  let payloadText = decodePart(name, token.payload, 'payload');
  const cty = header.get('cty');
  if (cty === 'JWT') {
    // A nested token: the payload is itself a JWT (possibly quoted).
    payloadText = payloadText.replace(/^["']+|["']+$/g, '');
    return decode(name, payloadText);
  }
  const payload = jsonObject(name, payloadText, 'payload');
  return [header, payload, signatureBytes(name, token).toString('hex')];
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures

interface VerificationKey {
  readonly key: KeyObject;
  readonly alg: string;
  readonly kid: string;
}

function keyFromJWK(jwk: JsonWebKey): KeyObject {
  if (jwk.kty === 'oct') return createSecretKey(Buffer.from(jwk.k ?? '', 'base64url'));
  return createPublicKey({ key: jwk, format: 'jwk' });
}

/** Keys from a PEM certificate or public key, or from a JWK / JWK Set. */
export function keysFrom(name: string, text: string): VerificationKey[] {
  const pem = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/.exec(text);
  if (pem) {
    if (text.slice(pem.index + pem[0].length).trim() !== '') {
      throw new BuiltinError(name, 'extra data after a PEM certificate block');
    }
    try {
      if (pem[1] === 'CERTIFICATE')
        return [{ key: new X509Certificate(pem[0]).publicKey, alg: '', kid: '' }];
      if (pem[1] === 'PUBLIC KEY') return [{ key: createPublicKey(pem[0]), alg: '', kid: '' }];
    } catch (e) {
      throw new BuiltinError(
        name,
        `failed to parse a PEM ${pem[1] === 'CERTIFICATE' ? 'certificate' : 'public key'}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    throw new BuiltinError(name, 'failed to extract a Key from the PEM certificate');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new BuiltinError(
      name,
      `failed to parse a JWK key (set): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const list: unknown[] =
    parsed !== null && typeof parsed === 'object' && 'keys' in parsed && Array.isArray(parsed.keys)
      ? parsed.keys
      : [parsed];
  const keys: VerificationKey[] = [];
  for (const k of list) {
    if (k === null || typeof k !== 'object')
      throw new BuiltinError(name, 'failed to parse a JWK key (set): not an object');
    const jwk = k as JsonWebKey;
    const alg = typeof jwk.alg === 'string' ? jwk.alg : '';
    if (alg !== '' && !ALGORITHMS.has(alg)) continue;
    try {
      keys.push({ key: keyFromJWK(jwk), alg, kid: typeof jwk.kid === 'string' ? jwk.kid : '' });
    } catch (e) {
      throw new BuiltinError(
        name,
        `failed to parse a JWK key (set): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return keys;
}

/** Whether `signature` is alg's signature of `data` under `key` (false for a mismatched key). */
function verifySignature(key: KeyObject, alg: string, data: Buffer, signature: Buffer): boolean {
  try {
    if (alg.startsWith('HS')) {
      if (key.type !== 'secret') return false;
      const mac = createHmac(hashOf(alg), key).update(data).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    }
    if (alg === 'EdDSA')
      return key.asymmetricKeyType === 'ed25519' && cryptoVerify(null, data, key, signature);
    if (alg.startsWith('ES')) {
      return (
        key.asymmetricKeyType === 'ec' &&
        cryptoVerify(hashOf(alg), data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      );
    }
    if (key.asymmetricKeyType !== 'rsa') return false;
    const padding = alg.startsWith('PS')
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }
      : { padding: constants.RSA_PKCS1_PADDING };
    return cryptoVerify(hashOf(alg), data, { key, ...padding }, signature);
  } catch {
    return false;
  }
}

/** Verifies with the key whose kid matches the header's, else with any key of the right alg. */
function verifyWithKeys(
  keys: readonly VerificationKey[],
  kid: string,
  alg: string,
  data: Buffer,
  sig: Buffer,
): boolean {
  if (kid !== '') {
    const byKid = keys.find((k) => k.kid === kid);
    if (byKid !== undefined) return verifySignature(byKid.key, alg, data, sig);
  }
  return keys.some(
    (k) => (k.alg === '' || k.alg === alg) && verifySignature(k.key, alg, data, sig),
  );
}

function signingInput(token: Token): Buffer {
  return Buffer.from(`${token.header}.${token.payload}`, 'utf8');
}

function verifyBuiltin(name: string, alg: string): BuiltinDef {
  return builtin(name, [T.string, T.string], T.boolean, (args) => {
    const token = splitToken(name, operand(name, args, 1));
    const secretOrCert = stringArg(name, args, 2);
    if (alg.startsWith('HS')) {
      return verifySignature(
        createSecretKey(Buffer.from(secretOrCert, 'utf8')),
        alg,
        signingInput(token),
        signatureBytes(name, token),
      );
    }
    const keys = keysFrom(name, secretOrCert);
    const sig = signatureBytes(name, token);
    const header = jsonObject(name, decodePart(name, token.header, 'header'), 'header');
    const kid = header.get('kid');
    const headerAlg = header.get('alg');
    // Keys that name an algorithm are only used for tokens of that algorithm.
    const usable = keys.filter((k) => k.alg === '' || k.alg === headerAlg);
    return verifyWithKeys(
      usable,
      typeof kid === 'string' ? kid : '',
      alg,
      signingInput(token),
      sig,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// io.jwt.decode_verify

interface Constraints {
  keys?: VerificationKey[];
  secret: string;
  alg: string;
  iss: string;
  aud: string;
  /** Nanoseconds since the epoch. */
  time: number;
}

function parseConstraints(name: string, obj: ObjectValue, ctx: BuiltinContext): Constraints {
  const c: Constraints = { secret: '', alg: '', iss: '', aud: '', time: Number(ctx.nowNs) };
  for (const [k, v] of obj) {
    const key = typeof k === 'string' ? k : toJSONText(k);
    const str = (): string => {
      if (typeof v !== 'string')
        throw new BuiltinError(name, `${key} constraint: must be a string`);
      return v;
    };
    switch (key) {
      case 'cert':
        c.keys = keysFrom(name, str());
        break;
      case 'secret':
        c.secret = str();
        break;
      case 'alg':
      case 'iss':
      case 'aud':
        c[key] = str();
        break;
      case 'time':
        if (typeof v !== 'number' && typeof v !== 'bigint')
          throw new BuiltinError(name, 'token time constraint: must be a number');
        if (Number(v) < 0)
          throw new BuiltinError(name, 'token time constraint: must not be negative');
        c.time = Number(v);
        break;
      default:
        throw new BuiltinError(name, `unknown token validation constraint: ${key}`);
    }
  }
  const keyConstraints = (c.keys !== undefined ? 1 : 0) + (c.secret !== '' ? 1 : 0);
  if (keyConstraints > 1) throw new BuiltinError(name, 'duplicate key constraints');
  if (keyConstraints < 1) throw new BuiltinError(name, 'no key constraint');
  return c;
}

/** The header's alg, or undefined when the header makes the token invalid (RFC 7515 4.1.11). */
function headerAlg(
  name: string,
  header: ObjectValue,
): { alg: string; kid: string; cty: string } | undefined {
  const field = (k: string): string => {
    const v = header.get(k);
    if (v === undefined) return '';
    if (typeof v !== 'string') throw new BuiltinError(name, `${k}: must be a string`);
    return v;
  };
  const alg = field('alg');
  const kid = field('kid');
  const cty = field('cty');
  field('typ');
  const crit = header.get('crit');
  const critical = new Set<string>();
  if (crit !== undefined) {
    if (!isArray(crit)) throw new BuiltinError(name, 'crit: must be a list');
    for (const x of crit) if (typeof x === 'string') critical.add(x);
    if (critical.size === 0) throw new BuiltinError(name, 'crit: must be a nonempty list');
  }
  const known = new Set(['alg', 'kid', 'typ', 'cty', 'crit']);
  for (const k of header.keys())
    if (typeof k === 'string' && !known.has(k) && critical.has(k)) return undefined;
  if (alg === '') return undefined;
  return { alg, kid, cty };
}

function decodeVerify(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = 'io.jwt.decode_verify';
  const unverified: Value = [false, new ObjectValue(), new ObjectValue()];
  const constraints = parseConstraints(name, objectArg(name, args, 2), ctx);
  let current: Value = operand(name, args, 1);
  let header: ObjectValue;
  let payloadText: string;
  for (;;) {
    const token = splitToken(name, current);
    header = jsonObject(name, decodePart(name, token.header, 'header'), 'header');
    const h = headerAlg(name, header);
    if (h === undefined) return unverified;
    if (constraints.alg !== '' && constraints.alg !== h.alg) return unverified;
    const sig = signatureBytes(name, token);
    const data = signingInput(token);
    const ok =
      constraints.keys !== undefined
        ? verifyWithKeys(constraints.keys, h.kid, h.alg, data, sig)
        : verifySignature(
            createSecretKey(Buffer.from(constraints.secret, 'utf8')),
            h.alg,
            data,
            sig,
          );
    if (!ok) return unverified;
    payloadText = decodePart(name, token.payload, 'payload');
    if (h.cty.toUpperCase() !== 'JWT') break;
    current = payloadText; // a nested token
  }
  const payload = jsonObject(name, payloadText, 'payload');
  if (constraints.iss !== '' && payload.get('iss') !== constraints.iss) return unverified;
  const aud = payload.get('aud');
  if (aud !== undefined) {
    const matches =
      typeof aud === 'string'
        ? aud === constraints.aud
        : isArray(aud) && aud.some((a) => a === constraints.aud);
    if (!matches) return unverified;
  } else if (constraints.aud !== '') {
    return unverified;
  }
  const seconds = constraints.time / 1e9;
  const exp = payload.get('exp');
  if (exp !== undefined) {
    if (typeof exp !== 'number' && typeof exp !== 'bigint')
      throw new BuiltinError(name, 'exp value must be a number');
    if (seconds >= Number(exp)) return unverified;
  }
  const nbf = payload.get('nbf');
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' && typeof nbf !== 'bigint')
      throw new BuiltinError(name, 'nbf value must be a number');
    if (seconds < Number(nbf)) return unverified;
  }
  return [true, header, payload];
}

// ---------------------------------------------------------------------------------------------
// io.jwt.encode_sign

function signingKey(name: string, jwkText: string): KeyObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwkText);
  } catch (e) {
    throw new BuiltinError(
      name,
      `failed to parse JWK: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const first: unknown =
    parsed !== null && typeof parsed === 'object' && 'keys' in parsed && Array.isArray(parsed.keys)
      ? parsed.keys[0]
      : parsed;
  if (first === null || typeof first !== 'object')
    throw new BuiltinError(name, 'no keys found in JWK set');
  const jwk = first as JsonWebKey;
  try {
    if (jwk.kty === 'oct') return createSecretKey(Buffer.from(jwk.k ?? '', 'base64url'));
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new BuiltinError(
      name,
      `failed to parse JWK: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

function signToken(name: string, headerText: string, payloadText: string, jwkText: string): string {
  const key = signingKey(name, jwkText);
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch {
    header = undefined;
  }
  const alg =
    header !== null && typeof header === 'object' && 'alg' in header ? header.alg : undefined;
  if (typeof alg !== 'string') throw new BuiltinError(name, "missing or invalid 'alg' header");
  if (!ALGORITHMS.has(alg)) throw new BuiltinError(name, `unknown JWS algorithm: ${alg}`);
  const typ =
    header !== null && typeof header === 'object' && 'typ' in header ? header.typ : undefined;
  if (typ === undefined || typ === 'JWT') {
    try {
      JSON.parse(payloadText);
    } catch {
      throw new BuiltinError(name, 'type is JWT but payload is not JSON');
    }
  }
  const input = `${b64urlEncode(headerText)}.${b64urlEncode(payloadText)}`;
  const data = Buffer.from(input, 'utf8');
  let signature: Buffer;
  try {
    if (alg.startsWith('HS')) {
      if (key.type !== 'secret') throw new Error(`${alg} needs a symmetric (oct) key`);
      signature = createHmac(hashOf(alg), key).update(data).digest();
    } else if (alg === 'EdDSA') {
      signature = cryptoSign(null, data, key);
    } else if (alg.startsWith('ES')) {
      signature = cryptoSign(hashOf(alg), data, { key, dsaEncoding: 'ieee-p1363' });
    } else {
      const padding = alg.startsWith('PS')
        ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : { padding: constants.RSA_PKCS1_PADDING };
      signature = cryptoSign(hashOf(alg), data, { key, ...padding });
    }
  } catch (e) {
    throw new BuiltinError(name, `failed to sign: ${e instanceof Error ? e.message : String(e)}`);
  }
  return `${input}.${b64urlEncode(signature)}`;
}

const encodeSign = builtin(
  'io.jwt.encode_sign',
  [T.object(T.string, T.any), T.object(T.string, T.any), T.object(T.string, T.any)],
  T.string,
  (args) => {
    const name = 'io.jwt.encode_sign';
    const [h, p, k] = [1, 2, 3].map((pos) => marshalJSON(objectArg(name, args, pos)));
    return signToken(name, h ?? '', p ?? '', k ?? '');
  },
  { nondeterministic: true },
);

const encodeSignRaw = builtin(
  'io.jwt.encode_sign_raw',
  [T.string, T.string, T.string],
  T.string,
  (args) => {
    const name = 'io.jwt.encode_sign_raw';
    return signToken(
      name,
      stringArg(name, args, 1),
      stringArg(name, args, 2),
      stringArg(name, args, 3),
    );
  },
  { nondeterministic: true },
);

const ANY_OBJECT = T.object();

export const JWT_BUILTINS: readonly BuiltinDef[] = [
  builtin('io.jwt.decode', [T.string], T.tuple(ANY_OBJECT, ANY_OBJECT, T.string), (args) =>
    decode('io.jwt.decode', operand('io.jwt.decode', args, 1)),
  ),
  builtin(
    'io.jwt.decode_verify',
    [T.string, T.object(T.string, T.any)],
    T.tuple(T.boolean, ANY_OBJECT, ANY_OBJECT),
    decodeVerify,
    { nondeterministic: true },
  ),
  ...['HS', 'RS', 'PS', 'ES'].flatMap((family) =>
    ['256', '384', '512'].map((bits) =>
      verifyBuiltin(`io.jwt.verify_${family.toLowerCase()}${bits}`, family + bits),
    ),
  ),
  verifyBuiltin('io.jwt.verify_eddsa', 'EdDSA'),
  encodeSign,
  encodeSignRaw,
];
