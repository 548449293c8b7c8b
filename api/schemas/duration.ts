/**
 * Durations as people type them: a whole number and a unit, `90s`, `15m`, `12h`, `30d`.
 * Shared by the admin API (`expires_in`) and the CLI (`--expires-in`).
 */
export const durationPattern = '^[1-9][0-9]{0,5}[smhd]$';

const secondsPerUnit: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** The longest lifetime a key may be given: ten years. */
export const maxDurationSeconds = 3650 * 86_400;

/** Seconds in `text`, or undefined when it is not a duration of the form above. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(durationPattern).test(text)) return undefined;
  const unit = secondsPerUnit[text.slice(-1)] as number;
  return Number(text.slice(0, -1)) * unit;
}
