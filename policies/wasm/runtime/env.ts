// Functions the host provides: the OPA WASM ABI's imports. AssemblyScript imports a declared
// function from the module named after its file, hence this file's name: `env`. The generated
// code calls opa_builtinN for host builtins and opa_abort on fatal errors; the runtime uses
// opa_abort when memory runs out. index.ts re-exports them only so that each stays an import
// of the module (the compiler drops declarations nothing references).

/** Aborts evaluation: `addr` is a NUL-terminated message. The host throws. */
export declare function opa_abort(addr: i32): void;

/** Prints a NUL-terminated line (Rego `print`). */
export declare function opa_println(addr: i32): void;

/** Host builtins: `id` is the builtin's number in `builtins()`, args and result are values. */
export declare function opa_builtin0(id: i32, ctx: i32): i32;

export declare function opa_builtin1(id: i32, ctx: i32, a: i32): i32;

export declare function opa_builtin2(id: i32, ctx: i32, a: i32, b: i32): i32;

export declare function opa_builtin3(id: i32, ctx: i32, a: i32, b: i32, c: i32): i32;

export declare function opa_builtin4(id: i32, ctx: i32, a: i32, b: i32, c: i32, d: i32): i32;
