/**
 * Host builtins: builtins a policy.wasm imports through `opa_builtinN` because the WASM runtime
 * does not implement them. The SDK hands them JSON-decoded arguments and loads their JSON
 * result back; Verdict's catalogue does the work.
 */
import { lookupBuiltin } from '../rego/builtins';
import { BuiltinError, BuiltinTypeError, type BuiltinContext } from '../rego/builtins/types';
import {
  ObjectValue,
  SetValue,
  fromJS,
  parseNumber,
  toJS,
  toJSONText,
  type JSONValue,
  type Value,
} from '../ir/value';
import { HOST_PREFIX } from './codegen';

/**
 * Numbers JavaScript cannot hold exactly cross the SDK as marked strings (see the runtime's
 * json.ts, "Host transport"): "\u0000n:<digits>".
 */
const NUMBER_MARK = '\u0000n:';

function fromHost(x: unknown): Value {
  if (typeof x === 'string' && x.startsWith(NUMBER_MARK))
    return parseNumber(x.slice(NUMBER_MARK.length));
  if (Array.isArray(x)) return x.map(fromHost);
  if (x !== null && typeof x === 'object') {
    const obj = new ObjectValue();
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) obj.set(k, fromHost(v));
    return obj;
  }
  return fromJS(x);
}

function toHost(v: Value): JSONValue {
  if (typeof v === 'bigint') return NUMBER_MARK + v.toString();
  if (Array.isArray(v)) return (v as readonly Value[]).map(toHost);
  if (v instanceof SetValue) return v.sorted().map(toHost);
  if (v instanceof ObjectValue) {
    const out: Record<string, JSONValue> = {};
    for (const [k, val] of v) {
      Object.defineProperty(out, typeof k === 'string' ? k : toJSONText(k), {
        value: toHost(val),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return toJS(v);
}

/** A builtin as the SDK calls it: JSON-decoded arguments in, a JSON value (or undefined) out. */
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

/** How host builtins handle errors, and where they get the clock and memo. */
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
        const result = def.impl(args.map(fromHost), options.context());
        return result === undefined ? undefined : toHost(result);
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
