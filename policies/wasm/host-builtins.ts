/**
 * Host builtins: builtins a policy.wasm imports through `opa_builtinN` because the WASM runtime
 * does not implement them. The SDK hands them JSON-decoded arguments and loads their JSON
 * result back; Verdict's catalogue does the work.
 */
import { lookupBuiltin } from '../rego/builtins';
import { BuiltinError, BuiltinTypeError, type BuiltinContext } from '../rego/builtins/types';
import { fromJS, toJS, type JSONValue } from '../ir/value';
import { HOST_PREFIX } from './codegen';

export type HostBuiltin = (...args: unknown[]) => JSONValue | undefined;

/** A type error raised inside a host builtin ends the evaluation (thrown through the SDK). */
export class HostBuiltinError extends Error {
  constructor(
    readonly code: 'eval_type_error' | 'eval_builtin_error',
    message: string,
  ) {
    super(message);
    this.name = 'HostBuiltinError';
  }
}

export interface HostBuiltinOptions {
  /** Builtin errors end the evaluation instead of making the call undefined. */
  readonly strict?: boolean;
  /** The clock and per-evaluation memo; called once per evaluation by the engine. */
  readonly context: () => BuiltinContext;
}

/** Implementations for the names a policy's `builtins()` lists. */
export function hostBuiltins(
  names: readonly string[],
  options: HostBuiltinOptions,
): Record<string, HostBuiltin> {
  const out: Record<string, HostBuiltin> = {};
  for (const name of names) {
    const def = lookupBuiltin(name);
    if (!def) continue;
    // Verdict-built modules name host builtins `verdict.<name>`; OPA-built ones use the plain name.
    out[name] = out[`${HOST_PREFIX}${name}`] = (...args: unknown[]) => {
      try {
        const result = def.impl(args.map(fromJS), options.context());
        return result === undefined ? undefined : toJS(result);
      } catch (err) {
        // Builtin errors make the call undefined unless builtin errors are strict.
        if (err instanceof BuiltinError) {
          if (!options.strict) return undefined;
          const code = err instanceof BuiltinTypeError ? 'eval_type_error' : 'eval_builtin_error';
          throw new HostBuiltinError(code, err.message);
        }
        throw err;
      }
    };
  }
  return out;
}
