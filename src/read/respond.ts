// What every read route does around its query: one database connection per request, the freshness of the
// streams it draws on, and the answer as JSON or CSV.
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app.ts";
import type { ReadDb } from "../db/queries/common.ts";
import { lastSuccessfulSyncs } from "../db/queries/freshness.ts";
import { ApiError } from "../http-errors.ts";
import { withRequestDb } from "../services.ts";
import type { SyncStream } from "../sync/streams.ts";
import { toCsv } from "./csv.ts";
import { type Freshness, freshnessReport } from "./freshness.ts";

/** Runs `work` on a connection of its own and ends it after the answer (waitUntil when there is a context). */
export function withReadDb<T>(c: Context<AppEnv>, work: (db: ReadDb) => Promise<T>): Promise<T> {
  return withRequestDb<ReadDb, T>(c, work);
}

/** Runs the route's queries, then reads the freshness of `streams` on the same connection. */
export async function readFresh<T>(
  c: Context<AppEnv>,
  streams: readonly SyncStream[],
  work: (db: ReadDb) => Promise<T>,
): Promise<{ result: T; freshness: Freshness }> {
  return withReadDb(c, async (db) => {
    const result = await work(db);
    const freshness = freshnessReport(await lastSuccessfulSyncs(db, streams), c.var.clock.now());
    return { result, freshness };
  });
}

/** CSV when asked with `format=csv`, or with `Accept: text/csv` unless `format=json` says otherwise. */
export function wantsCsv(c: Context, format: "json" | "csv" | undefined): boolean {
  // The same URL answers JSON or CSV by the Accept header, so a cache must key on it.
  c.header("Vary", "Accept", { append: true });
  if (format) return format === "csv";
  return /\btext\/csv\b/i.test(c.req.header("Accept") ?? "");
}

/** Freshness in headers, for answers (CSV) that have no JSON body to carry it. */
export function freshnessHeaders(freshness: Freshness): Record<string, string> {
  const streams = Object.entries(freshness.streams)
    .map(([name, s]) => `${name}=${s.verdict};${s.lastSyncedAt ?? "never"}`)
    .join(", ");
  return { "X-Data-Freshness": freshness.verdict, "X-Data-Freshness-Streams": streams };
}

/** Dotted column names of a row schema, in its key order; nested objects are flattened as `toCsv` does. */
export function columnsOf(schema: z.ZodType, prefix = ""): string[] {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodNullable || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  if (!(s instanceof z.ZodObject)) return [prefix];
  return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([key, value]) => columnsOf(value, prefix ? `${prefix}.${key}` : key));
}

export interface CsvOptions {
  filename: string;
  rows: readonly object[];
  rowSchema: z.ZodType;
  freshness: Freshness;
  headers?: Record<string, string>;
}

export function csvAnswer(c: Context, options: CsvOptions): Response {
  const headers = {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="${options.filename}"`,
    ...freshnessHeaders(options.freshness),
    ...options.headers,
  };
  return c.body(toCsv(options.rows, columnsOf(options.rowSchema)), 200, headers);
}

/** A 400 in the same shape as the validator's, for rules that need the clock or the database to check. */
export function invalidQuery(path: string, message: string): ApiError {
  return new ApiError(400, "invalid query", { details: [{ path, message }] });
}
