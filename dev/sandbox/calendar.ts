// Dates as integer day numbers (days since 1970-01-01) so date arithmetic never meets time zones or DST.
// IRIS shows calendar dates as MM/DD/YYYY and instants as ISO 8601 with the instance's UTC offset.

export const DAY_MS = 86_400_000;

export function dayFromParts(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
}

export function dayParts(day: number): { year: number; month: number; day: number } {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** YYYY-MM-DD */
export function ymd(day: number): string {
  const p = dayParts(day);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** MM/DD/YYYY, the way IRIS prints merchant and batch dates. */
export function mdy(day: number): string {
  const p = dayParts(day);
  return `${pad(p.month)}/${pad(p.day)}/${pad(p.year, 4)}`;
}

/** Parses a strict Y-m-d date; null for anything else (including impossible dates like 2024-02-30). */
export function parseYmd(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const result = dayFromParts(year, month, day);
  const back = dayParts(result);
  return back.year === year && back.month === month && back.day === day ? result : null;
}

export function parseMdy(text: string): number | null {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!m) return null;
  return parseYmd(`${m[3]}-${m[1]}-${m[2]}`);
}

/** 0 = Sunday ... 6 = Saturday */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** Months as one integer (year * 12 + month - 1) so ranges and differences are plain arithmetic. */
export function monthKey(year: number, month: number): number {
  return year * 12 + (month - 1);
}

export function monthOfKey(key: number): { year: number; month: number } {
  return { year: Math.floor(key / 12), month: (key % 12) + 1 };
}

export function monthKeyOfDay(day: number): number {
  const p = dayParts(day);
  return monthKey(p.year, p.month);
}

export function monthFirstDay(key: number): number {
  const { year, month } = monthOfKey(key);
  return dayFromParts(year, month, 1);
}

export function monthLastDay(key: number): number {
  return monthFirstDay(key + 1) - 1;
}

/** The calendar day of an instant as seen at a fixed UTC offset. */
export function localDay(ms: number, offsetMinutes: number): number {
  return Math.floor((ms + offsetMinutes * 60_000) / DAY_MS);
}

/** The instant of a local wall-clock time on a day, at a fixed UTC offset. */
export function localInstant(day: number, secondsOfDay: number, offsetMinutes: number): number {
  return day * DAY_MS + secondsOfDay * 1000 - offsetMinutes * 60_000;
}

export function formatOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** ISO 8601 with seconds and an explicit offset (PHP's Y-m-d\TH:i:sP), e.g. 2024-05-01T07:00:00-05:00. */
export function isoWithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    formatOffset(offsetMinutes)
  );
}

/**
 * Parses an ISO 8601 date-time that carries an explicit offset (or Z); null otherwise. A space where the offset
 * sign should be is what an unencoded "+" becomes in a query string, and is rejected like IRIS's validator does.
 */
export function parseIsoWithOffset(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (!m) return null;
  const day = parseYmd(`${m[1]}-${m[2]}-${m[3]}`);
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day === null || h > 23 || min > 59 || s > 59) return null;
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const zone = m[8] as string;
  let offset = 0;
  if (zone !== "Z") {
    const digits = zone.replace(":", "");
    offset = (digits[0] === "-" ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  return day * DAY_MS + ((h * 60 + min) * 60 + s) * 1000 + Math.floor(fraction) - offset * 60_000;
}
