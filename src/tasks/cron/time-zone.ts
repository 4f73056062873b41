/**
 * IANA time-zone validation and UTC-offset lookup on top of Intl.DateTimeFormat.
 */

// Creating an Intl.DateTimeFormat costs tens of microseconds; one per zone is reused.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Area/Location shape of IANA names; also admits single words such as UTC or EST5EDT. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
/** Offset-style names ("GMT+5", "UTC-03") that some Intl versions accept; Etc/GMT+5 stays valid. */
const OFFSET_STYLE = /^(?:GMT|UTC|UT)[+-]/i;

/**
 * True for IANA zone names (and aliases) that Intl knows, e.g. "UTC", "Europe/Berlin",
 * "US/Eastern", "Etc/GMT+5". Raw offsets ("+05:00", "GMT+5") are rejected even where
 * Intl accepts them: a schedule must follow a zone's DST rules, not a fixed offset.
 */
export function isValidTimeZone(name: string): boolean {
  return typeof name === 'string' && formatterFor(name) !== undefined;
}

/** Offset (local wall time minus UTC) in milliseconds at the given instant. */
export function utcOffsetAt(timeZone: string, instant: number): number {
  const formatter = formatterFor(timeZone);
  if (formatter === undefined) {
    throw new RangeError(`unknown time zone "${timeZone}"`);
  }
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatter.formatToParts(instant)) fields[part.type] = Number(part.value);
  const { year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0 } = fields;
  // The formatted wall time has whole seconds, so compare against the instant truncated likewise.
  return Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(instant / 1000) * 1000;
}

function formatterFor(name: string): Intl.DateTimeFormat | undefined {
  const cached = formatters.get(name);
  if (cached !== undefined || !IANA_NAME.test(name) || OFFSET_STYLE.test(name)) {
    return cached;
  }
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined;
  }
  formatters.set(name, formatter);
  return formatter;
}
