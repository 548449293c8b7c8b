/**
 * The password policy: 12 to 1024 characters, and not guessable from a short list of what
 * attackers try first. There is no network look-up: the checks are local and explainable.
 *
 * A password is refused when, once the guessable parts are taken out of it, fewer than
 * eight characters remain. Guessable parts are the most common passwords and words
 * (`password`, `welcome`, ...), keyboard walks (`qwerty`, `asdf`, `1qaz`), runs of the
 * alphabet or digits (`abcd`, `1234`, `9876`), one character repeated, and the user's own
 * e-mail address (local part and domain labels) or name. Letters written as look-alike digits
 * or symbols (`p@ssw0rd`) count as the letters. A password that is one short piece
 * repeated (`abcabcabcabc`) or uses fewer than five distinct characters is refused too.
 */

export const minPasswordLength = 12;
export const maxPasswordLength = 1024;
/** Characters that must be left once the guessable parts are removed. */
const minUnguessableLength = 8;

/** Most common passwords and the words they are built on, lower-case. */
const commonWords: readonly string[] = [
  'password passwort passw0rd pass secret letmein welcome admin administrator root login',
  'master monkey dragon football baseball soccer hockey basketball iloveyou love princess',
  'sunshine shadow superman batman trustno1 starwars whatever freedom hello charlie michael',
  'jordan jennifer thomas hunter ranger buster tigger summer winter spring autumn flower',
  'cookie cheese pepper ginger computer internet access changeme default guest test testing',
  'user verdict company qazwsx zaq1 mustang killer pokemon matrix liverpool chelsea arsenal',
  'orange banana apple purple silver golden angel lovely family friends money secure',
  'security abc asdf qwerty azerty qwertz january february march april june july august',
  'september october november december monday friday sunday blink182 ninja mynoob solo',
  'donald maggie daniel andrew',
]
  .join(' ')
  .split(' ');

/** Keyboard rows and columns (several layouts), read in both directions. */
const keyboardLines: readonly string[] = [
  '`1234567890-=',
  'qwertyuiop[]',
  "asdfghjkl;'",
  'zxcvbnm,./',
  'qwertzuiopü',
  'yxcvbnm',
  'azertyuiop',
  'qsdfghjklm',
  'wxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'zaq1xsw2cde3vfr4bgt5nhy6mju7',
];

/** Look-alike substitutions, applied before matching. */
const lookAlikes: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
  '+': 't',
};

export interface PasswordContext {
  /** The account's e-mail address; its parts are guessable. */
  readonly email?: string;
  readonly displayName?: string;
}

/** The characters of `text` as code points (passwords are compared character by character). */
function codePoints(text: string): string[] {
  return Array.from(text);
}

/** Every substring of `line` (and of its reverse) of at least `min` characters. */
function fragmentsOf(line: string, min: number): string[] {
  const fragments: string[] = [];
  for (const text of [line, codePoints(line).reverse().join('')]) {
    for (let length = text.length; length >= min; length -= 1) {
      for (let start = 0; start + length <= text.length; start += 1) {
        fragments.push(text.slice(start, start + length));
      }
    }
  }
  return fragments;
}

/** Guessable fragments that hold for every user, longest first. */
const fixedFragments: readonly string[] = [
  ...new Set([...commonWords, ...keyboardLines.flatMap((line) => fragmentsOf(line, 4))]),
].sort((a, b) => b.length - a.length);

function deLeet(text: string): string {
  return codePoints(text)
    .map((char) => lookAlikes[char] ?? char)
    .join('');
}

/** Parts of the e-mail address and name of at least three characters, lower-case. */
function personalFragments(context: PasswordContext): string[] {
  const parts: string[] = [];
  if (context.email !== undefined) {
    const [local = '', domain = ''] = context.email.trim().toLowerCase().split('@');
    parts.push(local, ...local.split(/[._+-]/), ...domain.split(/[._+-]/));
  }
  if (context.displayName !== undefined) {
    parts.push(...context.displayName.toLowerCase().split(/\s+/));
  }
  return [...new Set(parts.filter((part) => part.length >= 3))].sort((a, b) => b.length - a.length);
}

/** Removes every occurrence of each fragment; the names of those found are collected. */
function removeFragments(
  text: string,
  fragments: readonly string[],
  found: Set<string>,
  label: (fragment: string) => string,
): string {
  let rest = text;
  for (const fragment of fragments) {
    if (rest.includes(fragment)) {
      found.add(label(fragment));
      rest = rest.split(fragment).join(' ');
    }
  }
  return rest;
}

/** Replaces runs of 3+ characters whose code points step by -1, 0 or +1 (`abc`, `111`, `987`). */
function removeRuns(text: string, found: Set<string>): string {
  const chars = codePoints(text);
  const keep = chars.map(() => true);
  let start = 0;
  while (start < chars.length) {
    let end = start + 1;
    const step = (chars[end]?.codePointAt(0) ?? NaN) - (chars[start]?.codePointAt(0) ?? NaN);
    if (Math.abs(step) <= 1) {
      while (
        end + 1 < chars.length &&
        (chars[end + 1]?.codePointAt(0) ?? NaN) - (chars[end]?.codePointAt(0) ?? NaN) === step
      ) {
        end += 1;
      }
    }
    if (end - start + 1 >= 3 && Math.abs(step) <= 1) {
      found.add(step === 0 ? 'a repeated character' : 'a run like abc or 123');
      for (let i = start; i <= end; i += 1) keep[i] = false;
      start = end + 1;
    } else {
      start += 1;
    }
  }
  return chars.filter((_, i) => keep[i] === true).join('');
}

function repeatedUnit(password: string): string | undefined {
  const match = /^(.{1,7}?)\1+$/su.exec(password);
  return match?.[1];
}

/**
 * What is wrong with `password` under the policy, one sentence each; empty when it passes.
 */
export function passwordProblems(password: string, context: PasswordContext = {}): string[] {
  const length = codePoints(password).length;
  if (length < minPasswordLength) {
    return [
      `must be at least ${minPasswordLength} characters long (a passphrase of several words works well)`,
    ];
  }
  if (length > maxPasswordLength) return [`must be at most ${maxPasswordLength} characters long`];
  const problems: string[] = [];
  const unit = repeatedUnit(password);
  if (unit !== undefined) problems.push(`must not be one short piece repeated ("${unit}")`);
  if (new Set(codePoints(password)).size < 5)
    problems.push('must use at least 5 different characters');
  const found = new Set<string>();
  const lower = password.toLowerCase();
  // Checked both as typed and with look-alikes read as letters; the weaker reading counts.
  const leftovers = [lower, deLeet(lower)].map((text) => {
    let rest = removeFragments(
      text,
      personalFragments(context),
      found,
      () => 'your e-mail address or name',
    );
    rest = removeFragments(rest, fixedFragments, found, (f) => `"${f}"`);
    return removeRuns(rest.replace(/\s+/g, ' '), found).replace(/ /g, '');
  });
  const shortest = Math.min(...leftovers.map((rest) => codePoints(rest).length));
  if (shortest < minUnguessableLength && found.size > 0) {
    problems.push(
      `is too easy to guess: it is mostly made of ${[...found].slice(0, 3).join(', ')}; add words of your own`,
    );
  }
  return problems;
}
