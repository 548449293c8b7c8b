// The OPA WASM ABI exports the SDK calls (besides the allocator in alloc.ts): JSON and Rego
// text in and out, the evaluation context, and in-place data updates. `eval`, `opa_eval`,
// `builtins` and `entrypoints` are policy-specific and added by the code generator.
import { allocZeroed } from './alloc';
import { addPath, removePath } from './collections';
import { dumpJSON, dumpRego, parseText } from './json';

/** The value of JSON text at [ptr, ptr+len), or 0 when the text is not valid JSON. */
export function opa_json_parse(ptr: i32, len: i32): i32 {
  return <i32>parseText(<usize>ptr, <u32>len, false);
}

/** NUL-terminated JSON text: sets as arrays, non-string keys as their JSON text in a string. */
export function opa_json_dump(v: i32): i32 {
  return <i32>dumpJSON(<usize>v);
}

/** The value of Rego value text (JSON plus sets and non-string keys), or 0. */
export function opa_value_parse(ptr: i32, len: i32): i32 {
  return <i32>parseText(<usize>ptr, <u32>len, true);
}

/** NUL-terminated Rego text of a value (`{1, 2}`, `set()`, `{1: "a"}`). */
export function opa_value_dump(v: i32): i32 {
  return <i32>dumpRego(<usize>v);
}

/** In place: `base[path...] = value`, creating objects on the way. 0 ok, 2 bad type, 3 bad path. */
export function opa_value_add_path(base: i32, path: i32, value: i32): i32 {
  return addPath(<usize>base, <usize>path, <usize>value);
}

/** In place: deletes `base[path...]`. 0 ok (also when absent), 2 bad type, 3 bad path. */
export function opa_value_remove_path(base: i32, path: i32): i32 {
  return removePath(<usize>base, <usize>path);
}

// ---------------------------------------------------------------------------------------------
// Evaluation context: input (+0), data (+4), entrypoint (+8), result (+12).

export function opa_eval_ctx_new(): i32 {
  return <i32>allocZeroed(16);
}

export function opa_eval_ctx_set_input(ctx: i32, v: i32): void {
  store<i32>(<usize>ctx, v);
}

export function opa_eval_ctx_set_data(ctx: i32, v: i32): void {
  store<i32>(<usize>ctx, v, 4);
}

export function opa_eval_ctx_set_entrypoint(ctx: i32, id: i32): void {
  store<i32>(<usize>ctx, id, 8);
}

export function opa_eval_ctx_get_result(ctx: i32): i32 {
  return load<i32>(<usize>ctx, 12);
}

/** For the generated `eval`: the context's input, data and entrypoint, and its result slot. */
export function vd_ctx_input(ctx: i32): i32 {
  return load<i32>(<usize>ctx);
}

export function vd_ctx_data(ctx: i32): i32 {
  return load<i32>(<usize>ctx, 4);
}

export function vd_ctx_entrypoint(ctx: i32): i32 {
  return load<i32>(<usize>ctx, 8);
}

export function vd_ctx_set_result(ctx: i32, v: i32): void {
  store<i32>(<usize>ctx, v, 12);
}
