/**
 * `npm run conformance:parse`: prints how much of the OPA conformance corpus Verdict's parser
 * accepts (see parse-corpus.ts) and lists any failure; exit code 1 if there is one. Compiled
 * with tsc (tsconfig.parse.json) so it needs nothing beyond `npm install`.
 */
import { corpusAvailable, corpusRoot, loadCorpus } from './corpus';
import { measureParsing, parseHeadline } from './parse-corpus';

function main(): number {
  if (!corpusAvailable()) {
    process.stderr.write(`conformance corpus not found at ${corpusRoot()}\n`);
    return 1;
  }
  const figures = measureParsing(loadCorpus());
  for (const failure of figures.failures) process.stdout.write(`FAIL ${failure}\n`);
  process.stdout.write(`${parseHeadline(figures)}\n`);
  return figures.failures.length > 0 ? 1 : 0;
}

process.exitCode = main();
