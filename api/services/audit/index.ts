/** The decision log: hash-chained audit rows, written in batches, spooled when the database is down. */
export { canonicalJson, toStorableJson, type JsonValue } from './canonical';
export {
  chainRow,
  deriveAllowed,
  genesisHash,
  rowHash,
  type AuditEntry,
  type AuditRow,
  type CacheOutcome,
  type ChainHead,
  type RolloutArm,
  type RolloutMark,
} from './chain';
export { maskInput, maskPathProblem } from './mask';
export type { AuditSink } from './sink';
export { ensureDecisionPartitions, listDecisionPartitions } from './partitions';
export { verifyChain, type VerifyOptions, type VerifyResult } from './verify';
export {
  AuditWriter,
  createAuditWriter,
  spoolFileName,
  type AuditCounters,
  type AuditInsertReport,
  type AuditWriterOptions,
} from './writer';
