/**
 * The OPA conformance corpus through both back ends: every case is compiled to policy.wasm,
 * loaded with the unmodified @open-policy-agent/opa-wasm SDK (through Verdict's engine) and
 * evaluated; each answer is judged against the case and compared with the interpreter's.
 * Holds the WASM pass count at WASM_FLOOR and the number of disagreements at zero.
 */
import { corpusAvailable, corpusRoot, loadCorpus } from './corpus';
import { WASM_FLOOR } from './floor';
import { runCaseBoth } from './run-case-wasm';

const WHOLE_CORPUS_TIMEOUT_MS = 20 * 60 * 1000;

if (corpusAvailable()) {
  describe('OPA conformance corpus through WASM', () => {
    test(
      `passes at least ${WASM_FLOOR} cases with no disagreement between the back ends`,
      async () => {
        const counts = { interp: 0, wasm: 0, skipped: 0, total: 0 };
        const disagreements: string[] = [];
        const failures: string[] = [];
        for (const c of loadCorpus()) {
          const r = await runCaseBoth(c);
          counts.total++;
          if (r.interp.status === 'skipped') counts.skipped++;
          if (r.interp.status === 'passed') counts.interp++;
          if (r.wasm.status === 'passed') counts.wasm++;
          if (r.wasm.status === 'failed')
            failures.push(`${c.id} ${c.note}: ${r.wasm.reason ?? ''}`);
          if (r.disagreement !== undefined)
            disagreements.push(`${c.id} ${c.note}: ${r.disagreement}`);
        }
        console.log(
          [
            `conformance (wasm): ${counts.wasm} / ${counts.total} passed through WASM, ` +
              `${counts.interp} through the interpreter; ${counts.skipped} skipped; ` +
              `${disagreements.length} disagreements`,
            ...failures.map((f) => `  wasm failed: ${f}`),
            ...disagreements.map((d) => `  disagreement: ${d}`),
          ].join('\n'),
        );
        expect(disagreements).toEqual([]);
        expect(counts.wasm).toBeGreaterThanOrEqual(WASM_FLOOR);
      },
      WHOLE_CORPUS_TIMEOUT_MS,
    );
  });
} else {
  const why = `OPA conformance corpus (wasm): no corpus at ${corpusRoot()} (a clone without ../shared/), skipped`;
  console.warn(why);
  test.skip(why, () => undefined);
}
