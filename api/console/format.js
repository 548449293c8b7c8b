/** How values read on the page: times in UTC, outcomes as words. */

/** `2026-11-27T08:00:05.123Z` as `2026-11-27 08:00:05.123Z`. */
export function formatTime(iso) {
  return typeof iso === 'string' ? iso.replace('T', ' ') : '';
}

/** A bucket start for an axis label: the time of day for minutes and hours, the date for days. */
export function formatBucketStart(iso, bucket) {
  if (typeof iso !== 'string') return '';
  return bucket === 'day' ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

export function outcomeOf(allowed) {
  if (allowed === true) return 'allowed';
  if (allowed === false) return 'denied';
  return 'other';
}

/** `rbac@1.0.0`, or a dash when the decision had no bundle. */
export function bundleLabel(record) {
  if (!record.bundle_name && !record.bundle_version) return '—';
  return `${record.bundle_name ?? '?'}@${record.bundle_version ?? '?'}`;
}

/**
 * A time typed into a filter, as the API takes it: a space may stand for the `T`, a time
 * without a zone is UTC, a date alone is its midnight, seconds may be left out. Anything
 * else goes to the API as typed, which says what is wrong with it. Undefined when empty.
 */
export function normalizeTime(text) {
  const value = text.trim().replace(' ', 'T');
  if (value === '') return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/u.test(value)) return `${value}T00:00:00Z`;
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/iu.exec(
    value,
  );
  if (match === null) return value;
  return `${match[1]}${match[2] ?? ':00'}${match[4] ?? 'Z'}`;
}

/** The chart bucket for a range: minutes up to 3 hours, hours up to 7 days, days beyond. */
export function autoBucket(fromIso, toIso, now = Date.now()) {
  const to = toIso === undefined ? now : Date.parse(toIso);
  const from = fromIso === undefined ? to - 86_400_000 : Date.parse(fromIso);
  const span = to - from;
  if (span <= 3 * 3_600_000) return 'minute';
  if (span <= 7 * 86_400_000) return 'hour';
  return 'day';
}

export function prettyJson(value) {
  return value === undefined ? '(none)' : JSON.stringify(value, null, 2);
}
