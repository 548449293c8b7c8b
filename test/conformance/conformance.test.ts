/**
 * The whole OPA conformance corpus through Verdict: prints the figure and holds it at or above
 * FLOOR. `npm run conformance` prints the same figures per folder (see report.ts).
 */
import { corpusAvailable, corpusRoot, loadCorpus } from './corpus';
import { FLOOR } from './floor';
import { runCase } from './run-case';
import { formatTable, headline, summarize } from './summary';

/** The whole corpus runs in one test; generous, since the machine may be busy. */
const WHOLE_CORPUS_TIMEOUT_MS = 15 * 60 * 1000;

if (corpusAvailable()) {
  describe('OPA conformance corpus', () => {
    test(
      `passes at least ${FLOOR} cases`,
      () => {
        const results = loadCorpus().map((c) => runCase(c));
        const summary = summarize(results);
        console.log(`${formatTable(summary)}\n\nconformance: ${headline(summary.total)}`);
        expect(summary.total.passed).toBeGreaterThanOrEqual(FLOOR);
      },
      WHOLE_CORPUS_TIMEOUT_MS,
    );
  });
} else {
  const why = `OPA conformance corpus: no corpus at ${corpusRoot()} (a clone without ../shared/), skipped`;
  // Jest does not name the tests of a file whose tests are all skipped, so say it here too.
  console.warn(why);
  test.skip(why, () => undefined);
}
