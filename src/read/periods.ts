// Calendar arithmetic for the read API, in UTC: month indexes, day ranges, period labels and the month-end
// projection window. Pure, so each rule can be tested alone.
import type { MonthKey } from "./params.ts";

const DAY_MS = 86_400_000;

/** Months since year 0: year × 12 + month − 1. Consecutive months have consecutive indexes. */
export function monthIndex(key: MonthKey): number {
  return key.year * 12 + key.month - 1;
}

export function monthAt(index: number): MonthKey {
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

export function daysInMonth(key: MonthKey): number {
  return new Date(Date.UTC(key.year, key.month, 0)).getUTCDate();
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function addDays(day: string, days: number): string {
  return isoDay(dayMs(day) + days * DAY_MS);
}

/** Whole days from `from` to `to` (to − from). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayMs(to) - dayMs(from)) / DAY_MS);
}

export function currentMonth(now: number): MonthKey {
  const d = new Date(now);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}

export function firstDay(key: MonthKey): string {
  return `${key.year}-${String(key.month).padStart(2, "0")}-01`;
}

export function lastDay(key: MonthKey): string {
  return `${key.year}-${String(key.month).padStart(2, "0")}-${String(daysInMonth(key)).padStart(2, "0")}`;
}

function boundMonth(bound: string): MonthKey {
  const [year, month] = bound.split("-").map(Number) as [number, number];
  return { year, month };
}

/** A bound for a day series: a day as is; a month means its first day (as `from`) or its last (as `to`). */
export function boundDay(bound: string, side: "from" | "to"): string {
  if (bound.length === 10) return bound;
  const key = boundMonth(bound);
  return side === "from" ? firstDay(key) : lastDay(key);
}

/** A bound for a monthly series: the month the bound falls in. */
export function boundMonthIndex(bound: string): number {
  return monthIndex(boundMonth(bound));
}

export const GRANULARITY_MONTHS = { month: 1, quarter: 3, year: 12 } as const;
export type PeriodGranularity = keyof typeof GRANULARITY_MONTHS;

/** `2026-10`, `2026-Q4` or `2026` for the period that starts at month index `start`. */
export function periodLabel(start: number, granularity: PeriodGranularity): string {
  const key = monthAt(start);
  if (granularity === "year") return String(key.year);
  if (granularity === "quarter") return `${key.year}-Q${Math.floor((key.month - 1) / 3) + 1}`;
  return `${key.year}-${String(key.month).padStart(2, "0")}`;
}

export interface ProjectionWindow {
  /** The last day counted: yesterday, UTC. Today's batches are still settling. */
  through: string;
  /** Complete days of the month before today, 0 on the 1st. */
  daysElapsed: number;
  daysInMonth: number;
}

/**
 * The part of the current month a projection may use: the complete days from the 1st to yesterday. Undefined
 * when `key` is not the current month, or when no day of it is complete yet (the 1st).
 */
export function projectionWindow(key: MonthKey, now: number): ProjectionWindow | undefined {
  const current = currentMonth(now);
  if (current.year !== key.year || current.month !== key.month) return undefined;
  const today = isoDay(now);
  const daysElapsed = daysBetween(firstDay(key), today);
  if (daysElapsed < 1) return undefined;
  return { through: addDays(today, -1), daysElapsed, daysInMonth: daysInMonth(key) };
}
