/**
 * Host builtins: builtins a policy.wasm imports through `opa_builtinN` because the WASM runtime
 * does not implement them. The SDK hands them JSON-decoded arguments and loads their JSON
 * result back; Verdict's catalogue does the work.
 */
import { lookupBuiltin } from '../rego/builtins';
import { BuiltinError, BuiltinTypeError, type BuiltinContext } from '../rego/builtins/types';
import { fromJS, toJS, type JSONValue } from '../ir/value';

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
    out[name] = (...args: unknown[]) => {
      try {
        const result = def.impl(args.map(fromJS), options.context());
        return result === undefined ? undefined : toJS(result);
      } catch (err) {
        if (err instanceof BuiltinTypeError)
          throw new HostBuiltinError('eval_type_error', err.message);
        if (err instanceof BuiltinError) {
          if (options.strict) throw new HostBuiltinError('eval_builtin_error', err.message);
          return undefined;
        }
        throw err;
      }
    };
  }
  return out;
}
