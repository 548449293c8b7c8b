/**
 * CASL rule sets in Verdict: validate (validate.ts), lower to a Rego module (lower.ts), then the
 * usual compile → plan → interpreter / WASM pipeline. `decide` answers one request through the
 * reference interpreter; `buildCaslWasm` gives a policy.wasm with the `casl/decision` entrypoint.
 */
import { PolicyError, type Diagnostic } from '../diagnostic';
import { Interpreter } from '../ir/interpret';
import { Planner } from '../ir/plan';
import type { Policy } from '../ir/types';
import { fromJS, ObjectValue, toJS } from '../ir/value';
import { compileModules, type CompiledProgram } from '../rego/compile';
import { buildWasm, type BuildStage, type WasmBuild } from '../wasm/compile';
import { CASL_ENTRYPOINT, CASL_PACKAGE, lowerRuleSet } from './lower';
import { parseRuleSet } from './validate';

export {
  CaslValidationError,
  parseRuleSet,
  rolesOf,
  templatePath,
  type CaslIssue,
} from './validate';
export { holdsRole, packedRulesForUser, rulesForUser, type RawRule, type UserRule } from './pack';
export { compileRuleSetSource, loadRuleSet, type CaslSource } from './source';
export { CASL_ENTRYPOINT, lowerRuleSet } from './lower';
export { isCaslRequest, requestProblems } from './request';

/** A request: the principal, the action, the subject type, and optionally the resource and field. */
export interface CaslRequest {
  readonly user?: unknown;
  readonly action: string;
  readonly subject: string;
  readonly resource?: Record<string, unknown>;
  readonly field?: string;
}

/**
 * The value of `casl/decision`: whether the request is allowed, the deciding rule's `reason`,
 * and which rule decided.
 */
export interface CaslDecision {
  readonly allow: boolean;
  readonly reason: string | null;
  /** Index of the deciding rule, null when no rule applied. */
  readonly rule: number | null;
}

const ENTRY_PATH = [...CASL_PACKAGE, 'decision'];

/** Validates and compiles a raw rule set (throws CaslValidationError or PolicyError). */
export function compileRuleSet(raw: unknown, file = 'rules.json'): CompiledProgram {
  const module = lowerRuleSet(parseRuleSet(raw), file);
  const { program, diagnostics } = compileModules([module]);
  if (!program) throw new PolicyError(diagnostics);
  return program;
}

/** The IR policy for a compiled rule set, with the plan `casl/decision`. */
export function planRuleSet(program: CompiledProgram): Policy {
  return new Planner(program.tree).plan({ entrypoints: [ENTRY_PATH] });
}

/** Compiles a rule set's program to a policy.wasm whose one entrypoint is `casl/decision`. */
export async function buildCaslWasm(
  program: CompiledProgram,
  onStage?: (stage: BuildStage) => void,
): Promise<WasmBuild> {
  return buildWasm(program, [{ name: CASL_ENTRYPOINT, path: ENTRY_PATH }], [], onStage);
}

/** Reads a decision out of an entrypoint's result set (`[{"result": {...}}]`). */
export function decisionOf(resultSet: unknown): CaslDecision {
  const first = Array.isArray(resultSet) ? (resultSet[0] as unknown) : undefined;
  const result =
    typeof first === 'object' && first !== null
      ? (first as { result?: unknown }).result
      : undefined;
  if (typeof result !== 'object' || result === null) {
    const d: Diagnostic = { code: 'eval_internal_error', message: 'CASL decision is undefined' };
    throw new PolicyError([d]);
  }
  return result as CaslDecision;
}

/** Answers CASL requests through the reference interpreter. */
export class CaslInterpreter {
  private readonly interpreter: Interpreter;

  constructor(policy: Policy) {
    this.interpreter = new Interpreter(policy);
  }

  /** The decision for one request; throws PolicyError if the policy yields no decision. */
  decide(request: CaslRequest): CaslDecision {
    const results = this.interpreter.run(CASL_ENTRYPOINT, fromJS(request), new ObjectValue());
    return decisionOf(results.map((r) => toJS(r)));
  }
}
