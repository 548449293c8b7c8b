/**
 * Time zones by IANA name through Intl: the UTC offset of a zone at an instant, its
 * abbreviation, and the instant of a wall-clock time in a zone.
 */

/** A time zone: its offset and abbreviation at any instant. */
export interface Zone {
  readonly name: string;
  /** Offset east of UTC in seconds at the instant `ms`. */
  offsetAt(ms: number): number;
  /** Short name at the instant (e.g. "UTC", "EST"), or "" when the zone has none. */
  abbreviationAt(ms: number): string;
}

export const UTC: Zone = { name: 'UTC', offsetAt: () => 0, abbreviationAt: () => 'UTC' };

/** A zone name Intl does not know. */
export class UnknownZoneError extends Error {
  constructor(name: string) {
    super(`unknown time zone ${name}`);
  }
}

const zones = new Map<string, Zone>();

function intlZone(timeZone: string, name: string): Zone {
  let parts: Intl.DateTimeFormat;
  let short: Intl.DateTimeFormat;
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    short = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' });
  } catch {
    throw new UnknownZoneError(name);
  }
  return {
    name,
    offsetAt(ms) {
      const f: Record<string, string> = {};
      for (const p of parts.formatToParts(new Date(ms))) f[p.type] = p.value;
      let year = Number(f.year);
      if (f.era === 'BC' || f.era === 'B') year = 1 - year;
      const wall = new Date(0);
      wall.setUTCFullYear(year, Number(f.month) - 1, Number(f.day));
      wall.setUTCHours(Number(f.hour), Number(f.minute), Number(f.second), 0);
      return Math.round((wall.getTime() - Math.floor(ms / 1000) * 1000) / 1000);
    },
    abbreviationAt(ms) {
      const part = short.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName');
      const abbr = part?.value ?? '';
      return /^[A-Z]{2,5}$/.test(abbr) ? abbr : '';
    },
  };
}

/** The zone called `name`: "" and "UTC" are UTC, "Local" the process's zone. */
export function loadZone(name: string): Zone {
  if (name === '' || name === 'UTC') return UTC;
  const hit = zones.get(name);
  if (hit) return hit;
  const timeZone = name === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : name;
  if (name !== 'Local' && !/^[A-Za-z0-9_+\-/]+$/.test(name)) throw new UnknownZoneError(name);
  const zone = intlZone(timeZone, name);
  zones.set(name, zone);
  return zone;
}
