/**
 * Verdict's intermediate representation: a small imperative language of blocks.
 *
 * A block runs its statements in order; a statement that is *undefined* (a failed equality, a
 * missing key, an undefined call) ends the block — the rest of it does not run and control
 * continues after the block. Iteration is explicit (`scan` runs its block once per element),
 * so Rego's search becomes nested blocks. Everything is plain JSON so that a plan can be
 * printed (`verdict build --ir`) and fed to either back end: the reference interpreter or the
 * WASM code generator. See docs/ir.md.
 */

/** Index of a local variable of the enclosing function or plan. */
export type Local = number;

/** A value read by a statement: a local, or a constant from the policy's constant table. */
export type Operand = { readonly local: Local } | { readonly const: number };

/** One IR statement. Statements that can be undefined end their block when they are. */
export type Stmt =
  /** dst := src */
  | { readonly op: 'assign'; readonly src: Operand; readonly dst: Local }
  /** dst := src when dst is undefined; an error if dst holds a different value. */
  | {
      readonly op: 'assignOnce';
      readonly src: Operand;
      readonly dst: Local;
      readonly conflict: ConflictInfo;
    }
  /** Makes dst undefined. */
  | { readonly op: 'reset'; readonly dst: Local }
  /**
   * dst := src[key]; undefined when src has no such key. With `altKey`, an object without
   * `key` is tried with `altKey` (numbers in base-document paths).
   */
  | {
      readonly op: 'dot';
      readonly src: Operand;
      readonly key: Operand;
      readonly dst: Local;
      readonly altKey?: Operand;
    }
  /** Runs `block` for each element of src (arrays: index/value, objects: key/value, sets: member/member). */
  | {
      readonly op: 'scan';
      readonly src: Operand;
      readonly key: Local;
      readonly value: Local;
      readonly block: Block;
    }
  | { readonly op: 'equal'; readonly a: Operand; readonly b: Operand }
  /** Undefined unless src is truthy (anything but `false`). */
  | { readonly op: 'truthy'; readonly src: Operand }
  | { readonly op: 'isDefined'; readonly src: Local }
  | { readonly op: 'isUndefined'; readonly src: Local }
  | { readonly op: 'isType'; readonly src: Operand; readonly type: 'array' | 'object' | 'set' }
  /** dst := number of elements of src (arrays, objects, sets). */
  | { readonly op: 'len'; readonly src: Operand; readonly dst: Local }
  /** dst := func(args...). `func` names a builtin or a function of the policy. */
  | {
      readonly op: 'call';
      readonly func: string;
      readonly args: readonly Operand[];
      readonly dst: Local;
      /** Where a builtin call was written (errors in strict mode report it). */
      readonly loc?: SourceLoc;
    }
  /** Runs block for each output of a relation builtin (`walk`): dst is bound to each. */
  | {
      readonly op: 'callRelation';
      readonly func: string;
      readonly args: readonly Operand[];
      readonly dst: Local;
      readonly block: Block;
    }
  /** Defined when block is undefined (negation). */
  | { readonly op: 'not'; readonly block: Block }
  /** Runs each block in turn (each may end early without ending the others); always holds. */
  | { readonly op: 'blocks'; readonly blocks: readonly Block[] }
  /** Runs each block in turn; holds when at least one of them held (disjunction). */
  | { readonly op: 'or'; readonly blocks: readonly Block[] }
  | { readonly op: 'makeArray'; readonly dst: Local }
  | { readonly op: 'makeObject'; readonly dst: Local }
  | { readonly op: 'makeSet'; readonly dst: Local }
  | { readonly op: 'arrayAppend'; readonly array: Local; readonly value: Operand }
  | { readonly op: 'setAdd'; readonly set: Local; readonly value: Operand }
  /** obj[key] := value; an error if key is present with a different value and conflict is given. */
  | {
      readonly op: 'objectInsert';
      readonly obj: Local;
      readonly key: Operand;
      readonly value: Operand;
      readonly conflict?: ConflictInfo;
    }
  /**
   * Sets a value at a nested path of objects (ref-head rules), creating objects on the way;
   * with `leafSet`, adds the value to a set at the path instead (`a[x] contains y`).
   */
  | {
      readonly op: 'objectInsertPath';
      readonly obj: Local;
      readonly path: readonly Operand[];
      readonly value: Operand;
      readonly conflict: ConflictInfo;
      readonly leafSet?: boolean;
    }
  /** Deep-merges object src into object dst (virtual documents over base documents). */
  | { readonly op: 'objectMerge'; readonly dst: Local; readonly src: Operand }
  /**
   * Runs block with a document replaced: `input` or `data` (base documents) upserted at path, and
   * every rule or function whose path starts with the data path overridden.
   */
  | {
      readonly op: 'with';
      readonly target: 'input' | 'data';
      readonly path: readonly Operand[];
      readonly value: Operand;
      readonly block: Block;
    }
  /** Runs block with calls to func (a builtin or a policy function) answered by `replacement`. */
  | {
      readonly op: 'withFunction';
      readonly func: string;
      readonly replacement: { readonly func: string } | { readonly value: Operand };
      readonly block: Block;
    }
  /** Adds a result (an object of the query's bindings) to the result set. */
  | { readonly op: 'resultAdd'; readonly value: Local }
  /** Records that execution reached this point (test coverage); never undefined. */
  | { readonly op: 'mark'; readonly id: number }
  /** Prints its operands (Rego `print`), never undefined. */
  | { readonly op: 'print'; readonly args: readonly Operand[] };

/** Where in the Rego source a statement came from, for error messages. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** The error to raise when a complete rule or function yields two different values. */
export interface ConflictInfo {
  readonly code: 'eval_conflict_error';
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

/** Statements run in order until one is undefined. */
export interface Block {
  readonly stmts: readonly Stmt[];
}

/**
 * A function: a rule (params input, data) or a user function (input, data, args...).
 * Its value is `result` after its blocks ran (undefined if never assigned).
 */
export interface Func {
  readonly name: string;
  /** Rule path below data (for `with` overrides and error messages). */
  readonly path: readonly string[];
  /** Number of Rego arguments (0 for rules). Locals 0 and 1 are input and data. */
  readonly arity: number;
  readonly locals: number;
  readonly result: Local;
  readonly block: Block;
  /** Rules (arity 0) are memoized per query, keyed by the current `with` frame. */
  readonly memo: boolean;
}

/** An entry point: a query or a rule path. Locals 0 and 1 are input and data. */
export interface Plan {
  readonly name: string;
  readonly locals: number;
  readonly block: Block;
  /** Names of the binding keys a result has, in order (for printing). */
  readonly vars: readonly string[];
}

/**
 * Constants are JSON with a tag for what JSON lacks: `{"$set": [...]}` is a set,
 * `{"$obj": [[k, v], ...]}` an object with non-string keys, `{"$num": "123..."}` a number kept
 * as text (big integers).
 */
export type ConstJSON =
  null | boolean | number | string | readonly ConstJSON[] | { readonly [k: string]: ConstJSON };

/** A rule definition (or `else` clause, or default) a `mark` statement stands for. */
export interface CoverageMark {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly endLine: number;
}

/** A planned policy: the constant table, the functions and the entry points; plain JSON. */
export interface Policy {
  readonly consts: readonly ConstJSON[];
  readonly funcs: readonly Func[];
  readonly plans: readonly Plan[];
  /** With coverage planned: what each `mark` id stands for. */
  readonly marks?: readonly CoverageMark[];
}
