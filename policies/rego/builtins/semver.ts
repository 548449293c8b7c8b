/**
 * semver.is_valid and semver.compare, by the Semantic Versioning 2.0.0 rules: no leading zeros
 * in numeric parts, build metadata ignored for precedence.
 */
import { goQuote } from '../../ir/value-text';
import { stringArg } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

const NUMERIC = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUMERIC}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const SEMVER = new RegExp(
  `^(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?` +
    `(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?$`,
);

/**
 * A parsed version: major, minor and patch, and the pre-release identifiers (build metadata is
 * dropped, since it never affects precedence).
 */
export interface SemVer {
  readonly core: readonly [bigint, bigint, bigint];
  readonly pre: readonly string[];
}

/** The version `s` spells; undefined when it is not valid Semantic Versioning 2.0.0. */
export function parseSemVer(s: string): SemVer | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  const [, major = '0', minor = '0', patch = '0', pre] = m;
  return {
    core: [BigInt(major), BigInt(minor), BigInt(patch)],
    pre: pre === undefined ? [] : pre.split('.'),
  };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an !== bn) return an ? -1 : 1; // numeric identifiers sort first
  return a < b ? -1 : a > b ? 1 : 0;
}

/** -1, 0 or 1 by SemVer precedence. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const x = a.core[i] ?? 0n;
    const y = b.core[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  if (a.pre.length === 0 || b.pre.length === 0) {
    return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = compareIdentifiers(a.pre[i] ?? '', b.pre[i] ?? '');
    if (c !== 0) return c;
  }
  return Math.sign(a.pre.length - b.pre.length);
}

const compare = builtin('semver.compare', [T.string, T.string], T.number, (args) => {
  const versions = [1, 2].map((pos) => {
    const s = stringArg('semver.compare', args, pos);
    const v = parseSemVer(s);
    if (v === undefined) {
      throw new BuiltinError(
        'semver.compare',
        `operand ${pos}: string ${goQuote(s)} is not a valid SemVer`,
      );
    }
    return v;
  });
  return compareSemVer(versions[0] as SemVer, versions[1] as SemVer);
});

export const SEMVER_BUILTINS: readonly BuiltinDef[] = [
  compare,
  builtin(
    'semver.is_valid',
    [T.any],
    T.boolean,
    ([s]) => typeof s === 'string' && parseSemVer(s) !== undefined,
  ),
];
