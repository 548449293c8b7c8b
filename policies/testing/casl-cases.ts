/**
 * CASL case files (`cases.yaml`): a list of cases, each a request and the decision it must get.
 *
 * ```yaml
 * - name: an editor updates the title
 *   input: { user: { id: u4 }, action: update, subject: Document, field: title, resource: {...} }
 *   want: { allow: true, rule: 2 }      # the keys given are compared: allow, reason, rule
 * - name: a stranger cannot read
 *   input: { ... }
 *   allow: false                        # short for want: { allow: false }
 * ```
 *
 * Cases run through the WASM module (what production runs) or the reference interpreter.
 * Coverage counts, per rule of the rule set, whether some case was decided by it.
 */
import Ajv from 'ajv';
import { isMap, isSeq, parseDocument } from 'yaml';
import { positionAt, type Diagnostic, type Position } from '../diagnostic';
import {
  buildCaslWasm,
  CASL_ENTRYPOINT,
  CaslInterpreter,
  decisionOf,
  planRuleSet,
  requestProblems,
  type CaslDecision,
  type CaslRequest,
} from '../casl';
import { compileRuleSetSource, type CaslSource } from '../casl/source';
import { EngineError, PolicyEngine } from '../engine';
import { EvalError } from '../ir/interpret';
import type { Coverage, FileCoverage, TestEngine, TestResult } from './runner';

/** A CASL bundle's rule set file and its case files. */
export interface CaslBundleCases {
  readonly rules: CaslSource;
  readonly cases: readonly CaslSource[];
}

/**
 * The outcome of running a rule set's cases: one result per case, or the diagnostics that
 * stopped them.
 */
export interface CaslCaseRun {
  readonly results: readonly TestResult[];
  readonly diagnostics: readonly Diagnostic[];
  /** Per rule set file: the rules that decided at least one case. */
  readonly coverage?: FileCoverage;
}

interface CaseSpec {
  readonly name: string;
  readonly input: unknown;
  readonly want: Partial<CaslDecision>;
  readonly position: Position;
}

const caseSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'input'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1 },
      input: {},
      want: {
        type: 'object',
        minProperties: 1,
        additionalProperties: false,
        properties: {
          allow: { type: 'boolean' },
          reason: { type: ['string', 'null'] },
          rule: { type: ['integer', 'null'] },
        },
      },
      allow: { type: 'boolean' },
    },
    oneOf: [{ required: ['want'] }, { required: ['allow'] }],
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });
const checkCases = ajv.compile(caseSchema);

/** Reads one case file; problems come back as diagnostics at their line. */
export function readCases(source: CaslSource): { cases: CaseSpec[]; diagnostics: Diagnostic[] } {
  const doc = parseDocument(source.text, { prettyErrors: false });
  const [syntax] = doc.errors;
  if (syntax)
    return {
      cases: [],
      diagnostics: [
        {
          code: 'casl_rule_error',
          message: `not a valid case file: ${syntax.message.split('\n')[0] ?? ''}`,
          position: positionAt(source.file, source.text, syntax.pos[0]),
        },
      ],
    };
  const value: unknown = doc.contents === null ? [] : doc.toJS();
  const items = isSeq(doc.contents) ? doc.contents.items : [];
  const offsetOf = (i: number): number => {
    const item = items[i];
    return isMap(item) ? item.range[0] : 0;
  };
  if (!checkCases(value)) {
    return {
      cases: [],
      diagnostics: (checkCases.errors ?? [])
        .filter((e) => !e.schemaPath.includes('/oneOf/'))
        .map((e) => {
          const index = /^\/(\d+)/.exec(e.instancePath)?.[1];
          const message =
            e.keyword === 'oneOf'
              ? 'a case needs either want: { allow, reason, rule } or allow: true|false (not both)'
              : e.keyword === 'additionalProperties'
                ? `unknown property ${String((e.params as { additionalProperty?: string }).additionalProperty)}; a case has name, input and want (or allow)`
                : `${e.instancePath || 'the file'} ${e.message ?? 'is invalid'}`;
          return {
            code: 'casl_rule_error' as const,
            message: `case file: ${e.instancePath === '' && e.keyword === 'type' ? 'a case file is a list of cases' : message}`,
            position: positionAt(
              source.file,
              source.text,
              index === undefined ? 0 : offsetOf(Number(index)),
            ),
          };
        }),
    };
  }
  const raw = value as { name: string; input: unknown; want?: CaslDecision; allow?: boolean }[];
  return {
    cases: raw.map((c, i) => ({
      name: c.name,
      input: c.input,
      want: c.want ?? { allow: c.allow ?? false },
      position: positionAt(source.file, source.text, offsetOf(i)),
    })),
    diagnostics: [],
  };
}

/** Runs the case files of one CASL bundle. */
export async function runCaslCases(
  bundle: CaslBundleCases,
  options: {
    engine?: TestEngine;
    filter?: string;
    coverage?: boolean;
    onProgress?: (done: number, total: number, label: string) => void;
  } = {},
): Promise<CaslCaseRun> {
  const compiled = compileRuleSetSource(bundle.rules);
  if (!compiled.program || !compiled.rules)
    return { results: [], diagnostics: compiled.diagnostics };
  const cases: CaseSpec[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of bundle.cases) {
    const read = readCases(file);
    cases.push(...read.cases);
    diagnostics.push(...read.diagnostics);
  }
  if (diagnostics.length > 0) return { results: [], diagnostics };
  const selected = cases.filter(
    (c) => options.filter === undefined || c.name.includes(options.filter),
  );
  if (selected.length === 0) return { results: [], diagnostics: [] };

  let decide: (request: CaslRequest) => CaslDecision;
  if ((options.engine ?? 'wasm') === 'interp') {
    const interpreter = new CaslInterpreter(planRuleSet(compiled.program));
    decide = (r) => interpreter.decide(r);
  } else {
    options.onProgress?.(0, selected.length, 'building WebAssembly');
    const built = await buildCaslWasm(compiled.program);
    if (!built.wasm) return { results: [], diagnostics: built.diagnostics };
    const engine = await PolicyEngine.load(built.wasm);
    decide = (r) => decisionOf(engine.evaluate(CASL_ENTRYPOINT, r));
  }

  const decidedBy = new Set<number>();
  const results = selected.map((c, i): TestResult => {
    options.onProgress?.(i + 1, selected.length, c.name);
    const started = performance.now();
    const base = { name: c.name, path: [c.position.file, c.name], position: c.position };
    const problems = requestProblems(c.input);
    if (problems.length > 0)
      return {
        ...base,
        status: 'error',
        detail: `input is not a CASL request: ${problems.join('; ')}`,
        durationMs: performance.now() - started,
      };
    let got: CaslDecision;
    try {
      got = decide(c.input as CaslRequest);
    } catch (err) {
      if (err instanceof EngineError || err instanceof EvalError)
        return {
          ...base,
          status: 'error',
          detail: `${err.code}: ${err.message}`,
          durationMs: performance.now() - started,
        };
      throw err;
    }
    if (got.rule !== null) decidedBy.add(got.rule);
    const differs = (Object.keys(c.want) as (keyof CaslDecision)[]).filter(
      (k) => c.want[k] !== got[k],
    );
    return differs.length === 0
      ? { ...base, status: 'pass', durationMs: performance.now() - started }
      : {
          ...base,
          status: 'fail',
          detail: `want ${JSON.stringify(c.want)}, got ${JSON.stringify(got)}`,
          durationMs: performance.now() - started,
        };
  });

  if (!options.coverage) return { results, diagnostics: [] };
  const rules = compiled.rules;
  const uncovered = rules
    .filter((r) => !decidedBy.has(r.index))
    .map((r) => ({ name: `rule ${String(r.index)}`, line: lineOfRule(bundle.rules, r.index) }));
  return {
    results,
    diagnostics: [],
    coverage: {
      file: bundle.rules.file,
      rules: rules.length,
      rulesCovered: rules.length - uncovered.length,
      // A rule counts as one line: what is measured is whether it decided a case.
      lines: rules.length,
      linesCovered: rules.length - uncovered.length,
      uncovered,
    },
  };
}

/** The line where rule `index` of a rule set file starts (1 when it cannot be told). */
function lineOfRule(source: CaslSource, index: number): number {
  const doc = parseDocument(source.text);
  const list = isSeq(doc.contents)
    ? doc.contents.items
    : isMap(doc.contents)
      ? [
          ...doc.contents.items.flatMap((p) =>
            String(p.key) === 'roles' && isMap(p.value)
              ? p.value.items.flatMap((r) => (isSeq(r.value) ? r.value.items : []))
              : [],
          ),
          ...doc.contents.items.flatMap((p) =>
            String(p.key) === 'rules' && isSeq(p.value) ? p.value.items : [],
          ),
        ]
      : [];
  const node = list[index];
  const offset = isMap(node) ? node.range[0] : 0;
  return positionAt(source.file, source.text, offset).line;
}

/** Coverage over Rego files and CASL rule sets together. */
export function mergeCoverage(files: readonly FileCoverage[]): Coverage {
  const lines = files.reduce((n, f) => n + f.lines, 0);
  const covered = files.reduce((n, f) => n + f.linesCovered, 0);
  return { files, percent: lines === 0 ? 100 : (100 * covered) / lines };
}
