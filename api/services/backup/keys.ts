/**
 * Whether the keys a restored backup's encrypted fields need are configured where the restore
 * runs. A backup holds no key: e-mail addresses, TOTP secrets and token signing keys stay
 * sealed under the data keys they were written with, and e-mail look-ups need the blind index
 * key; without them the restored platform cannot sign anyone in. Looking never creates a key
 * file (starting a server without keys would).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../logger';
import { generatedKeyFileName, loadDataKeys, type DataKeySettings } from '../identity/data-keys';
import type { BackupHeader } from './format';

export type KeyCheck =
  | { kind: 'ready'; ids: string[] }
  | { kind: 'missing'; missing: string[] }
  | { kind: 'unconfigured' }
  | { kind: 'invalid'; problem: string };

export function checkDataKeys(
  header: BackupHeader,
  settings: DataKeySettings,
  logger: Logger,
): KeyCheck {
  const needed = header.keys.data_key_ids;
  const keyFile = path.join(settings.dataDir, generatedKeyFileName);
  if (settings.dataKeys === undefined && !fs.existsSync(keyFile)) return { kind: 'unconfigured' };
  let configured: ReadonlySet<string>;
  try {
    configured = new Set(loadDataKeys(settings, logger).keys.keys());
  } catch (err) {
    return { kind: 'invalid', problem: err instanceof Error ? err.message : String(err) };
  }
  const missing = needed.filter((id) => !configured.has(id));
  return missing.length === 0 ? { kind: 'ready', ids: needed } : { kind: 'missing', missing };
}

/** What to tell the operator about the keys; empty when nothing is encrypted. */
export function keyAdvice(header: BackupHeader, check: KeyCheck): string[] {
  const needed = header.keys.data_key_ids;
  if (needed.length === 0 && !header.keys.blind_index) return [];
  const ids = needed.length === 0 ? 'none' : needed.join(', ');
  const index = header.keys.blind_index ? ' and the blind index key (VERDICT_BLIND_INDEX_KEY)' : '';
  const need = `the encrypted fields need data keys ${ids}${index} of the source`;
  switch (check.kind) {
    case 'ready':
      return [`${need}: the data keys are configured here`];
    case 'missing':
      return [
        `warning: ${need}; VERDICT_DATA_KEYS here lacks ${check.missing.join(', ')}: add ${check.missing.length === 1 ? 'it' : 'them'} before starting a server`,
      ];
    case 'unconfigured':
      return [
        `warning: ${need}; none are configured here: set VERDICT_DATA_KEYS, VERDICT_DATA_KEY_ID and VERDICT_BLIND_INDEX_KEY (or copy the source's identity-keys.json into the data folder) before starting a server`,
      ];
    case 'invalid':
      return [`warning: ${need}; the keys configured here are invalid: ${check.problem}`];
  }
}
