// Fixture rows for the read API tests, inserted straight into a test file's own database.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { type Database, createDb } from "../../src/db/client.ts";
import type { ReadDb } from "../../src/db/queries/common.ts";
import {
  type NewMerchant,
  type NewMerchantBatch,
  type NewResidual,
  type SyncRunStatus,
  merchantBatches,
  merchants,
  residuals,
  syncRunStreams,
  syncRuns,
} from "../../src/db/schema.ts";
import { testEnv } from "./database.ts";

export interface Fixture {
  env: Env;
  database: Database;
  db: ReadDb;
  /** Rows of a query run directly on the test database: the database's own answer. */
  select<T>(query: ReturnType<typeof sql>): Promise<T[]>;
}

export async function fixtureDb(overrides: Partial<Env> = {}): Promise<Fixture> {
  const env = await testEnv(overrides);
  const database = createDb(env, { maxConnections: 1 });
  const db = database.db as unknown as ReadDb;
  return { env, database, db, select: async <T>(query: ReturnType<typeof sql>) => (await db.execute(query)).rows as T[] };
}

export function merchant(mid: string, overrides: Partial<NewMerchant> = {}): NewMerchant {
  return {
    mid,
    name: `Merchant ${mid}`,
    status: "Open",
    active: true,
    processor: "TSYS",
    groupName: "West",
    opened: "2024-01-15",
    modified: new Date("2026-11-01T10:00:00Z"),
    ...overrides,
  };
}

export function residual(mid: string, year: number, month: number, overrides: Partial<NewResidual> = {}): NewResidual {
  return {
    mid,
    processorId: 1,
    year,
    month,
    merchantName: `Merchant ${mid}`,
    transactions: 10,
    salesAmount: "1000.00",
    income: "30.00",
    expense: "10.00",
    net: "20.00",
    bps: "0.2000",
    percentage: "50.0000",
    agentNet: "10.00",
    ...overrides,
  };
}

export function batch(mid: string, day: string, amount: string, count: number, ref = `${mid}-${day}`): NewMerchantBatch {
  return { mid, batchDate: day, referenceNumber: ref, amount, count, terminalNumber: "T1" };
}

export async function insertMerchants(db: ReadDb, rows: NewMerchant[]): Promise<void> {
  if (rows.length) await db.insert(merchants).values(rows);
}

export async function insertResiduals(db: ReadDb, rows: NewResidual[]): Promise<void> {
  if (rows.length) await db.insert(residuals).values(rows);
}

export async function insertBatches(db: ReadDb, rows: NewMerchantBatch[]): Promise<void> {
  if (rows.length) await db.insert(merchantBatches).values(rows);
}

/** A finished sync run covering `stream`, with the stream ended `status` at `finishedAt`. */
export async function recordSync(db: ReadDb, stream: string, finishedAt: Date, status: SyncRunStatus = "succeeded"): Promise<void> {
  const [run] = await db
    .insert(syncRuns)
    .values({ trigger: "cron", mode: "incremental", status, streams: [stream], createdAt: new Date(finishedAt.getTime() - 60_000), finishedAt })
    .returning({ id: syncRuns.id });
  await db.insert(syncRunStreams).values({ runId: run!.id, stream, status, startedAt: new Date(finishedAt.getTime() - 60_000), finishedAt });
}

export async function clearSyncs(db: ReadDb): Promise<void> {
  await db.execute(sql`delete from sync_runs`);
}

/** The Authorization header for the test env's portal or admin token. */
export function tokenHeaders(role: "portal" | "admin"): Record<string, string> {
  const token = role === "portal" ? env.PORTAL_API_TOKEN : env.ADMIN_API_TOKEN;
  if (!token) throw new Error(`the test env has no ${role} token`);
  return { Authorization: `Bearer ${token}` };
}
