// zod schemas for query and path parameters of the read API. Query values arrive as strings; each schema checks
// the text and turns it into the value the query needs, and its input side is what the OpenAPI document shows.
import { z } from "zod";

// Postgres refuses NUL in text and control characters never belong in a search or an id: reject them up front.
const hasControlCharacter = (v: string) => [...v].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

export const text = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max, `at most ${max} characters`).refine((v) => !hasControlCharacter(v), "must not contain control characters");

export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "expected a whole number")
    .transform(Number)
    .pipe(z.int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .describe(`a whole number from ${min} to ${max}`);

export const YEAR_MIN = 2000;
export const YEAR_MAX = 2100;
export const year = wholeNumber(YEAR_MIN, YEAR_MAX);
export const month = wholeNumber(1, 12);

export const page = wholeNumber(1, 100_000).describe("page number, from 1");
export const perPage = (max: number, fallback: number) => wholeNumber(1, max).describe(`rows per page, 1 to ${max} (default ${fallback})`);

export const sortDir = z.enum(["asc", "desc"]);
export const format = z.enum(["json", "csv"]).describe("answer format; `Accept: text/csv` asks for CSV too");

export const mid = text(64).describe("merchant id (MID)");

/** A decimal amount such as `1000` or `1234.50`; kept as text so it reaches Postgres as an exact numeric. */
export const amount = z
  .string()
  .regex(/^\d{1,12}(\.\d{1,2})?$/, "expected an amount such as 1000 or 1234.50")
  .describe("a non-negative amount with up to two decimals");

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** A calendar day, YYYY-MM-DD. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date YYYY-MM-DD")
  .refine((v) => {
    const [y, m, d] = v.split("-").map(Number) as [number, number, number];
    return y >= YEAR_MIN && y <= YEAR_MAX && isRealDate(y, m, d);
  }, `expected a real date between ${YEAR_MIN} and ${YEAR_MAX}`);

export interface MonthKey {
  year: number;
  month: number;
}

/**
 * A period bound: a month (YYYY-MM) or a day (YYYY-MM-DD). Kept as text here; `boundDay` and `boundMonth` read it
 * the way a granularity needs.
 */
export const periodBound = z
  .string()
  .regex(/^\d{4}-\d{2}(-\d{2})?$/, "expected YYYY-MM or YYYY-MM-DD")
  .refine((v) => {
    const [y, m, d] = v.split("-").map(Number) as [number, number, number | undefined];
    return y >= YEAR_MIN && y <= YEAR_MAX && m >= 1 && m <= 12 && (d === undefined || isRealDate(y, m, d));
  }, `expected a real month or date between ${YEAR_MIN} and ${YEAR_MAX}`)
  .describe("a month YYYY-MM or a day YYYY-MM-DD");

/** Comma-separated merchant ids, 1 to `max` of them, duplicates dropped. */
export const midList = (max: number) =>
  z
    .string()
    .transform((v) => [...new Set(v.split(",").map((s) => s.trim()).filter(Boolean))])
    .pipe(z.array(text(64)).min(1, "name at least one mid").max(max, `at most ${max} mids`))
    .describe(`comma-separated merchant ids, at most ${max}`);

/** A month written YYYY-MM: the sync's own formatting, so both sides name months alike. */
export { monthLabel } from "../sync/planner.ts";
