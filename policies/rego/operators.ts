/**
 * Rego's infix operators: the builtin each one calls and how tightly it binds. Shared by the
 * parser (which builds calls) and the formatter (which decides where parentheses are needed).
 */
import type { InfixOperator } from './ast';

/** The builtin an infix operator calls (OPA's names). `in` with a key is `internal.member_3`. */
export const INFIX_BUILTINS: Readonly<Record<InfixOperator, string>> = {
  '=': 'eq',
  ':=': 'assign',
  '==': 'equal',
  '!=': 'neq',
  '<': 'lt',
  '<=': 'lte',
  '>': 'gt',
  '>=': 'gte',
  '+': 'plus',
  '-': 'minus',
  '*': 'mul',
  '/': 'div',
  '%': 'rem',
  '&': 'and',
  '|': 'or',
  in: 'internal.member_2',
};

export const MEMBER_3 = 'internal.member_3';

/**
 * Binding strength, loosest first, as in OPA's parser: `:=`/`=` (only at the top of a
 * literal) < `in` < comparisons < `|` < `&` < `+ -` < `* / %`. All levels are left-associative.
 */
export const PRECEDENCE: Readonly<Record<InfixOperator, number>> = {
  '=': 0,
  ':=': 0,
  in: 1,
  '==': 2,
  '!=': 2,
  '<': 2,
  '<=': 2,
  '>': 2,
  '>=': 2,
  '|': 3,
  '&': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

/** Tighter than any infix operator: terms, refs, calls written `f(x)` and unary minus. */
export const PRIMARY_PRECEDENCE = 7;

export const COMPARISON_OPERATORS: readonly InfixOperator[] = ['==', '!=', '<', '<=', '>', '>='];
