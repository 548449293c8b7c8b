// The runtime's exports: what the OPA SDK calls (opa_*) and what the generated code calls
// (vd_*). docs/wasm.md ("Runtime contract") lists them; keep the two in step.
export {
  opa_abort,
  opa_println,
  opa_builtin0,
  opa_builtin1,
  opa_builtin2,
  opa_builtin3,
  opa_builtin4,
} from './env';
export { opa_malloc, opa_free, opa_heap_ptr_get, opa_heap_ptr_set } from './alloc';
export {
  vd_error_code,
  vd_error_message,
  vd_error_clear,
  vd_error_set,
  vd_error_prefix,
} from './errors';
export {
  vd_null,
  vd_boolean,
  vd_int,
  vd_string,
  vd_array,
  vd_object,
  vd_set,
  vd_type,
  vd_length,
  vd_iter_key,
  vd_iter_value,
  vd_truthy,
  vd_string_ptr,
  vd_string_len,
} from './value';
export { vd_float, vd_number_text } from './number';
export { vd_equal, vd_compare } from './compare';
export {
  vd_array_append,
  vd_set_add,
  vd_object_insert,
  vd_object_insert_once,
  vd_object_insert_path,
  vd_object_merge,
  vd_upsert,
  vd_get,
  vd_set_of,
} from './collections';
export {
  opa_json_parse,
  opa_json_dump,
  opa_value_parse,
  opa_value_dump,
  opa_value_add_path,
  opa_value_remove_path,
  opa_eval_ctx_new,
  opa_eval_ctx_set_input,
  opa_eval_ctx_set_data,
  opa_eval_ctx_set_entrypoint,
  opa_eval_ctx_get_result,
  vd_ctx_input,
  vd_ctx_data,
  vd_ctx_entrypoint,
  vd_ctx_set_result,
} from './abi';
export {
  vd_builtin_equal,
  vd_builtin_neq,
  vd_builtin_lt,
  vd_builtin_lte,
  vd_builtin_gt,
  vd_builtin_gte,
  vd_builtin_plus,
  vd_builtin_minus,
  vd_builtin_mul,
  vd_builtin_div,
  vd_builtin_rem,
  vd_builtin_and,
  vd_builtin_or,
  vd_builtin_internal_member_2,
  vd_builtin_internal_member_3,
} from './builtins/operators';
export {
  vd_builtin_abs,
  vd_builtin_round,
  vd_builtin_ceil,
  vd_builtin_floor,
  vd_builtin_numbers_range,
  vd_builtin_numbers_range_step,
  vd_builtin_to_number,
} from './builtins/numbers';
export {
  vd_builtin_count,
  vd_builtin_sum,
  vd_builtin_product,
  vd_builtin_max,
  vd_builtin_min,
  vd_builtin_sort,
  vd_builtin_all,
  vd_builtin_any,
} from './builtins/aggregates';
export {
  vd_builtin_object_get,
  vd_builtin_object_remove,
  vd_builtin_object_filter,
  vd_builtin_object_union,
  vd_builtin_object_union_n,
  vd_builtin_object_keys,
  vd_builtin_object_subset,
} from './builtins/objects';
export {
  vd_builtin_array_concat,
  vd_builtin_array_slice,
  vd_builtin_array_reverse,
  vd_builtin_array_flatten,
} from './builtins/arrays';
export { vd_builtin_intersection, vd_builtin_union, vd_builtin_set_diff } from './builtins/sets';
export {
  vd_builtin_concat,
  vd_builtin_contains,
  vd_builtin_startswith,
  vd_builtin_endswith,
  vd_builtin_lower,
  vd_builtin_upper,
  vd_builtin_split,
  vd_builtin_trim,
  vd_builtin_trim_left,
  vd_builtin_trim_right,
  vd_builtin_trim_prefix,
  vd_builtin_trim_suffix,
  vd_builtin_trim_space,
  vd_builtin_indexof,
  vd_builtin_substring,
  vd_builtin_strings_replace_n,
  vd_builtin_strings_any_prefix_match,
  vd_builtin_strings_any_suffix_match,
} from './builtins/strings';
export {
  vd_builtin_is_number,
  vd_builtin_is_string,
  vd_builtin_is_boolean,
  vd_builtin_is_array,
  vd_builtin_is_set,
  vd_builtin_is_object,
  vd_builtin_is_null,
  vd_builtin_type_name,
  vd_builtin_cast_array,
  vd_builtin_cast_set,
  vd_builtin_cast_string,
  vd_builtin_cast_boolean,
  vd_builtin_cast_null,
  vd_builtin_cast_object,
} from './builtins/types';
export {
  vd_builtin_graph_reachable,
  vd_builtin_graph_reachable_paths,
  vd_builtin_walk,
} from './builtins/graph';
export { vd_override_replace, vd_override_below, vd_override_push } from './overrides';
export { vd_host_transport } from './json';
