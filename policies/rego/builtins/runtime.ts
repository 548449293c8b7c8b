/**
 * Builtins about the evaluation itself rather than values: trace (a note for explanations;
 * always true), opa.runtime (empty: no deployment details are exposed), and http.send and
 * net.lookup_ip_addr, which Verdict declares so that policies can mock them with `with` but
 * never performs: a decision must not depend on the network.
 */
import { ObjectValue } from '../../ir/value';
import { objectArg, stringArg } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

const trace = builtin('trace', [T.string], T.boolean, (args) => {
  stringArg('trace', args, 1);
  return true;
});

const httpSend = builtin(
  'http.send',
  [T.object(T.string, T.any)],
  T.object(),
  (args) => {
    objectArg('http.send', args, 1);
    throw new BuiltinError(
      'http.send',
      'Verdict policies cannot make HTTP requests; pass the data in input or data, or mock http.send with `with` in tests',
    );
  },
  { nondeterministic: true },
);

const lookupIPAddr = builtin(
  'net.lookup_ip_addr',
  [T.string],
  T.set(T.string),
  (args) => {
    stringArg('net.lookup_ip_addr', args, 1);
    throw new BuiltinError(
      'net.lookup_ip_addr',
      'Verdict policies cannot make DNS lookups; pass the addresses in input or data, or mock net.lookup_ip_addr with `with` in tests',
    );
  },
  { nondeterministic: true },
);

/** OPA describes its deployment here; Verdict exposes none of its own, so this is empty. */
const opaRuntime = builtin('opa.runtime', [], T.object(T.string, T.any), () => new ObjectValue(), {
  nondeterministic: true,
});

export const RUNTIME_BUILTINS: readonly BuiltinDef[] = [trace, httpSend, lookupIPAddr, opaRuntime];
