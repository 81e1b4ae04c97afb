import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client.ts";
import type { NewMerchant, NewMerchantBatch, NewResidual } from "../src/db/schema.ts";
import {
  recordProcessorIds,
  replaceMerchantBatches,
  replaceResidualMonth,
  replaceResidualSummaries,
  stagePage,
  upsertMerchants,
  upsertProcessors,
} from "../src/db/writes.ts";
import type { SyncDb } from "../src/sync/runs.ts";
import { testEnv } from "./support/database.ts";

let database: ReturnType<typeof createDb>;
let db: SyncDb;

beforeAll(async () => {
  database = createDb(await testEnv(), { maxConnections: 1 });
  db = database.db as unknown as SyncDb;
});
afterAll(async () => {
  await database?.end();
});

async function select<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return (await db.execute(query)).rows as T[];
}

function merchant(mid: string, overrides: Partial<NewMerchant> = {}): NewMerchant {
  return {
    mid,
    name: `Merchant ${mid}`,
    status: "Open",
    active: true,
    processor: "TSYS",
    groupName: "West",
    datasource: "TSYS Omaha",
    sicCode: "5812",
    vim: "No",
    opened: "2024-01-02",
    closed: null,
    firstBatch: "2024-01-05",
    lastBatch: "2026-11-30",
    deactivated: null,
    created: new Date("2024-01-01T10:00:00Z"),
    modified: new Date("2026-11-01T10:00:00Z"),
    leadIds: ["20001", "20002"],
    ...overrides,
  };
}

function residual(mid: string, net: string): NewResidual {
  return {
    mid,
    processorId: 7,
    year: 2026,
    month: 10,
    merchantName: `Merchant ${mid}`,
    transactions: 12,
    salesAmount: "12345678901.23",
    income: "10.01",
    expense: "3.30",
    net,
    bps: "0.2900",
    percentage: "35.0000",
    agentNet: "2.22",
  };
}

function batch(mid: string, day: string, ref: string, amount: string): NewMerchantBatch {
  return { mid, batchDate: day, referenceNumber: ref, amount, count: 3, terminalNumber: "70000001" };
}

describe("merchant upserts", () => {
  it("inserts merchants with exact values, lead ids in order", async () => {
    const written = await upsertMerchants(db, [merchant("m-1"), merchant("m-2", { leadIds: [] })]);
    expect(written).toBe(2);
    const rows = await select<Record<string, unknown>>(
      sql`select mid, name, active, opened::text, modified, lead_ids from merchants where mid in ('m-1', 'm-2') order by mid`,
    );
    expect(rows).toEqual([
      expect.objectContaining({ mid: "m-1", name: "Merchant m-1", active: true, opened: "2024-01-02", lead_ids: ["20001", "20002"] }),
      expect.objectContaining({ mid: "m-2", lead_ids: [] }),
    ]);
    expect(new Date(rows[0]!.modified as string).toISOString()).toBe("2026-11-01T10:00:00.000Z");
  });

  it("never lets an older modified overwrite a newer row", async () => {
    await upsertMerchants(db, [merchant("m-3", { name: "New name", modified: new Date("2026-11-10T00:00:00Z") })]);
    const written = await upsertMerchants(db, [merchant("m-3", { name: "Stale name", modified: new Date("2026-11-09T00:00:00Z") })]);
    expect(written).toBe(0);
    const [row] = await select<{ name: string }>(sql`select name from merchants where mid = 'm-3'`);
    expect(row?.name).toBe("New name");
  });

  it("rewrites a changed row and leaves an unchanged one alone", async () => {
    await upsertMerchants(db, [merchant("m-4"), merchant("m-5")]);
    const written = await upsertMerchants(db, [
      merchant("m-4", { name: "Renamed", modified: new Date("2026-11-02T00:00:00Z") }),
      merchant("m-5"),
    ]);
    expect(written).toBe(1);
    const [row] = await select<{ name: string }>(sql`select name from merchants where mid = 'm-4'`);
    expect(row?.name).toBe("Renamed");
  });

  it("keeps the newest of duplicates within one call", async () => {
    const written = await upsertMerchants(db, [
      merchant("m-6", { name: "Newest", modified: new Date("2026-11-03T00:00:00Z") }),
      merchant("m-6", { name: "Older", modified: new Date("2026-11-02T00:00:00Z") }),
    ]);
    expect(written).toBe(1);
    const [row] = await select<{ name: string }>(sql`select name from merchants where mid = 'm-6'`);
    expect(row?.name).toBe("Newest");
  });

  it("writes thousands of rows in a few statements", async () => {
    const many = Array.from({ length: 12_000 }, (_, i) => merchant(`bulk-${String(i).padStart(5, "0")}`));
    expect(await upsertMerchants(db, many)).toBe(12_000);
    const [count] = await select<{ n: string }>(sql`select count(*)::text as n from merchants where mid like 'bulk-%'`);
    expect(count?.n).toBe("12000");
  });
});

describe("processors", () => {
  it("keeps an id learnt from residual reports when GET /processors brings none, and moves a reused id", async () => {
    await recordProcessorIds(db, [{ name: "First Data", processorId: 3 }]);
    await upsertProcessors(db, [{ name: "First Data", datasources: [{ id: 11, name: "FD North" }] }]);
    expect(await select(sql`select name, processor_id, datasources from processors where name = 'First Data'`)).toEqual([
      { name: "First Data", processor_id: 3, datasources: [{ id: 11, name: "FD North" }] },
    ]);
    await recordProcessorIds(db, [{ name: "Fiserv", processorId: 3 }]);
    expect(await select(sql`select name, processor_id from processors where name in ('First Data', 'Fiserv') order by name`)).toEqual([
      { name: "First Data", processor_id: null },
      { name: "Fiserv", processor_id: 3 },
    ]);
  });
});

describe("replacing a residual month", () => {
  const target = { processorId: 7, year: 2026, month: 10, summaryModified: "2026-11-05T10:00:00Z" };

  it("stores money exactly and replaces the month: rows dropped, added and changed", async () => {
    await replaceResidualSummaries(db, 2026, 10, [{ processorId: 7, year: 2026, month: 10, merchantsCount: 3, sumNet: "1.00" }]);
    const first = await replaceResidualMonth(db, target, [residual("a", "1.10"), residual("b", "2.20"), residual("c", "3.30")]);
    expect(first).toEqual({ deleted: 0, upserted: 3 });
    const second = await replaceResidualMonth(db, target, [residual("b", "2.20"), residual("c", "9.99"), residual("d", "4.40")]);
    expect(second).toEqual({ deleted: 1, upserted: 2 });
    expect(
      await select(sql`select mid, net::text, sales_amount::text from residuals where processor_id = 7 and year = 2026 and month = 10 order by mid`),
    ).toEqual([
      { mid: "b", net: "2.20", sales_amount: "12345678901.23" },
      { mid: "c", net: "9.99", sales_amount: "12345678901.23" },
      { mid: "d", net: "4.40", sales_amount: "12345678901.23" },
    ]);
    const [summary] = await select<{ rows_synced_for: string }>(
      sql`select rows_synced_for from residual_summaries where processor_id = 7 and year = 2026 and month = 10`,
    );
    expect(new Date(summary!.rows_synced_for).toISOString()).toBe("2026-11-05T10:00:00.000Z");
  });

  it("combines staged pages with the last pages, the later page winning, and clears the staging", async () => {
    const t = { ...target, month: 9 };
    await replaceResidualMonth(db, t, [residual("old", "5.00")].map((r) => ({ ...r, month: 9 })));
    const [unit] = await seedUnit();
    await stagePage(db, unit!, 1, [residual("x", "1.00"), residual("y", "2.00")]);
    await stagePage(db, unit!, 2, [residual("y", "2.50")]);
    const written = await replaceResidualMonth(db, { ...t, unitId: unit! }, [residual("z", "3.00")].map((r) => ({ ...r, month: 9 })));
    expect(written.deleted).toBe(1);
    expect(await select(sql`select mid, net::text from residuals where processor_id = 7 and year = 2026 and month = 9 order by mid`)).toEqual([
      { mid: "x", net: "1.00" },
      { mid: "y", net: "2.50" },
      { mid: "z", net: "3.00" },
    ]);
    expect(await select(sql`select * from sync_unit_pages where unit_id = ${unit!}`)).toEqual([]);
  });

  it("removes a processor's summary and rows when the month's summary no longer lists it", async () => {
    await replaceResidualSummaries(db, 2026, 8, [
      { processorId: 7, year: 2026, month: 8, sumNet: "1.00" },
      { processorId: 8, year: 2026, month: 8, sumNet: "2.00" },
    ]);
    await replaceResidualMonth(db, { processorId: 8, year: 2026, month: 8, summaryModified: null }, [{ ...residual("q", "1.00"), processorId: 8, month: 8 }]);
    const result = await replaceResidualSummaries(db, 2026, 8, [{ processorId: 7, year: 2026, month: 8, sumNet: "1.00" }]);
    expect(result).toEqual({ upserted: 0, deleted: 2 });
    expect(await select(sql`select processor_id from residual_summaries where year = 2026 and month = 8`)).toEqual([{ processor_id: 7 }]);
    expect(await select(sql`select mid from residuals where year = 2026 and month = 8`)).toEqual([]);
  });
});

describe("replacing merchant batches in a window", () => {
  it("deletes batches IRIS no longer lists in the window, keeps those outside it", async () => {
    await replaceMerchantBatches(db, { mids: ["v-1", "v-2"], start: "2026-11-01", end: "2026-11-30" }, [
      batch("v-1", "2026-10-15", "r0", "5.00"),
      batch("v-1", "2026-11-02", "r1", "10.00"),
      batch("v-1", "2026-11-03", "r2", "20.00"),
      batch("v-2", "2026-11-03", "r3", "30.00"),
    ]);
    const result = await replaceMerchantBatches(db, { mids: ["v-1", "v-2"], start: "2026-11-01", end: "2026-11-30" }, [
      batch("v-1", "2026-11-03", "r2", "21.50"),
      batch("v-2", "2026-11-03", "r3", "30.00"),
      batch("v-2", "2026-11-04", "r4", "0.01"),
    ]);
    expect(result).toEqual({ deleted: 1, upserted: 2 });
    expect(
      await select(sql`select mid, batch_date::text as day, reference_number as ref, amount::text from merchant_batches
        where mid in ('v-1', 'v-2') order by mid, batch_date, reference_number`),
    ).toEqual([
      { mid: "v-1", day: "2026-10-15", ref: "r0", amount: "5.00" },
      { mid: "v-1", day: "2026-11-03", ref: "r2", amount: "21.50" },
      { mid: "v-2", day: "2026-11-03", ref: "r3", amount: "30.00" },
      { mid: "v-2", day: "2026-11-04", ref: "r4", amount: "0.01" },
    ]);
  });

  it("takes a merchant's earlier pages from the staging", async () => {
    const [unit] = await seedUnit();
    await stagePage(db, unit!, 1, [batch("v-3", "2026-11-05", "s1", "1.00")]);
    const result = await replaceMerchantBatches(db, { mids: ["v-3"], start: "2026-11-01", end: "2026-11-30", unitId: unit! }, [
      batch("v-3", "2026-11-06", "s2", "2.00"),
    ]);
    expect(result).toEqual({ deleted: 0, upserted: 2 });
    expect(await select(sql`select reference_number as ref from merchant_batches where mid = 'v-3' order by ref`)).toEqual([
      { ref: "s1" },
      { ref: "s2" },
    ]);
  });
});

/** A unit to hang staged pages on. */
async function seedUnit(): Promise<number[]> {
  const [run] = await select<{ id: string }>(
    sql`insert into sync_runs (trigger, mode, streams) values ('manual', 'full', '{residuals}') returning id`,
  );
  const units = await select<{ id: string }>(
    sql`insert into sync_units (run_id, stream, kind, unit_key) values (${run!.id}, 'residuals', 'residual-rows', ${crypto.randomUUID()}) returning id`,
  );
  return units.map((u) => Number(u.id));
}
