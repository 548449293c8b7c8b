/**
 * Rego abstract syntax tree. Every node carries the position where it starts.
 *
 * The shape follows the language as written (so the formatter can print it back), with
 * operators kept as calls to their builtin names (OPA's convention): `a + b` is
 * `call(plus, [a, b])` with `infix: '+'`, `x = y` is `call(eq, ...)`, `x := y` is
 * `call(assign, ...)`, `x in xs` is `call(internal.member_2, ...)`.
 */
import type { Position } from '../diagnostic';

interface NodeBase {
  readonly loc: Position;
  /** Position just past the node's last character (set by the parser; used by the formatter). */
  readonly end?: Position;
}

// ---------------------------------------------------------------------------------------------
// Terms

/** `null`. */
export interface NullTerm extends NodeBase {
  readonly type: 'null';
}

/** `true` or `false`. */
export interface BooleanTerm extends NodeBase {
  readonly type: 'boolean';
  readonly value: boolean;
}

/** Numbers keep their source text so that big and precise values are not rounded by parsing. */
export interface NumberTerm extends NodeBase {
  readonly type: 'number';
  readonly raw: string;
}

/** A string literal, quoted or raw. */
export interface StringTerm extends NodeBase {
  readonly type: 'string';
  /** The decoded value (escapes resolved). */
  readonly value: string;
  /** True when written as a raw `backtick` string; used by the formatter only. */
  readonly rawString?: boolean;
}

/** A variable. `_` is the wildcard; the parser renames each `_` to a unique `$_N` name. */
export interface VarTerm extends NodeBase {
  readonly type: 'var';
  readonly name: string;
}

/**
 * A reference: `head` followed by path parts. `data.a[x].b` is head `var data` with path
 * `[string "a", var x, string "b"]`. The head may be a var, a call or a composite
 * (e.g. `[1, 2][i]`, `f(x).y`).
 */
export interface RefTerm extends NodeBase {
  readonly type: 'ref';
  readonly head: Term;
  readonly path: readonly Term[];
}

/** `[a, b]`. */
export interface ArrayTerm extends NodeBase {
  readonly type: 'array';
  readonly items: readonly Term[];
}

/** `{a, b}`; `set()` is the empty set. */
export interface SetTerm extends NodeBase {
  readonly type: 'set';
  readonly items: readonly Term[];
}

/** `{k: v}`; keys may be any term. */
export interface ObjectTerm extends NodeBase {
  readonly type: 'object';
  readonly entries: readonly (readonly [Term, Term])[];
}

/** `[head | body]`. */
export interface ArrayComprehension extends NodeBase {
  readonly type: 'arraycomp';
  readonly head: Term;
  readonly body: Body;
}

/** `{head | body}`. */
export interface SetComprehension extends NodeBase {
  readonly type: 'setcomp';
  readonly head: Term;
  readonly body: Body;
}

/** `{key: value | body}`. */
export interface ObjectComprehension extends NodeBase {
  readonly type: 'objectcomp';
  readonly key: Term;
  readonly value: Term;
  readonly body: Body;
}

/** The operators Rego writes infix; each stands for a call to a builtin. */
export type InfixOperator =
  | '='
  | ':='
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '&'
  | '|'
  | 'in';

/**
 * A call. `operator` is the function's name as a ref (`count`, `data.lib.f`, `io.jwt.decode`).
 * `infix` records the written operator when the call came from one; `unary: true` marks `-x`
 * (a call to `minus(0, x)`); `in` with two args on the left (`k, v in xs`) is `internal.member_3`.
 */
export interface CallTerm extends NodeBase {
  readonly type: 'call';
  readonly operator: RefTerm;
  readonly args: readonly Term[];
  readonly infix?: InfixOperator;
  readonly unary?: boolean;
}

/** A scalar literal: null, boolean, number or string. */
export type ScalarTerm = NullTerm | BooleanTerm | NumberTerm | StringTerm;
/** Any term: a scalar, variable, ref, composite, comprehension or call. */
export type Term =
  | ScalarTerm
  | VarTerm
  | RefTerm
  | ArrayTerm
  | SetTerm
  | ObjectTerm
  | ArrayComprehension
  | SetComprehension
  | ObjectComprehension
  | CallTerm;

// ---------------------------------------------------------------------------------------------
// Bodies and literals

/** `some x, y` */
export interface SomeDecl extends NodeBase {
  readonly type: 'some';
  readonly vars: readonly VarTerm[];
}

/** `some v in xs` / `some k, v in xs` */
export interface SomeIn extends NodeBase {
  readonly type: 'somein';
  readonly key?: Term;
  readonly value: Term;
  readonly collection: Term;
}

/** `every v in xs { ... }` / `every k, v in xs { ... }` */
export interface Every extends NodeBase {
  readonly type: 'every';
  readonly key?: Term;
  readonly value: Term;
  readonly domain: Term;
  readonly body: Body;
}

/** A term used as an expression: a call (`x > 1`, `count(xs, n)`), or any term tested for truth. */
export interface TermExpr extends NodeBase {
  readonly type: 'term';
  readonly term: Term;
}

/** `with input.user as {...}` */
export interface WithModifier extends NodeBase {
  readonly target: RefTerm;
  readonly value: Term;
}

/**
 * `not { a; b }`: succeeds when the body has no solution. Only with `import future.keywords.not`
 * or `import rego.v2`, under which `not x` is also a body (`explicit: false`): nested calls and
 * undefined operands stay inside the negation instead of being hoisted out of it.
 */
export interface NotBody extends NodeBase {
  readonly type: 'notbody';
  readonly body: Body;
  /** Written with braces. */
  readonly explicit: boolean;
}

/** One expression of a body, possibly negated with `not` and modified by `with`. */
export interface Literal extends NodeBase {
  readonly negated: boolean;
  readonly expr: TermExpr | SomeDecl | SomeIn | Every | NotBody;
  readonly with: readonly WithModifier[];
}

/** A rule or query body: its literals in source order, all of which must hold. */
export type Body = readonly Literal[];

// ---------------------------------------------------------------------------------------------
// Rules and modules

/** The part of a rule before its body: name (or ref), arguments, key and value. */
export interface RuleHead extends NodeBase {
  /**
   * The rule's reference, starting with its name: `p` → `[var p]`, `a.b[x]` →
   * `[var a, string b, var x]`. For ref heads, parts after the first are strings or terms.
   */
  readonly ref: readonly Term[];
  /** Present for functions: `f(x, y)`. */
  readonly args?: readonly Term[];
  /** Present for multi-value rules: `p contains x`. */
  readonly key?: Term;
  /** The value after `:=` or `=`; absent means `true` (or nothing for `contains`). */
  readonly value?: Term;
  /** `:=` rather than `=`. */
  readonly assign: boolean;
}

/** `else [= value] [if] { body }` */
export interface ElseClause extends NodeBase {
  readonly value?: Term;
  readonly assign: boolean;
  readonly body: Body;
}

/** A `# METADATA` comment block, attached to the rule or package below it. */
export interface Annotation extends NodeBase {
  /** `rule`, `document`, `package`, `subpackages` (defaults as OPA's: rule / package). */
  readonly scope: string;
  /** The METADATA YAML as parsed (title, description, authors, custom, ...). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** One rule, function or default, with its `else` chain and annotations. */
export interface Rule extends NodeBase {
  readonly default: boolean;
  readonly head: RuleHead;
  /** Empty body: the rule always applies (`p := 1`). */
  readonly body: Body;
  /** True when the body was written with `if` (formatter only). */
  readonly ifKeyword: boolean;
  readonly else: readonly ElseClause[];
  readonly annotations: readonly Annotation[];
}

/** `import path [as alias]`. */
export interface Import extends NodeBase {
  /** `input.x`, `data.foo.bar`, `future.keywords.in`, `rego.v1` */
  readonly path: RefTerm;
  readonly alias?: string;
}

/** The `package` line of a module. */
export interface Package extends NodeBase {
  /** Path below `data`: `package a.b` → `["a", "b"]`. */
  readonly path: readonly string[];
  readonly annotations: readonly Annotation[];
}

/** A `#` comment, kept so the formatter can put it back. */
export interface Comment extends NodeBase {
  /** Text after `#`, without the newline. */
  readonly text: string;
}

/** One parsed Rego file. */
export interface Module extends NodeBase {
  readonly file: string;
  readonly package: Package;
  readonly imports: readonly Import[];
  readonly rules: readonly Rule[];
  readonly comments: readonly Comment[];
}

/** A query, as given to `verdict eval` or a conformance case: a body. */
export interface Query extends NodeBase {
  readonly body: Body;
}
