/**
 * The parser over the whole conformance corpus (see parse-corpus.ts); prints the figure.
 * Skipped, saying why, when ../shared/conformance is absent.
 */
import { corpusAvailable, corpusRoot, loadCorpus } from './corpus';
import { measureParsing, parseHeadline } from './parse-corpus';

const available = corpusAvailable();
if (!available) {
  process.stdout.write(`parse conformance skipped: corpus not found at ${corpusRoot()}\n`);
}

(available ? describe : describe.skip)('parsing the OPA conformance corpus', () => {
  it('parses every module OPA accepts, rejects parse errors, and round-trips through fmt', () => {
    const figures = measureParsing(loadCorpus());
    process.stdout.write(`\nparse conformance:\n${parseHeadline(figures)}\n`);
    expect(figures.failures).toEqual([]);
    expect(figures.modules).toBeGreaterThan(1000);
    expect(figures.parsedModules).toBe(figures.modules);
    expect(figures.rejectedParseErrorCases).toBe(figures.parseErrorCases);
    expect(figures.roundTrips).toBe(figures.parsedModules);
  });
});
