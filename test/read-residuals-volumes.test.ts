import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { processors, residualSummaries } from "../src/db/schema.ts";
import { ResidualListResponse, ResidualSummaryResponse } from "../src/routes/residuals/schemas.ts";
import { VolumeResponse } from "../src/routes/volumes/schemas.ts";
import { FakeClock } from "./support/fake-clock.ts";
import {
  type Fixture,
  batch,
  fixtureDb,
  insertBatches,
  insertMerchants,
  insertResiduals,
  merchant,
  residual,
  tokenHeaders,
} from "./support/read-fixtures.ts";

let f: Fixture;
const app = createApp({ clock: new FakeClock({ start: Date.UTC(2026, 11, 4, 12, 0, 0) }) });
const auth = tokenHeaders("portal");

const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers: { ...auth, ...headers } }, f.env);
async function json<T = Record<string, unknown>>(path: string): Promise<T> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<T>();
}

beforeAll(async () => {
  f = await fixtureDb();
  await insertMerchants(f.db, [merchant("m1"), merchant("m2"), merchant("m3")]);
  await f.db.insert(processors).values({ name: "TSYS", processorId: 1 });
  await f.db.insert(residualSummaries).values({ processorId: 2, year: 2026, month: 10, processorName: "Paysafe" });
  await insertResiduals(f.db, [
    residual("m1", 2026, 10, { processorId: 1, salesAmount: "1000.10", income: "50.05", expense: "20.02", net: "30.03", agentNet: "15.01", transactions: 11 }),
    residual("m2", 2026, 10, { processorId: 1, salesAmount: "2000.20", income: "80.00", expense: "30.00", net: "50.00", agentNet: "25.00", transactions: 22 }),
    residual("m1", 2026, 10, { processorId: 2, salesAmount: "300.33", income: "9.99", expense: "19.99", net: "-10.00", agentNet: "-5.00", transactions: 3 }),
    residual("m3", 2026, 10, { processorId: 3, salesAmount: "0.00", income: "1.00", expense: "0.00", net: "1.00", agentNet: "0.50", transactions: 0 }),
    residual("m1", 2026, 9, { processorId: 1, salesAmount: "900.00", net: "27.00", transactions: 9 }),
    residual("m2", 2026, 7, { processorId: 1, salesAmount: "123.45", net: "2.00", transactions: 5 }),
    residual("m2", 2025, 12, { processorId: 2, salesAmount: "10.00", net: "0.10", transactions: 1 }),
  ]);
  await insertBatches(f.db, [
    batch("m1", "2026-11-30", "10.10", 1),
    batch("m1", "2026-12-01", "20.20", 2, "x"),
    batch("m1", "2026-12-01", "0.05", 1, "y"),
    batch("m2", "2026-12-01", "5.00", 5),
    batch("m2", "2026-12-03", "7.77", 7),
    batch("m2", "2025-12-03", "99.00", 9),
  ]);
});

afterAll(async () => {
  await f?.database.end();
});

type Rows = { data: Array<{ mid: string; year: number; month: number; processorId: number }>; total: number };

describe("GET /api/residuals", () => {
  it("lists every row, newest month first, with total equal to count(*)", async () => {
    const body = ResidualListResponse.parse(await json("/api/residuals"));
    const expected = await f.select<{ mid: string; year: number; month: number; processor_id: number }>(
      sql`select mid, year::int, month::int, processor_id from residuals order by year desc, month desc, processor_id, mid`,
    );
    expect(body.total).toBe(expected.length);
    expect(body.data.map((r) => [r.year, r.month, r.processorId, r.mid])).toEqual(expected.map((r) => [r.year, r.month, r.processor_id, r.mid]));
  });

  it("names processors from the processors table, else from the month's report", async () => {
    const body = ResidualListResponse.parse(await json("/api/residuals?year=2026&month=10"));
    expect(body.data.map((r) => [r.processorId, r.processorName])).toEqual([
      [1, "TSYS"],
      [1, "TSYS"],
      [2, "Paysafe"],
      [3, null],
    ]);
    expect(body.data[0]).toMatchObject({ mid: "m1", volume: "1000.10", net: "30.03", agentNet: "15.01", bps: "300.27", percentage: "50.0000" });
    expect(body.data[3]).toMatchObject({ mid: "m3", volume: "0.00", bps: null });
  });

  it.each([
    ["year=2026", sql`year = 2026`],
    ["year=2026&month=10", sql`year = 2026 and month = 10`],
    ["processorId=2", sql`processor_id = 2`],
    ["mid=m2", sql`mid = 'm2'`],
    ["year=2026&processorId=1&mid=m1", sql`year = 2026 and processor_id = 1 and mid = 'm1'`],
    ["year=2024", sql`year = 2024`],
  ])("filters %s as the database selects", async (query, where) => {
    const expected = await f.select<{ key: string }>(
      sql`select mid || ':' || processor_id || ':' || year || '-' || month as key from residuals where ${where}
          order by year desc, month desc, processor_id, mid`,
    );
    const body = await json<Rows>(`/api/residuals?${query}`);
    expect(body.data.map((r) => `${r.mid}:${r.processorId}:${r.year}-${r.month}`)).toEqual(expected.map((r) => r.key));
    expect(body.total).toBe(expected.length);
  });

  it("pages, and still counts past the last page", async () => {
    const one = await json<Rows>("/api/residuals?perPage=3&page=1");
    const two = await json<Rows>("/api/residuals?perPage=3&page=2");
    const three = await json<Rows>("/api/residuals?perPage=3&page=3");
    const all = await json<Rows>("/api/residuals");
    expect([...one.data, ...two.data, ...three.data]).toEqual(all.data);
    const past = await json<Rows>("/api/residuals?perPage=3&page=4");
    expect(past).toMatchObject({ data: [], total: 7 });
  });

  it("refuses a month without a year, a month 13 and a perPage over 500", async () => {
    for (const query of ["month=10", "year=2026&month=13", "perPage=501", "processorId=x", "year=1999"]) {
      expect((await get(`/api/residuals?${query}`)).status, query).toBe(400);
    }
  });

  it("answers CSV with the same filter", async () => {
    const res = await get("/api/residuals?mid=m1&year=2026", { Accept: "text/csv" });
    expect(res.headers.get("X-Total-Count")).toBe("3");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("year,month,processorId,processorName,mid,merchantName,transactions,volume,income,expense,net,agentNet,bps,percentage");
    expect(lines.slice(1)).toEqual([
      "2026,10,1,TSYS,m1,Merchant m1,11,1000.10,50.05,20.02,30.03,15.01,300.27,50.0000",
      "2026,10,2,Paysafe,m1,Merchant m1,3,300.33,9.99,19.99,-10.00,-5.00,-332.97,50.0000",
      "2026,9,1,TSYS,m1,Merchant m1,9,900.00,30.00,10.00,27.00,10.00,300.00,50.0000",
    ]);
  });
});

describe("GET /api/residuals/summary", () => {
  it("sums each processor's rows of the newest month by default, to the cent", async () => {
    const body = ResidualSummaryResponse.parse(await json("/api/residuals/summary"));
    expect(body.year).toBe(2026);
    expect(body.month).toBe(10);
    expect(body.data).toEqual([
      { processorId: 1, processorName: "TSYS", merchants: 2, transactions: 33, volume: "3000.30", income: "130.05", expense: "50.02", net: "80.03", agentNet: "40.01", bps: "266.74" },
      { processorId: 2, processorName: "Paysafe", merchants: 1, transactions: 3, volume: "300.33", income: "9.99", expense: "19.99", net: "-10.00", agentNet: "-5.00", bps: "-332.97" },
      { processorId: 3, processorName: null, merchants: 1, transactions: 0, volume: "0.00", income: "1.00", expense: "0.00", net: "1.00", agentNet: "0.50", bps: null },
    ]);
    expect(body.totals).toEqual({ merchants: 3, transactions: 36, volume: "3300.63", income: "141.04", expense: "70.01", net: "71.03", agentNet: "35.51", bps: "215.20" });
    const [db] = await f.select<{ volume: string; net: string }>(
      sql`select sum(sales_amount)::text as volume, sum(net)::text as net from residuals where year = 2026 and month = 10`,
    );
    expect([body.totals.volume, body.totals.net]).toEqual([db?.volume, db?.net]);
  });

  it("answers an empty month with zero totals", async () => {
    const body = ResidualSummaryResponse.parse(await json("/api/residuals/summary?year=2020&month=1"));
    expect(body.data).toEqual([]);
    expect(body.totals).toEqual({ merchants: 0, transactions: 0, volume: "0.00", income: "0.00", expense: "0.00", net: "0.00", agentNet: "0.00", bps: null });
  });

  it("wants year and month together", async () => {
    expect((await get("/api/residuals/summary?year=2026")).status).toBe(400);
    expect((await get("/api/residuals/summary?month=3")).status).toBe(400);
  });

  it("answers CSV, one line per processor", async () => {
    const text = await (await get("/api/residuals/summary?year=2026&month=10&format=csv")).text();
    expect(text.split("\r\n").slice(0, 2)).toEqual([
      "processorId,processorName,merchants,transactions,volume,income,expense,net,agentNet,bps",
      "1,TSYS,2,33,3000.30,130.05,50.02,80.03,40.01,266.74",
    ]);
  });
});

describe("GET /api/volumes", () => {
  it("defaults to the portfolio's batches for the 30 days ending today, every day present", async () => {
    const body = VolumeResponse.parse(await json("/api/volumes"));
    expect([body.granularity, body.from, body.to, body.mid]).toEqual(["day", "2026-11-05", "2026-12-04", null]);
    expect(body.data).toHaveLength(30);
    const day = new Map(body.data.map((p) => [p.period, p]));
    expect(day.get("2026-11-30")).toEqual({ period: "2026-11-30", volume: "10.10", transactions: 1 });
    expect(day.get("2026-12-01")).toEqual({ period: "2026-12-01", volume: "25.25", transactions: 8 });
    expect(day.get("2026-12-03")).toEqual({ period: "2026-12-03", volume: "7.77", transactions: 7 });
    expect(day.get("2026-12-02")).toEqual({ period: "2026-12-02", volume: "0.00", transactions: 0 });
    expect(body.totals).toEqual({ volume: "43.12", transactions: 16 });
  });

  it("reads one merchant's days between the bounds, a month bound meaning its first or last day", async () => {
    const body = VolumeResponse.parse(await json("/api/volumes?mid=m1&from=2026-11&to=2026-12-01"));
    expect([body.from, body.to, body.data.length]).toEqual(["2026-11-01", "2026-12-01", 31]);
    expect(body.totals).toEqual({ volume: "30.35", transactions: 4 });
    const [db] = await f.select<{ v: string }>(
      sql`select sum(amount)::text as v from merchant_batches where mid = 'm1' and batch_date between '2026-11-01' and '2026-12-01'`,
    );
    expect(body.totals.volume).toBe(db?.v);
  });

  it("reads months from residual rows' sales amount and transactions", async () => {
    const body = VolumeResponse.parse(await json("/api/volumes?granularity=month&from=2025-12&to=2026-10-15"));
    expect(body.data.map((p) => p.period)).toEqual([
      "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
    ]);
    expect(body.data[0]).toEqual({ period: "2025-12", volume: "10.00", transactions: 1 });
    expect(body.data.at(-1)).toEqual({ period: "2026-10", volume: "3300.63", transactions: 36 });
    expect(body.totals).toEqual({ volume: "4334.08", transactions: 51 });
    const m2 = VolumeResponse.parse(await json("/api/volumes?granularity=month&mid=m2&from=2026-07&to=2026-07"));
    expect(m2.data).toEqual([{ period: "2026-07", volume: "123.45", transactions: 5 }]);
  });

  it("defaults a monthly series to the 12 months ending this month", async () => {
    const body = VolumeResponse.parse(await json("/api/volumes?granularity=month"));
    expect([body.from, body.to, body.data.length]).toEqual(["2026-01", "2026-12", 12]);
  });

  it("answers 404 for an unknown mid and 400 for a reversed or too long range", async () => {
    expect((await get("/api/volumes?mid=nobody")).status).toBe(404);
    expect((await get("/api/volumes?from=2026-12-02&to=2026-12-01")).status).toBe(400);
    expect((await get("/api/volumes?from=2025-01-01&to=2026-01-02")).status).toBe(400);
    expect((await get("/api/volumes?from=2025-01-02&to=2026-01-02")).status).toBe(200);
    expect((await get("/api/volumes?granularity=month&from=2010-01&to=2020-01")).status).toBe(400);
    expect((await get("/api/volumes?from=2026-02-30")).status).toBe(400);
    expect((await get("/api/volumes?granularity=week")).status).toBe(400);
  });

  it("answers CSV", async () => {
    const text = await (await get("/api/volumes?from=2026-12-01&to=2026-12-03&format=csv")).text();
    expect(text).toBe("period,volume,transactions\r\n2026-12-01,25.25,8\r\n2026-12-02,0.00,0\r\n2026-12-03,7.77,7\r\n");
  });
});
