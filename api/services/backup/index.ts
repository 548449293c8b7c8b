/** Logical backups of the platform's state and their restore into an empty database. */
export type { AuditSelection } from './audit';
export { createBackup, type BackupOptions, type BackupResult } from './dump';
export { checkBackup, readBackupHeader } from './file-reader';
export { BackupError, backupFormatVersion, type BackupHeader } from './format';
export { checkDataKeys, keyAdvice, type KeyCheck } from './keys';
export {
  restoreBackup,
  verifyRestoredChains,
  type ChainCheck,
  type RestoreOptions,
  type RestoreResult,
} from './restore';
export { backedUpTables, excludedTables } from './tables';
