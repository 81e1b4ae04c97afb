// SQL building blocks shared by the read queries. Money stays numeric inside Postgres and leaves it as text with
// exactly two decimals; nothing here is ever built from request input except through parameters.
import { type SQL, sql } from "drizzle-orm";
import type { NeonQueryResultHKT } from "drizzle-orm/neon-serverless";
import type { PgDatabase } from "drizzle-orm/pg-core";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ReadDb = PgDatabase<NeonQueryResultHKT, any>;

export async function rows<T>(db: ReadDb, query: SQL): Promise<T[]> {
  return (await db.execute(query)).rows as T[];
}

/** A sum or amount as text with two decimals; null counts as zero. */
export const money = (expr: SQL) => sql`round(coalesce(${expr}, 0), 2)::text`;

/** A count as a JSON number: integers below 2^53 are exact in float8, and pg hands bigint over as text. */
export const count = (expr: SQL) => sql`coalesce(${expr}, 0)::float8`;

/** Unrounded basis points: net ÷ volume × 10,000, null when there is no volume. */
export const bpsRaw = (net: SQL, volume: SQL) => sql`((${net}) * 10000 / nullif(${volume}, 0))`;

/** BPS as text with two decimals, or null. */
export const bps = (net: SQL, volume: SQL) => sql`round(${bpsRaw(net, volume)}, 2)::text`;

export const isoDate = (expr: SQL) => sql`to_char(${expr}, 'YYYY-MM-DD')`;
export const isoTimestamp = (expr: SQL) => sql`to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A text[] parameter (drizzle would otherwise spread an array into a parenthesised list). */
export const textArray = (values: readonly string[]) => sql`${sql.param([...values])}::text[]`;

/** Escapes LIKE wildcards so a search term matches literally (used with `escape '\'`). */
export function likeContains(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * The figures every monthly view reports, with how each leaves SQL. `transactions` and `merchants` are counts;
 * `bps` is derived from net and volume after summing, never summed itself.
 */
export const FIGURES = ["volume", "transactions", "income", "expense", "net", "bps"] as const;
export type Figure = (typeof FIGURES)[number];

export interface Change {
  /** current − previous: money and BPS as two-decimal text, counts as numbers. */
  delta: string | number | null;
  /** (current − previous) ÷ |previous| × 100, two decimals; null when previous is zero or missing. */
  percent: string | null;
}

/**
 * Change columns from the raw (unrounded numeric) figures of two rows: `cur(x)` and `prev(x)` return the SQL of
 * figure x's column. Each figure yields `<prefix>_<figure>_delta` and `<prefix>_<figure>_percent`.
 */
export function changeColumns(prefix: string, figures: readonly string[], cur: (f: string) => SQL, prev: (f: string) => SQL): SQL {
  const parts = figures.map((f) => {
    const c = cur(f);
    const p = prev(f);
    const isCount = f === "transactions" || f === "merchants";
    const delta = isCount ? sql`(${c} - ${p})::float8` : sql`round(${c} - ${p}, 2)::text`;
    return sql`${delta} as ${sql.identifier(`${prefix}_${f}_delta`)}, round((${c} - ${p})::numeric * 100 / nullif(abs(${p}), 0), 2)::text as ${sql.identifier(`${prefix}_${f}_percent`)}`;
  });
  return sql.join(parts, sql`, `);
}

/** Reads the columns `changeColumns` produced back into `{ figure: { delta, percent } }`. */
export function readChanges(row: Record<string, unknown>, prefix: string, figures: readonly string[]): Record<string, Change> {
  const out: Record<string, Change> = {};
  for (const f of figures) {
    out[f] = {
      delta: (row[`${prefix}_${f}_delta`] ?? null) as string | number | null,
      percent: (row[`${prefix}_${f}_percent`] ?? null) as string | null,
    };
  }
  return out;
}
