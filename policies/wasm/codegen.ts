/**
 * Code generation: an IR policy (docs/ir.md) plus the runtime module (docs/wasm.md) → a
 * policy.wasm speaking the OPA WASM ABI. A pure function from IR to bytes.
 *
 * Every IR block becomes a labelled WASM block; a statement that is undefined branches out of
 * the innermost one. Constructs that need to know whether a block held (`not`, `scan`, `or`,
 * `with`) give it a flag local that its last instruction sets.
 */
import type binaryenTypes from 'binaryen' with { 'resolution-mode': 'import' };
import type {
  Block,
  ConflictInfo,
  Func,
  Local,
  Operand,
  Plan,
  Policy,
  SourceLoc,
  Stmt,
} from '../ir/types';
import { decodeConst } from '../ir/consts';
import { ObjectValue, SetValue, type Value } from '../ir/value';

type Binaryen = typeof binaryenTypes;
type Module = InstanceType<Binaryen['Module']>;
type Expr = number;

let binaryenModule: Promise<Binaryen> | undefined;

/** binaryen is an ES module with top-level await: load it once, lazily. */
export function loadBinaryen(): Promise<Binaryen> {
  binaryenModule ??= import('binaryen').then((m) => m.default);
  return binaryenModule;
}

/** What to generate: the runtime to build on and the plans to export as entrypoints. */
export interface CodegenOptions {
  /** The runtime module's bytes (dist/wasm/runtime.wasm). */
  readonly runtime: Uint8Array;
  /** Entrypoint names in id order, each naming one of the policy's plans. */
  readonly entrypoints: readonly string[];
  /** Run binaryen's optimizer over the policy's own functions (default true). */
  readonly optimize?: boolean;
}

/**
 * A policy the generator cannot turn into a valid module; `buildWasm` reports it as a
 * `rego_compile_error`.
 */
export class CodegenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodegenError';
  }
}

/** The runtime functions the generated code calls, by export name. */
const RUNTIME_EXPORTS = [
  'opa_malloc',
  'opa_heap_ptr_set',
  'opa_json_parse',
  'opa_json_dump',
  'vd_null',
  'vd_boolean',
  'vd_int',
  'vd_float',
  'vd_number_text',
  'vd_string',
  'vd_array',
  'vd_object',
  'vd_set',
  'vd_array_append',
  'vd_set_add',
  'vd_object_insert',
  'vd_object_insert_once',
  'vd_object_insert_path',
  'vd_object_merge',
  'vd_upsert',
  'vd_get',
  'vd_type',
  'vd_length',
  'vd_iter_key',
  'vd_iter_value',
  'vd_equal',
  'vd_truthy',
  'vd_error_code',
  'vd_error_message',
  'vd_error_clear',
  'vd_error_prefix',
] as const;

const TYPE_CODE = { array: 4, object: 5, set: 6 } as const;
/** Host builtins are named `verdict.<builtin>` in `builtins()` (see the engine). */
export const HOST_PREFIX = 'verdict.';

/** vd_error_code() of a type error (others are builtin errors). */
const ERROR_TYPE = 1;

/** Generates the policy.wasm for `policy`; throws CodegenError when it cannot. */
export async function generateWasm(policy: Policy, options: CodegenOptions): Promise<Uint8Array> {
  const binaryen = await loadBinaryen();
  const gen = new Generator(binaryen, policy, options);
  return gen.run();
}

class Generator {
  private readonly mod: Module;
  private readonly names = new Map<string, string>();
  private readonly i32: number;
  private readonly i64: number;
  private readonly f64: number;
  private readonly none: number;
  /** Host builtins: name → id (the `builtins()` object). */
  private readonly hostBuiltins = new Map<string, number>();
  private readonly funcByName = new Map<string, Func>();
  private labelCounter = 0;
  /** Messages for opa_abort, built at start-up like constants. */
  private readonly messages = new Map<string, number>();
  private readonly constValues: Value[];
  private nativeBuiltins = new Set<string>();

  /** Where host builtin calls were written: `file:line:col` → site id (verdict_sites()). */
  private readonly sites = new Map<string, number>();

  /** Does the policy replace any data document with `with` (then rules check for overrides)? */
  private hasDataWith = false;
  /** Rule paths as values, built at start-up: path key → global name. */
  private readonly pathGlobals = new Map<string, { name: string; path: readonly string[] }>();

  /** `with f as g` statements: each gets an id and globals for its activation. */
  private readonly mocks: MockInfo[] = [];
  private readonly mockByStmt = new Map<Stmt, MockInfo>();

  // Per-function state.
  private maybeUndefined = new Set<number>([0, 1]);
  private vars: number[] = [];
  private nparams = 0;
  private resultSetLocal = -1;

  constructor(
    private readonly binaryen: Binaryen,
    private readonly policy: Policy,
    private readonly options: CodegenOptions,
  ) {
    // What asc emits for the runtime and what Node's WebAssembly runs.
    const F = binaryen.Features;
    this.mod = binaryen.readBinary(options.runtime);
    this.mod.setFeatures(
      F.MutableGlobals | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.SignExt,
    );
    this.i32 = binaryen.i32;
    this.i64 = binaryen.i64;
    this.f64 = binaryen.f64;
    this.none = binaryen.none;
    this.constValues = policy.consts.map(decodeConst);
    for (const f of policy.funcs) this.funcByName.set(f.name, f);
  }

  run(): Uint8Array {
    for (const [name, init] of [
      ['verdict:steps', 0],
      ['verdict:budget', 50_000_000],
      ['verdict:strict', 0],
      ['verdict:epoch', 0],
      ['verdict:epochs', 0],
      ['verdict:overrides', 0],
      ['verdict:mockera', 0],
      ['verdict:mockeras', 0],
      ['verdict:mockseq', 0],
      ['verdict:site', -1],
    ] as const) {
      this.mod.addGlobal(name, this.i32, true, this.mod.i32.const(init));
    }
    this.indexRuntime();
    this.collectHostBuiltins();
    this.collectMocks();
    for (const f of this.policy.funcs) this.defineFunc(f);
    this.policy.plans.forEach((p, i) => {
      this.definePlan(p, i);
    });
    this.defineStart();
    this.defineEntrypoints();
    const mod = this.mod;
    if (!mod.validate()) throw new CodegenError('generated module failed validation');
    if (this.options.optimize ?? true) {
      this.binaryen.setOptimizeLevel(2);
      this.binaryen.setShrinkLevel(1);
      // The runtime is optimized once when it is built; only the policy's own functions are
      // optimized here, which keeps a build fast.
      const b = this.binaryen;
      for (let i = 0; i < mod.getNumFunctions(); i++) {
        const info = b.getFunctionInfo(mod.getFunctionByIndex(i));
        if (!info.module && info.name.startsWith('verdict:')) mod.optimizeFunction(info.name);
      }
      mod.runPasses(['remove-unused-module-elements']);
    }
    const bytes = mod.emitBinary();
    mod.dispose();
    return bytes;
  }

  // -------------------------------------------------------------------------------------------
  // Runtime symbols

  private indexRuntime(): void {
    const b = this.binaryen;
    for (let i = 0; i < this.mod.getNumExports(); i++) {
      const info = b.getExportInfo(this.mod.getExportByIndex(i));
      if (info.kind === b.ExternalFunction) this.names.set(info.name, info.value);
      if (info.name.startsWith('vd_builtin_'))
        this.nativeBuiltins.add(info.name.slice('vd_builtin_'.length));
    }
    for (const name of RUNTIME_EXPORTS) {
      if (!this.names.has(name))
        throw new CodegenError(`the WASM runtime lacks ${name}; rebuild it with npm run build`);
    }
  }

  private rt(name: string, args: readonly Expr[], result = this.i32): Expr {
    const internal = this.names.get(name);
    if (!internal) throw new CodegenError(`the WASM runtime lacks ${name}`);
    return this.mod.call(internal, args, result);
  }

  private importName(base: string): string {
    // The runtime declares the imports; find their internal names.
    const b = this.binaryen;
    for (let i = 0; i < this.mod.getNumFunctions(); i++) {
      const info = b.getFunctionInfo(this.mod.getFunctionByIndex(i));
      if (info.module === 'env' && info.base === base) return info.name;
    }
    throw new CodegenError(`the WASM runtime does not import env.${base}`);
  }

  private collectHostBuiltins(): void {
    const visit = (b: Block): void => {
      for (const s of b.stmts) {
        if ((s.op === 'call' || s.op === 'callRelation') && !this.funcByName.has(s.func))
          this.builtinRef(s.func);
        for (const inner of nestedBlocks(s)) visit(inner);
      }
    };
    for (const f of this.policy.funcs) visit(f.block);
    for (const p of this.policy.plans) visit(p.block);
  }

  private collectMocks(): void {
    const visit = (b: Block): void => {
      for (const st of b.stmts) {
        if (st.op === 'with' && st.target === 'data') this.hasDataWith = true;
        if (st.op === 'withFunction') {
          const info: MockInfo = {
            id: this.mocks.length,
            target: st.func,
            replacement: 'func' in st.replacement ? { func: st.replacement.func } : { value: true },
          };
          this.mocks.push(info);
          this.mockByStmt.set(st, info);
          if ('func' in st.replacement && !this.funcByName.has(st.replacement.func)) {
            this.builtinRef(st.replacement.func);
          }
          this.mod.addGlobal(`verdict:mock:${info.id}`, this.i32, true, this.mod.i32.const(0));
          this.mod.addGlobal(`verdict:mockval:${info.id}`, this.i32, true, this.mod.i32.const(0));
          this.mod.addGlobal(`verdict:mockera:${info.id}`, this.i32, true, this.mod.i32.const(0));
        }
        for (const inner of nestedBlocks(st)) visit(inner);
      }
    };
    for (const f of this.policy.funcs) visit(f.block);
    for (const p of this.policy.plans) visit(p.block);
  }

  /** A rule path as an array value (a global built at start-up). */
  private pathValue(path: readonly string[]): Expr {
    const key = JSON.stringify(path);
    let entry = this.pathGlobals.get(key);
    if (!entry) {
      entry = { name: `verdict:path:${this.pathGlobals.size}`, path };
      this.pathGlobals.set(key, entry);
      this.mod.addGlobal(entry.name, this.i32, true, this.mod.i32.const(0));
    }
    return this.mod.global.get(entry.name, this.i32);
  }

  /** Enters a new memo epoch (saving the current one in `saved`). */
  private epochEnter(saved: number): Expr[] {
    const mod = this.mod;
    const i32 = this.i32;
    return [
      mod.local.set(saved, mod.global.get('verdict:epoch', i32)),
      mod.global.set(
        'verdict:epochs',
        mod.i32.add(mod.global.get('verdict:epochs', i32), mod.i32.const(1)),
      ),
      mod.global.set('verdict:epoch', mod.global.get('verdict:epochs', i32)),
    ];
  }

  private nativeName(builtin: string): string {
    return builtin.replace(/\./g, '_');
  }

  private builtinRef(name: string): void {
    if (this.nativeBuiltins.has(this.nativeName(name))) return;
    if (!this.hostBuiltins.has(name)) this.hostBuiltins.set(name, this.hostBuiltins.size);
  }

  // -------------------------------------------------------------------------------------------
  // Functions

  private funcName(name: string): string {
    return `verdict:${name}`;
  }

  private defineFunc(f: Func): void {
    const params = 2 + f.arity;
    this.beginFunction(f.locals, params, f.block);
    const body: Expr[] = [];
    const mod = this.mod;
    // Locals past the parameters start undefined (0), which WASM guarantees.
    body.push(this.tick());
    const memoValue = `verdict:mv:${f.name}`;
    const memoEpoch = `verdict:me:${f.name}`;
    if (f.memo) {
      // A rule's value is computed once per epoch (an evaluation, or the inside of a `with`).
      mod.addGlobal(memoValue, this.i32, true, mod.i32.const(0));
      mod.addGlobal(memoEpoch, this.i32, true, mod.i32.const(0));
      body.push(
        mod.if(
          mod.i32.eq(
            mod.global.get(memoEpoch, this.i32),
            mod.global.get('verdict:epoch', this.i32),
          ),
          mod.return(mod.global.get(memoValue, this.i32)),
        ),
      );
    }
    const overridable = f.arity === 0 && this.hasDataWith;
    if (overridable) {
      // `with data...` over this rule's path: a replacement answers instead of the rule.
      const replaced = this.newVar();
      body.push(
        mod.if(
          mod.global.get('verdict:overrides', this.i32),
          mod.block(
            null,
            [
              mod.local.set(
                replaced,
                this.rt('vd_override_replace', [
                  mod.global.get('verdict:overrides', this.i32),
                  this.pathValue(f.path),
                ]),
              ),
              mod.if(
                mod.i32.ne(mod.local.get(replaced, this.i32), mod.i32.const(-1)),
                mod.return(mod.local.get(replaced, this.i32)),
              ),
            ],
            this.none,
          ),
        ),
      );
    }
    body.push(this.block(f.block));
    if (overridable) {
      body.push(
        mod.if(
          mod.global.get('verdict:overrides', this.i32),
          mod.local.set(
            f.result,
            this.rt('vd_override_below', [
              mod.global.get('verdict:overrides', this.i32),
              this.pathValue(f.path),
              mod.local.get(f.result, this.i32),
            ]),
          ),
        ),
      );
    }
    if (f.memo) {
      body.push(mod.global.set(memoValue, mod.local.get(f.result, this.i32)));
      body.push(mod.global.set(memoEpoch, mod.global.get('verdict:epoch', this.i32)));
    }
    body.push(mod.return(mod.local.get(f.result, this.i32)));
    const paramTypes = this.binaryen.createType(new Array<number>(params).fill(this.i32));
    mod.addFunction(
      this.funcName(f.name),
      paramTypes,
      this.i32,
      this.varTypes(params),
      mod.block(null, body, this.none),
    );
  }

  private definePlan(p: Plan, index: number): void {
    this.beginFunction(p.locals, 2, p.block);
    const mod = this.mod;
    this.resultSetLocal = this.newVar();
    const body = [
      mod.local.set(this.resultSetLocal, this.rt('vd_set', [])),
      this.block(p.block),
      mod.return(mod.local.get(this.resultSetLocal, this.i32)),
    ];
    mod.addFunction(
      `verdict:plan:${index}`,
      this.binaryen.createType([this.i32, this.i32]),
      this.i32,
      this.varTypes(2),
      mod.block(null, body, this.none),
    );
  }

  private beginFunction(locals: number, params: number, body?: Block): void {
    this.maybeUndefined = body ? this.maybeUndefinedIn(body) : new Set([0, 1]);
    this.vars = [];
    this.nparams = params;
    for (let i = params; i < locals; i++) this.vars.push(this.i32);
    this.resultSetLocal = -1;
  }

  private newVar(type = this.i32): number {
    this.vars.push(type);
    return this.nparams + this.vars.length - 1;
  }

  private varTypes(_params: number): number[] {
    return this.vars;
  }

  // -------------------------------------------------------------------------------------------
  // Blocks and statements

  private label(prefix: string): string {
    return `${prefix}${this.labelCounter++}`;
  }

  /** An IR block as a labelled WASM block; `held` (if given) is set to 1 when it completes. */
  private block(b: Block, held?: number): Expr {
    const label = this.label('b');
    const stmts = b.stmts.map((s) => this.stmt(s, label));
    if (held !== undefined) stmts.push(this.mod.local.set(held, this.mod.i32.const(1)));
    return this.mod.block(label, stmts, this.none);
  }

  private fail(label: string, condition: Expr): Expr {
    return this.mod.br(label, condition);
  }

  /** An operand's value; locals that are undefined end the block. */
  private operand(op: Operand, label: string, checks: Expr[]): Expr {
    const mod = this.mod;
    if ('const' in op) return mod.global.get(`verdict:c${op.const}`, this.i32);
    if (this.maybeUndefined.has(op.local)) {
      checks.push(this.fail(label, mod.i32.eqz(mod.local.get(op.local, this.i32))));
    }
    return mod.local.get(op.local, this.i32);
  }

  /**
   * Locals a statement may read while undefined: input and data (locals 0 and 1) and those a
   * `reset` empties. Every other local is read only in code that runs after the statement that
   * set it held (the planner nests the rest of a body inside), so it needs no check.
   */
  private maybeUndefinedIn(block: Block): Set<number> {
    const out = new Set<number>([0, 1]);
    const visit = (b: Block): void => {
      for (const st of b.stmts) {
        if (st.op === 'reset') out.add(st.dst);
        for (const inner of nestedBlocks(st)) visit(inner);
      }
    };
    visit(block);
    return out;
  }

  private withChecks(checks: Expr[], expr: Expr): Expr {
    return checks.length === 0 ? expr : this.mod.block(null, [...checks, expr], this.none);
  }

  private stmt(s: Stmt, label: string): Expr {
    const mod = this.mod;
    const i32 = this.i32;
    const checks: Expr[] = [];
    const op = (o: Operand) => this.operand(o, label, checks);
    const get = (l: Local) => mod.local.get(l, i32);
    switch (s.op) {
      case 'assign':
        return this.withChecks(checks, mod.local.set(s.dst, op(s.src)));
      case 'assignOnce': {
        const v = op(s.src);
        const tmp = this.newVar();
        return this.withChecks(
          checks,
          mod.block(
            null,
            [
              mod.local.set(tmp, v),
              mod.if(
                mod.i32.and(
                  mod.i32.ne(get(s.dst), mod.i32.const(0)),
                  mod.i32.eqz(this.rt('vd_equal', [get(s.dst), get(tmp)])),
                ),
                this.abort(conflictText(s.conflict)),
              ),
              mod.local.set(s.dst, get(tmp)),
            ],
            this.none,
          ),
        );
      }
      case 'reset':
        return mod.local.set(s.dst, mod.i32.const(0));
      case 'dot': {
        const src = op(s.src);
        const key = op(s.key);
        const srcLocal = this.newVar();
        // A base-document path's number also names the key written as its text.
        const alt = s.altKey
          ? [
              mod.if(
                mod.i32.and(
                  mod.i32.eqz(get(s.dst)),
                  mod.i32.eq(this.rt('vd_type', [get(srcLocal)]), mod.i32.const(TYPE_CODE.object)),
                ),
                mod.local.set(s.dst, this.rt('vd_get', [get(srcLocal), op(s.altKey)])),
              ),
            ]
          : [];
        return this.withChecks(
          checks,
          mod.block(
            null,
            [
              mod.local.set(srcLocal, src),
              mod.local.set(s.dst, this.rt('vd_get', [get(srcLocal), key])),
              ...alt,
              this.fail(label, mod.i32.eqz(get(s.dst))),
            ],
            this.none,
          ),
        );
      }
      case 'scan':
        return this.scan(s, label);
      case 'equal': {
        const a = op(s.a);
        const b = op(s.b);
        return this.withChecks(checks, this.fail(label, mod.i32.eqz(this.rt('vd_equal', [a, b]))));
      }
      case 'truthy': {
        const v = op(s.src);
        return this.withChecks(checks, this.fail(label, mod.i32.eqz(this.rt('vd_truthy', [v]))));
      }
      case 'isDefined':
        return this.fail(label, mod.i32.eqz(get(s.src)));
      case 'isUndefined':
        return this.fail(label, mod.i32.ne(get(s.src), mod.i32.const(0)));
      case 'isType': {
        const v = op(s.src);
        return this.withChecks(
          checks,
          this.fail(label, mod.i32.ne(this.rt('vd_type', [v]), mod.i32.const(TYPE_CODE[s.type]))),
        );
      }
      case 'len': {
        const v = op(s.src);
        const n = this.newVar();
        return this.withChecks(
          checks,
          mod.block(
            null,
            [
              mod.local.set(n, this.rt('vd_length', [v])),
              this.fail(label, mod.i32.lt_s(get(n), mod.i32.const(0))),
              mod.local.set(s.dst, this.rt('vd_int', [mod.i64.extend_s(get(n))])),
            ],
            this.none,
          ),
        );
      }
      case 'call':
        return this.call(s, label);
      case 'callRelation':
        return this.relation(s, label);
      case 'not': {
        const held = this.newVar();
        return mod.block(
          null,
          [
            mod.local.set(held, mod.i32.const(0)),
            this.block(s.block, held),
            this.fail(label, get(held)),
          ],
          this.none,
        );
      }
      case 'blocks':
        return mod.block(
          null,
          s.blocks.map((b) => this.block(b)),
          this.none,
        );
      case 'or': {
        const held = this.newVar();
        return mod.block(
          null,
          [
            mod.local.set(held, mod.i32.const(0)),
            ...s.blocks.map((b) => this.block(b, held)),
            this.fail(label, mod.i32.eqz(get(held))),
          ],
          this.none,
        );
      }
      case 'makeArray':
        return mod.local.set(s.dst, this.rt('vd_array', []));
      case 'makeObject':
        return mod.local.set(s.dst, this.rt('vd_object', []));
      case 'makeSet':
        return mod.local.set(s.dst, this.rt('vd_set', []));
      case 'arrayAppend': {
        const v = op(s.value);
        return this.withChecks(checks, this.rt('vd_array_append', [get(s.array), v], this.none));
      }
      case 'setAdd': {
        const v = op(s.value);
        return this.withChecks(checks, this.rt('vd_set_add', [get(s.set), v], this.none));
      }
      case 'objectInsert': {
        const k = op(s.key);
        const v = op(s.value);
        if (!s.conflict)
          return this.withChecks(
            checks,
            this.rt('vd_object_insert', [get(s.obj), k, v], this.none),
          );
        return this.withChecks(
          checks,
          mod.if(
            this.rt('vd_object_insert_once', [get(s.obj), k, v]),
            this.abort(conflictText(s.conflict)),
          ),
        );
      }
      case 'objectInsertPath': {
        const path = this.newVar();
        const parts = s.path.map((p) => this.rt('vd_array_append', [get(path), op(p)], this.none));
        const v = op(s.value);
        return this.withChecks(
          checks,
          mod.block(
            null,
            [
              mod.local.set(path, this.rt('vd_array', [])),
              ...parts,
              mod.if(
                this.rt('vd_object_insert_path', [
                  get(s.obj),
                  get(path),
                  v,
                  mod.i32.const(s.leafSet ? 1 : 0),
                ]),
                this.abort(conflictText(s.conflict)),
              ),
            ],
            this.none,
          ),
        );
      }
      case 'objectMerge': {
        const src = this.newVar();
        return this.withChecks(
          checks,
          mod.block(
            null,
            [
              mod.local.set(src, op(s.src)),
              this.fail(
                label,
                mod.i32.ne(this.rt('vd_type', [get(src)]), mod.i32.const(TYPE_CODE.object)),
              ),
              this.rt('vd_object_merge', [get(s.dst), get(src)], this.none),
            ],
            this.none,
          ),
        );
      }
      case 'with':
        return this.with(s, label);
      case 'withFunction':
        return this.withFunction(s, label);
      case 'resultAdd':
        return mod.block(
          null,
          [
            this.fail(label, mod.i32.eqz(get(s.value))),
            this.rt('vd_set_add', [get(this.resultSetLocal), get(s.value)], this.none),
          ],
          this.none,
        );
      case 'print':
      case 'mark':
        return mod.nop();
    }
  }

  /** A relation builtin (`walk`): the runtime returns every output in an array; run the block per output. */
  private relation(s: Extract<Stmt, { op: 'callRelation' }>, label: string): Expr {
    const mod = this.mod;
    const native = this.nativeName(s.func);
    if (!this.nativeBuiltins.has(native)) {
      throw new CodegenError(`the WASM runtime lacks the relation builtin ${s.func}`);
    }
    const checks: Expr[] = [];
    const args = s.args.map((a) => this.operand(a, label, checks));
    const outputs = this.newVar();
    return this.withChecks(
      checks,
      mod.block(
        null,
        [
          mod.local.set(outputs, this.rt(`vd_builtin_${native}`, args)),
          this.fail(label, mod.i32.eqz(mod.local.get(outputs, this.i32))),
          ...this.loopOver(
            outputs,
            (i) => [
              mod.local.set(
                s.dst,
                this.rt('vd_iter_value', [mod.local.get(outputs, this.i32), i()]),
              ),
            ],
            s.block,
            label,
          ),
        ],
        this.none,
      ),
    );
  }

  private scan(s: Extract<Stmt, { op: 'scan' }>, label: string): Expr {
    const mod = this.mod;
    const checks: Expr[] = [];
    const src = this.operand(s.src, label, checks);
    const coll = this.newVar();
    const get = (): Expr => mod.local.get(coll, this.i32);
    return this.withChecks(
      checks,
      mod.block(
        null,
        [
          mod.local.set(coll, src),
          ...this.loopOver(
            coll,
            (i) => [
              mod.local.set(s.key, this.rt('vd_iter_key', [get(), i()])),
              mod.local.set(s.value, this.rt('vd_iter_value', [get(), i()])),
            ],
            s.block,
            label,
          ),
        ],
        this.none,
      ),
    );
  }

  /**
   * Runs `block` once per element of the collection in local `coll` (`bind` sets the block's
   * locals from the index); the statement is undefined when no run of the block held.
   */
  private loopOver(
    coll: number,
    bind: (i: () => Expr) => Expr[],
    block: Block,
    label: string,
  ): Expr[] {
    const mod = this.mod;
    const i32 = this.i32;
    const n = this.newVar();
    const i = this.newVar();
    const held = this.newVar();
    const loop = this.label('loop');
    const exit = this.label('exit');
    const get = (l: Local): Expr => mod.local.get(l, i32);
    return [
      mod.local.set(n, this.rt('vd_length', [get(coll)])),
      mod.local.set(i, mod.i32.const(0)),
      mod.local.set(held, mod.i32.const(0)),
      mod.block(
        exit,
        [
          mod.loop(
            loop,
            mod.block(
              null,
              [
                mod.br(exit, mod.i32.ge_s(get(i), get(n))),
                this.tick(),
                ...bind(() => get(i)),
                this.block(block, held),
                mod.local.set(i, mod.i32.add(get(i), mod.i32.const(1))),
                mod.br(loop),
              ],
              this.none,
            ),
          ),
        ],
        this.none,
      ),
      this.fail(label, mod.i32.eqz(get(held))),
    ];
  }

  private call(s: Extract<Stmt, { op: 'call' }>, label: string): Expr {
    const mod = this.mod;
    const checks: Expr[] = [];
    const func = this.funcByName.get(s.func);
    // Policy functions take input and data first; both may be undefined.
    const args = s.args.map((a, i) =>
      func && i < 2 && 'local' in a
        ? mod.local.get(a.local, this.i32)
        : this.operand(a, label, checks),
    );
    const argLocals = args.map(() => this.newVar());
    const stores = args.map((a, i) => mod.local.set(argLocals[i] as number, a));
    const argValues = (): Expr[] => argLocals.map((l) => mod.local.get(l, this.i32));
    const direct = func
      ? mod.call(this.funcName(func.name), argValues(), this.i32)
      : this.builtinCall(s.func, argValues(), s.loc);
    const call = mod.block(null, [...stores, this.mocked(s.func, argValues, direct)], this.i32);
    return this.withChecks(
      checks,
      mod.block(
        null,
        [
          mod.local.set(s.dst, call),
          ...(func ? [] : [this.builtinErrorCheck(label, s.loc)]),
          this.fail(label, mod.i32.eqz(mod.local.get(s.dst, this.i32))),
        ],
        this.none,
      ),
    );
  }

  /**
   * A call to `name` honouring `with name as ...` replacements active now: the most recently
   * activated one answers, run with no replacements in force (it sees the originals).
   */
  private mocked(name: string, args: () => Expr[], direct: Expr): Expr {
    const mocks = this.mocks.filter((m) => m.target === name);
    if (mocks.length === 0) return direct;
    const mod = this.mod;
    const i32 = this.i32;
    const best = this.newVar();
    const bestSeq = this.newVar();
    const result = this.newVar();
    const pick = mocks.map((m) =>
      mod.if(
        mod.i32.and(
          mod.i32.eq(
            mod.global.get(`verdict:mockera:${m.id}`, i32),
            mod.global.get('verdict:mockera', i32),
          ),
          mod.i32.gt_u(mod.global.get(`verdict:mock:${m.id}`, i32), mod.local.get(bestSeq, i32)),
        ),
        mod.block(
          null,
          [
            mod.local.set(bestSeq, mod.global.get(`verdict:mock:${m.id}`, i32)),
            mod.local.set(best, mod.i32.const(m.id)),
          ],
          this.none,
        ),
      ),
    );
    const sourceIsPolicy = this.funcByName.has(name);
    const answer = (m: MockInfo): Expr => {
      if ('value' in m.replacement) return mod.global.get(`verdict:mockval:${m.id}`, i32);
      const target = m.replacement.func;
      const targetFunc = this.funcByName.get(target);
      let callArgs = args();
      if (sourceIsPolicy && !targetFunc) callArgs = callArgs.slice(2);
      if (!sourceIsPolicy && targetFunc)
        callArgs = [mod.local.get(0, i32), mod.local.get(1, i32), ...callArgs];
      const call = targetFunc
        ? mod.call(this.funcName(target), callArgs, i32)
        : this.builtinCall(target, callArgs);
      // The replacement runs in a new era: replacements active now do not apply inside it,
      // replacements it makes itself do.
      const savedEra = this.newVar();
      return mod.block(
        null,
        [
          mod.local.set(savedEra, mod.global.get('verdict:mockera', i32)),
          mod.global.set(
            'verdict:mockeras',
            mod.i32.add(mod.global.get('verdict:mockeras', i32), mod.i32.const(1)),
          ),
          mod.global.set('verdict:mockera', mod.global.get('verdict:mockeras', i32)),
          mod.local.set(result, call),
          mod.global.set('verdict:mockera', mod.local.get(savedEra, i32)),
          mod.local.get(result, i32),
        ],
        i32,
      );
    };
    let chosen: Expr = direct;
    for (const m of mocks)
      chosen = mod.if(mod.i32.eq(mod.local.get(best, i32), mod.i32.const(m.id)), answer(m), chosen);
    return mod.block(
      null,
      [
        mod.local.set(best, mod.i32.const(-1)),
        mod.local.set(bestSeq, mod.i32.const(0)),
        ...pick,
        chosen,
      ],
      i32,
    );
  }

  private builtinCall(name: string, args: readonly Expr[], loc?: SourceLoc): Expr {
    const native = this.nativeName(name);
    if (this.nativeBuiltins.has(native)) return this.rt(`vd_builtin_${native}`, args);
    const id = this.hostBuiltins.get(name);
    if (id === undefined) throw new CodegenError(`unknown builtin ${name}`);
    if (args.length > 4) throw new CodegenError(`builtin ${name} takes more than 4 arguments`);
    const mod = this.mod;
    // Arguments are evaluated first, then the call runs with exact number transport on.
    const argLocals = args.map(() => this.newVar());
    const result = this.newVar();
    return mod.block(
      null,
      [
        ...args.map((a, i) => mod.local.set(argLocals[i] as number, a)),
        // Host errors are thrown through the SDK; the engine reads where the call was written.
        ...(loc ? [mod.global.set('verdict:site', mod.i32.const(this.site(loc)))] : []),
        this.rt('vd_host_transport', [mod.i32.const(1)], this.none),
        mod.local.set(
          result,
          mod.call(
            this.importName(`opa_builtin${args.length}`),
            [
              mod.i32.const(id),
              mod.i32.const(0),
              ...argLocals.map((l) => mod.local.get(l, this.i32)),
            ],
            this.i32,
          ),
        ),
        this.rt('vd_host_transport', [mod.i32.const(0)], this.none),
        mod.local.get(result, this.i32),
      ],
      this.i32,
    );
  }

  private site(loc: SourceLoc): number {
    const text = `${loc.file}:${loc.line}:${loc.col}`;
    let id = this.sites.get(text);
    if (id === undefined) {
      id = this.sites.size;
      this.sites.set(text, id);
    }
    return id;
  }

  /**
   * After a native builtin: an error makes the call undefined, or, in strict mode, ends the
   * evaluation with the error (prefixed by where the call was written and the error's code).
   */
  private builtinErrorCheck(label: string, loc: SourceLoc | undefined): Expr {
    const mod = this.mod;
    const i32 = this.i32;
    const code = this.newVar();
    const where = loc ? `${loc.file}:${loc.line}:${loc.col}: ` : '';
    const strictAbort = (name: string): Expr =>
      mod.block(
        null,
        [
          this.rt('vd_error_prefix', [this.message(`${where}${name}: `)], this.none),
          mod.call(this.importName('opa_abort'), [this.rt('vd_error_message', [])], this.none),
        ],
        this.none,
      );
    return mod.block(
      null,
      [
        mod.local.set(code, this.rt('vd_error_code', [])),
        mod.if(
          mod.i32.ne(mod.local.get(code, i32), mod.i32.const(0)),
          mod.block(
            null,
            [
              mod.if(
                mod.global.get('verdict:strict', i32),
                mod.if(
                  mod.i32.eq(mod.local.get(code, i32), mod.i32.const(ERROR_TYPE)),
                  strictAbort('eval_type_error'),
                  strictAbort('eval_builtin_error'),
                ),
              ),
              this.rt('vd_error_clear', [], this.none),
              mod.br(label),
            ],
            this.none,
          ),
        ),
      ],
      this.none,
    );
  }

  private withFunction(s: Extract<Stmt, { op: 'withFunction' }>, label: string): Expr {
    const mod = this.mod;
    const i32 = this.i32;
    const info = this.mockByStmt.get(s);
    if (!info) throw new CodegenError(`unplanned replacement of ${s.func}`);
    const checks: Expr[] = [];
    const active = `verdict:mock:${info.id}`;
    const valueGlobal = `verdict:mockval:${info.id}`;
    const eraGlobal = `verdict:mockera:${info.id}`;
    const savedActive = this.newVar();
    const savedValue = this.newVar();
    const savedEra = this.newVar();
    const savedEpoch = this.newVar();
    const held = this.newVar();
    const setValue =
      'value' in s.replacement
        ? [mod.global.set(valueGlobal, this.operand(s.replacement.value, label, checks))]
        : [];
    return this.withChecks(
      checks,
      mod.block(
        null,
        [
          mod.local.set(savedActive, mod.global.get(active, i32)),
          mod.local.set(savedValue, mod.global.get(valueGlobal, i32)),
          mod.local.set(savedEra, mod.global.get(eraGlobal, i32)),
          mod.global.set(eraGlobal, mod.global.get('verdict:mockera', i32)),
          ...setValue,
          // The latest activation wins over older ones of the same function.
          mod.global.set(
            'verdict:mockseq',
            mod.i32.add(mod.global.get('verdict:mockseq', i32), mod.i32.const(1)),
          ),
          mod.global.set(active, mod.global.get('verdict:mockseq', i32)),
          ...this.epochEnter(savedEpoch),
          mod.local.set(held, mod.i32.const(0)),
          this.block(s.block, held),
          mod.global.set('verdict:epoch', mod.local.get(savedEpoch, i32)),
          mod.global.set(active, mod.local.get(savedActive, i32)),
          mod.global.set(valueGlobal, mod.local.get(savedValue, i32)),
          mod.global.set(eraGlobal, mod.local.get(savedEra, i32)),
          this.fail(label, mod.i32.eqz(mod.local.get(held, i32))),
        ],
        this.none,
      ),
    );
  }

  private with(s: Extract<Stmt, { op: 'with' }>, label: string): Expr {
    const mod = this.mod;
    const i32 = this.i32;
    const checks: Expr[] = [];
    const slot = s.target === 'input' ? 0 : 1;
    const saved = this.newVar();
    const savedEpoch = this.newVar();
    const path = this.newVar();
    const held = this.newVar();
    const parts = s.path.map((p) =>
      this.rt(
        'vd_array_append',
        [mod.local.get(path, i32), this.operand(p, label, checks)],
        this.none,
      ),
    );
    const valueLocal = this.newVar();
    const savedOverrides = this.newVar();
    const value = mod.local.tee(valueLocal, this.operand(s.value, label, checks), i32);
    return this.withChecks(
      checks,
      mod.block(
        null,
        [
          mod.local.set(saved, mod.local.get(slot, i32)),
          mod.local.set(path, this.rt('vd_array', [])),
          ...parts,
          mod.local.set(
            slot,
            this.rt('vd_upsert', [mod.local.get(slot, i32), mod.local.get(path, i32), value]),
          ),
          ...this.epochEnter(savedEpoch),
          ...(s.target === 'data'
            ? [
                mod.local.set(savedOverrides, mod.global.get('verdict:overrides', i32)),
                mod.global.set(
                  'verdict:overrides',
                  this.rt('vd_override_push', [
                    mod.local.get(savedOverrides, i32),
                    mod.local.get(path, i32),
                    mod.local.get(valueLocal, i32),
                  ]),
                ),
              ]
            : []),
          mod.local.set(held, mod.i32.const(0)),
          this.block(s.block, held),
          ...(s.target === 'data'
            ? [mod.global.set('verdict:overrides', mod.local.get(savedOverrides, i32))]
            : []),
          mod.global.set('verdict:epoch', mod.local.get(savedEpoch, i32)),
          mod.local.set(slot, mod.local.get(saved, i32)),
          this.fail(label, mod.i32.eqz(mod.local.get(held, i32))),
        ],
        this.none,
      ),
    );
  }

  /** Counts one step; past the budget the evaluation ends with eval_budget_error. */
  private tick(): Expr {
    const mod = this.mod;
    const i32 = this.i32;
    return mod.block(
      null,
      [
        mod.global.set(
          'verdict:steps',
          mod.i32.add(mod.global.get('verdict:steps', i32), mod.i32.const(1)),
        ),
        mod.if(
          mod.i32.gt_u(mod.global.get('verdict:steps', i32), mod.global.get('verdict:budget', i32)),
          this.abort(
            'eval_budget_error: evaluation stopped at its step budget: the policy does too much work for one query (raise the budget or narrow the iteration)',
          ),
        ),
      ],
      this.none,
    );
  }

  /** The address of a NUL-terminated text built at start-up. */
  private message(text: string): Expr {
    let index = this.messages.get(text);
    if (index === undefined) {
      index = this.messages.size;
      this.messages.set(text, index);
    }
    return this.mod.global.get(`verdict:m${index}`, this.i32);
  }

  private abort(text: string): Expr {
    return this.mod.call(this.importName('opa_abort'), [this.message(text)], this.none);
  }

  // -------------------------------------------------------------------------------------------
  // Start-up: constants, messages, builtins() and entrypoints()

  private defineStart(): void {
    const mod = this.mod;
    const body: Expr[] = [];
    this.beginFunction(0, 0);
    const previous = this.mod.getStart();
    if (previous) body.push(mod.call(this.binaryen.getFunctionInfo(previous).name, [], this.none));
    this.constValues.forEach((v, i) => {
      mod.addGlobal(`verdict:c${i}`, this.i32, true, mod.i32.const(0));
      body.push(mod.global.set(`verdict:c${i}`, this.buildValue(v)));
    });
    for (const { name, path } of this.pathGlobals.values()) {
      body.push(mod.global.set(name, this.buildValue(path)));
    }
    for (const [message, i] of this.messages) {
      mod.addGlobal(`verdict:m${i}`, this.i32, true, mod.i32.const(0));
      body.push(mod.global.set(`verdict:m${i}`, this.cString(message)));
    }
    // Host builtins are listed under `verdict.<name>` so the SDK dispatches to Verdict's
    // implementations (the SDK prefers its own for a few names, e.g. sprintf).
    const builtins = new ObjectValue(
      [...this.hostBuiltins].map(([name, id]) => [`${HOST_PREFIX}${name}`, id] as const),
    );
    mod.addGlobal('verdict:builtins', this.i32, true, mod.i32.const(0));
    body.push(mod.global.set('verdict:builtins', this.buildValue(builtins)));
    const entrypoints = new ObjectValue(
      this.options.entrypoints.map((name, id) => [name, id] as const),
    );
    mod.addGlobal('verdict:sites', this.i32, true, mod.i32.const(0));
    body.push(mod.global.set('verdict:sites', this.buildValue([...this.sites.keys()])));
    mod.addGlobal('verdict:entrypoints', this.i32, true, mod.i32.const(0));
    body.push(mod.global.set('verdict:entrypoints', this.buildValue(entrypoints)));
    const start = mod.addFunction(
      'verdict:start',
      this.binaryen.none,
      this.none,
      this.vars,
      mod.block(null, body, this.none),
    );
    mod.setStart(start);
  }

  /** Code that builds a value at start-up. */
  private buildValue(v: Value): Expr {
    const mod = this.mod;
    if (v === null) return this.rt('vd_null', []);
    if (typeof v === 'boolean') return this.rt('vd_boolean', [mod.i32.const(v ? 1 : 0)]);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) return this.rt('vd_int', [mod.i64.const(BigInt(v))]);
      return this.rt('vd_float', [mod.f64.const(v)]);
    }
    if (typeof v === 'bigint') {
      const { ptr, len } = this.bytes(new TextEncoder().encode(v.toString()));
      return this.rt('vd_number_text', [ptr, len]);
    }
    if (typeof v === 'string') {
      const { ptr, len } = this.bytes(new TextEncoder().encode(v));
      return this.rt('vd_string', [ptr, len]);
    }
    const tmp = this.newVar();
    // A fresh expression per use: binaryen expressions are tree nodes, never shared.
    const get = (): Expr => mod.local.get(tmp, this.i32);
    if (Array.isArray(v)) {
      return mod.block(
        null,
        [
          mod.local.set(tmp, this.rt('vd_array', [])),
          ...(v as readonly Value[]).map((x) =>
            this.rt('vd_array_append', [get(), this.buildValue(x)], this.none),
          ),
          get(),
        ],
        this.i32,
      );
    }
    if (v instanceof SetValue) {
      return mod.block(
        null,
        [
          mod.local.set(tmp, this.rt('vd_set', [])),
          ...v.sorted().map((x) => this.rt('vd_set_add', [get(), this.buildValue(x)], this.none)),
          get(),
        ],
        this.i32,
      );
    }
    return mod.block(
      null,
      [
        mod.local.set(tmp, this.rt('vd_object', [])),
        ...(v as ObjectValue)
          .sortedEntries()
          .map(([k, x]) =>
            this.rt('vd_object_insert', [get(), this.buildValue(k), this.buildValue(x)], this.none),
          ),
        get(),
      ],
      this.i32,
    );
  }

  /** Writes bytes into freshly allocated memory at start-up; returns (ptr, len) expressions. */
  private bytes(data: Uint8Array): { ptr: Expr; len: Expr } {
    const mod = this.mod;
    const ptr = this.newVar();
    const stores: Expr[] = [
      mod.local.set(ptr, this.rt('opa_malloc', [mod.i32.const(Math.max(data.length, 1))])),
    ];
    // Eight bytes per store keeps start-up code small.
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let i = 0;
    for (; i + 8 <= data.length; i += 8) {
      stores.push(
        mod.i64.store(i, 1, mod.local.get(ptr, this.i32), mod.i64.const(view.getBigInt64(i, true))),
      );
    }
    for (; i < data.length; i++) {
      stores.push(
        mod.i32.store8(i, 1, mod.local.get(ptr, this.i32), mod.i32.const(data[i] as number)),
      );
    }
    return {
      ptr: mod.block(null, [...stores, mod.local.get(ptr, this.i32)], this.i32),
      len: mod.i32.const(data.length),
    };
  }

  /** A NUL-terminated string in memory (for opa_abort). */
  private cString(text: string): Expr {
    const data = new TextEncoder().encode(text);
    const withNul = new Uint8Array(data.length + 1);
    withNul.set(data);
    return this.bytes(withNul).ptr;
  }

  private defineEntrypoints(): void {
    const mod = this.mod;
    const i32 = this.i32;
    const planIndex = new Map(this.policy.plans.map((p, i) => [p.name, i]));
    // builtins() and entrypoints()
    mod.addFunction(
      'verdict:builtins',
      this.binaryen.none,
      i32,
      [],
      mod.global.get('verdict:builtins', i32),
    );
    mod.addFunction(
      'verdict:entrypoints',
      this.binaryen.none,
      i32,
      [],
      mod.global.get('verdict:entrypoints', i32),
    );
    for (const name of ['builtins', 'entrypoints', 'eval', 'opa_eval']) {
      if (this.mod.getExport(name)) mod.removeExport(name);
    }
    mod.addFunctionExport('verdict:builtins', 'builtins');
    mod.addFunctionExport('verdict:entrypoints', 'entrypoints');
    // dispatch(entrypoint, input, data) → result set
    this.beginFunction(3, 3);
    const cases = this.options.entrypoints.map((name, id) => {
      const index = planIndex.get(name);
      if (index === undefined) throw new CodegenError(`no plan for entrypoint ${name}`);
      return mod.if(
        mod.i32.eq(mod.local.get(0, i32), mod.i32.const(id)),
        mod.return(
          mod.call(`verdict:plan:${index}`, [mod.local.get(1, i32), mod.local.get(2, i32)], i32),
        ),
      );
    });
    mod.addFunction(
      'verdict:dispatch',
      this.binaryen.createType([i32, i32, i32]),
      i32,
      [],
      mod.block(null, [...cases, this.rt('vd_set', [])], i32),
    );
    // opa_eval(reserved, entrypoint, data, input_addr, input_len, heap_ptr, format) → JSON text
    this.beginFunction(8, 7);
    const input = 7;
    mod.addFunction(
      'verdict:opa_eval',
      this.binaryen.createType([i32, i32, i32, i32, i32, i32, i32]),
      i32,
      [i32],
      mod.block(
        null,
        [
          this.rt('opa_heap_ptr_set', [mod.local.get(5, i32)], this.none),
          mod.call('verdict:begin', [], this.none),
          mod.local.set(
            input,
            mod.if(
              mod.i32.gt_s(mod.local.get(4, i32), mod.i32.const(0)),
              this.rt('opa_json_parse', [mod.local.get(3, i32), mod.local.get(4, i32)]),
              mod.i32.const(0),
            ),
          ),
          this.rt('opa_json_dump', [
            mod.call(
              'verdict:dispatch',
              [mod.local.get(1, i32), mod.local.get(input, i32), mod.local.get(2, i32)],
              i32,
            ),
          ]),
        ],
        i32,
      ),
    );
    mod.addFunctionExport('verdict:opa_eval', 'opa_eval');
    this.defineBegin();
    this.defineEval();
    this.ensureAbiGlobals();
  }

  /** Resets what one evaluation must not inherit from another (which may have aborted). */
  private defineBegin(): void {
    const mod = this.mod;
    const i32 = this.i32;
    const body: Expr[] = [
      this.rt('vd_error_clear', [], this.none),
      mod.global.set('verdict:steps', mod.i32.const(0)),
      mod.global.set('verdict:mockera', mod.i32.const(0)),
      mod.global.set('verdict:mockeras', mod.i32.const(0)),
      mod.global.set('verdict:site', mod.i32.const(-1)),
      this.rt('vd_host_transport', [mod.i32.const(0)], this.none),
      // A new epoch: no memoized rule value from an earlier evaluation is current.
      mod.global.set(
        'verdict:epochs',
        mod.i32.add(mod.global.get('verdict:epochs', i32), mod.i32.const(1)),
      ),
      mod.global.set('verdict:epoch', mod.global.get('verdict:epochs', i32)),
      mod.global.set('verdict:overrides', mod.i32.const(0)),
    ];
    for (const m of this.mocks) body.push(mod.global.set(`verdict:mock:${m.id}`, mod.i32.const(0)));
    mod.addFunction(
      'verdict:begin',
      this.binaryen.none,
      this.none,
      [],
      mod.block(null, body, this.none),
    );
  }

  /** `eval(ctx)`: the ABI's multi-call path; the runtime owns the context's layout. */
  private defineEval(): void {
    const mod = this.mod;
    const i32 = this.i32;
    mod.addFunction(
      'verdict:eval',
      this.binaryen.createType([i32]),
      i32,
      [],
      mod.block(
        null,
        [
          mod.call('verdict:begin', [], this.none),
          this.rt(
            'vd_ctx_set_result',
            [
              mod.local.get(0, i32),
              mod.call(
                'verdict:dispatch',
                [
                  this.rt('vd_ctx_entrypoint', [mod.local.get(0, i32)]),
                  this.rt('vd_ctx_input', [mod.local.get(0, i32)]),
                  this.rt('vd_ctx_data', [mod.local.get(0, i32)]),
                ],
                i32,
              ),
            ],
            this.none,
          ),
          mod.i32.const(0),
        ],
        i32,
      ),
    );
    mod.addFunctionExport('verdict:eval', 'eval');
  }

  private ensureAbiGlobals(): void {
    const mod = this.mod;
    mod.addFunction(
      'verdict:set_budget',
      this.binaryen.createType([this.i32]),
      this.none,
      [],
      mod.global.set('verdict:budget', mod.local.get(0, this.i32)),
    );
    mod.addFunctionExport('verdict:set_budget', 'verdict_set_budget');
    mod.addFunction(
      'verdict:set_strict',
      this.binaryen.createType([this.i32]),
      this.none,
      [],
      mod.global.set('verdict:strict', mod.local.get(0, this.i32)),
    );
    mod.addFunctionExport('verdict:set_strict', 'verdict_set_strict');
    mod.addFunction(
      'verdict:site_get',
      this.binaryen.none,
      this.i32,
      [],
      mod.global.get('verdict:site', this.i32),
    );
    mod.addFunctionExport('verdict:site_get', 'verdict_site');
    mod.addFunction(
      'verdict:sites_get',
      this.binaryen.none,
      this.i32,
      [],
      mod.global.get('verdict:sites', this.i32),
    );
    mod.addFunctionExport('verdict:sites_get', 'verdict_sites');
    for (const [name, value] of [
      ['opa_wasm_abi_version', 1],
      ['opa_wasm_abi_minor_version', 3],
    ] as const) {
      if (mod.getExport(name)) mod.removeExport(name);
      mod.addGlobal(`verdict:${name}`, this.i32, false, mod.i32.const(value));
      mod.addGlobalExport(`verdict:${name}`, name);
    }
  }
}

interface MockInfo {
  readonly id: number;
  /** The function or builtin replaced. */
  readonly target: string;
  /** A function (policy or builtin) answering instead, or a value (in global verdict:mockval:id). */
  readonly replacement: { readonly func: string } | { readonly value: true };
}

function nestedBlocks(s: Stmt): Block[] {
  switch (s.op) {
    case 'scan':
    case 'not':
    case 'callRelation':
    case 'with':
    case 'withFunction':
      return [s.block];
    case 'blocks':
    case 'or':
      return [...s.blocks];
    default:
      return [];
  }
}

function conflictText(c: ConflictInfo): string {
  const where =
    c.file !== undefined && c.line !== undefined ? `${c.file}:${c.line}:${c.col ?? 1}: ` : '';
  return `${where}${c.code}: ${c.message}`;
}
