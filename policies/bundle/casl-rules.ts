/**
 * The CASL rule set a built bundle carries (`/rules.json` or `/rules.yaml` beside policy.wasm),
 * read back for per-user (packed) rules.
 */
import type { CaslSource } from '../casl/source';
import type { TarEntry } from './tar';

const RULE_SET_PATHS = ['rules.json', 'rules.yaml', 'rules.yml'];

/** The rule set file of a CASL bundle's entries; undefined when it holds none. */
export function ruleSetOfBundle(entries: readonly TarEntry[]): CaslSource | undefined {
  const entry = entries.find((e) => RULE_SET_PATHS.includes(e.path.replace(/^\//, '')));
  return entry && { file: entry.path, text: Buffer.from(entry.data).toString('utf8') };
}
