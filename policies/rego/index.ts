/**
 * The Rego front end: lexer, parser and formatter. See parser.ts for the never-throwing parse
 * API and format.ts for the canonical printer.
 */
export { formatModule } from './format';
export { parseModule, parseQuery, parseTerm } from './parser';
export type { ModuleParseResult, QueryParseResult, TermParseResult } from './parser';
