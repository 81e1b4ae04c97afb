import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { CompareResponse, MerchantDetailResponse, MerchantListResponse } from "../src/routes/merchants/schemas.ts";
import { FakeClock } from "./support/fake-clock.ts";
import {
  type Fixture,
  batch,
  fixtureDb,
  insertBatches,
  insertMerchants,
  insertResiduals,
  merchant,
  recordSync,
  residual,
  tokenHeaders,
} from "./support/read-fixtures.ts";

let f: Fixture;
const clock = new FakeClock({ start: Date.UTC(2026, 11, 4, 12, 0, 0) });
const app = createApp({ clock });
const auth = tokenHeaders("portal");

async function get(path: string, headers: Record<string, string> = {}) {
  return app.request(path, { headers: { ...auth, ...headers } }, f.env);
}

async function json<T = Record<string, unknown>>(path: string): Promise<T> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<T>();
}

beforeAll(async () => {
  f = await fixtureDb();
  await insertMerchants(f.db, [
    merchant("100001", { name: "Alpha Diner", processor: "TSYS", groupName: "West", opened: "2024-03-01", modified: new Date("2026-10-01T08:00:00Z") }),
    merchant("100002", { name: "beta bakery", processor: "First Data", groupName: "East", opened: "2023-05-10", modified: new Date("2026-11-02T09:30:00Z") }),
    merchant("100003", { name: "Gamma 50% Off_Store", status: "Closed", active: false, groupName: "East", opened: "2022-01-01", closed: "2026-09-30" }),
    merchant("100004", { name: null, groupName: null, opened: null, modified: null }),
    merchant("200005", { name: "Delta Gas", status: "Pending", processor: "Paysafe", opened: "2025-07-04", modified: new Date("2026-06-01T00:00:00Z") }),
    merchant("200006", { name: "Epsilon", processor: "First Data", opened: "2021-02-02", modified: new Date("2025-12-31T23:59:59Z") }),
    merchant("200007", { name: 'Zeta, "Quoted"\nLine', opened: "2020-10-10" }),
    merchant("200008", { name: "=HYPERLINK(1)", status: "open", opened: "2026-01-01" }),
  ]);
  await insertResiduals(f.db, [
    residual("100001", 2025, 10, { salesAmount: "800.00", net: "16.00", income: "20.00", expense: "4.00", transactions: 8 }),
    residual("100001", 2026, 9, { salesAmount: "1000.00", net: "25.00", income: "30.00", expense: "5.00", transactions: 10 }),
    residual("100001", 2026, 10, { salesAmount: "1000.00", net: "30.00", income: "40.00", expense: "10.00", transactions: 10 }),
    residual("100001", 2026, 10, { processorId: 2, salesAmount: "250.50", net: "5.05", income: "6.00", expense: "0.95", transactions: 4 }),
    residual("100002", 2026, 10, { salesAmount: "3000.00", net: "60.00" }),
    residual("200005", 2026, 10, { salesAmount: "500.00", net: "-12.34" }),
    residual("200006", 2026, 10, { salesAmount: "3000.00", net: "45.00" }),
    residual("200006", 2026, 8, { salesAmount: "9999.99", net: "99.99" }),
    residual("100003", 2026, 8, { salesAmount: "100.00", net: "1.00" }),
  ]);
  await insertBatches(f.db, [
    batch("100001", "2026-11-04", "999.99", 9),
    batch("100001", "2026-11-05", "100.10", 2),
    batch("100001", "2026-11-20", "50.00", 1, "a"),
    batch("100001", "2026-11-20", "25.25", 3, "b"),
    batch("100001", "2026-12-04", "10.01", 1),
    batch("100002", "2026-11-20", "777.77", 7),
  ]);
  await recordSync(f.db, "merchants", new Date("2026-12-04T06:00:00Z"));
  await recordSync(f.db, "residuals", new Date("2026-12-02T06:00:00Z"));
});

afterAll(async () => {
  await f?.database.end();
});

type ListBody = { data: Array<{ mid: string; volume: string | null; net: string | null }>; total: number; page: number; perPage: number };

async function allMids(query: string): Promise<{ mids: string[]; total: number }> {
  const body = await json<ListBody>(`/api/merchants?perPage=500${query}`);
  return { mids: body.data.map((r) => r.mid), total: body.total };
}

async function dbMids(where: ReturnType<typeof sql>): Promise<string[]> {
  const found = await f.select<{ mid: string }>(sql`select mid from merchants where ${where} order by lower(name) asc nulls last, mid asc`);
  return found.map((r) => r.mid);
}

describe("GET /api/merchants", () => {
  it("answers in the documented shape, with total equal to count(*) of the merchants table", async () => {
    const body = await json("/api/merchants");
    MerchantListResponse.parse(body);
    const [counted] = await f.select<{ n: number }>(sql`select count(*)::int as n from merchants`);
    expect(body.total).toBe(counted?.n);
    expect(body.page).toBe(1);
    expect(body.perPage).toBe(50);
    expect(body.latestMonth).toEqual({ year: 2026, month: 10 });
  });

  it.each([
    ["status=open", sql`lower(status) = 'open'`],
    ["status=CLOSED", sql`lower(status) = 'closed'`],
    ["processor=first%20data", sql`lower(processor) = 'first data'`],
    ["group=west", sql`lower(group_name) = 'west'`],
    ["q=50%25", sql`lower(name) like '%50\\%%' escape '\\'`],
    ["q=_", sql`position('_' in lower(coalesce(name, ''))) > 0 or position('_' in mid) > 0`],
    ["q=2000", sql`mid like '%2000%'`],
    ["q=BAKERY", sql`lower(name) like '%bakery%'`],
    ["status=open&processor=tsys&group=west", sql`lower(status) = 'open' and lower(processor) = 'tsys' and lower(group_name) = 'west'`],
  ])("filters %s exactly as the database selects them", async (query, where) => {
    const expected = await dbMids(where);
    expect(expected.length).toBeGreaterThan(0);
    const { mids, total } = await allMids(`&${query}`);
    expect(mids).toEqual(expected);
    expect(total).toBe(expected.length);
  });

  it("finds nothing, with total 0, when no merchant matches", async () => {
    const body = await json<ListBody>("/api/merchants?q=no-such-merchant");
    expect(body.data).toEqual([]);
    expect(body.total).toBe(0);
  });

  const sortColumns = {
    name: sql`lower(m.name)`,
    mid: sql`m.mid`,
    modified: sql`m.modified`,
    opened: sql`m.opened`,
    volume: sql`lt.volume`,
    net: sql`lt.net`,
  };
  for (const [sort, column] of Object.entries(sortColumns)) {
    for (const dir of ["asc", "desc"] as const) {
      it(`sorts by ${sort} ${dir} as the database orders it, ties by mid`, async () => {
        const found = await f.select<{ mid: string }>(
          sql`with lm as (select year, month from residuals order by year desc, month desc limit 1),
              lt as (select r.mid, sum(r.sales_amount) as volume, sum(r.net) as net from residuals r, lm
                     where r.year = lm.year and r.month = lm.month group by r.mid)
              select m.mid from merchants m left join lt on lt.mid = m.mid
              order by ${column} ${dir === "asc" ? sql`asc` : sql`desc`} nulls last, m.mid asc`,
        );
        const { mids } = await allMids(`&sort=${sort}&dir=${dir}`);
        expect(mids).toEqual(found.map((r) => r.mid));
      });
    }
  }

  it("pages through the list without overlap or gaps, and reports the total past the last page", async () => {
    const full = (await allMids("&sort=volume&dir=desc")).mids;
    const pages: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const body = await json<ListBody>(`/api/merchants?sort=volume&dir=desc&perPage=3&page=${page}`);
      expect(body.total).toBe(full.length);
      pages.push(...body.data.map((r) => r.mid));
    }
    expect(pages).toEqual(full);
    const past = await json<ListBody>("/api/merchants?perPage=3&page=9&status=open");
    expect(past.data).toEqual([]);
    expect(past.total).toBe((await dbMids(sql`lower(status) = 'open'`)).length);
  });

  it("gives each merchant its latest residual month's volume and net, summed over processors", async () => {
    const body = await json<ListBody>("/api/merchants?perPage=500");
    const byMid = new Map(body.data.map((r) => [r.mid, r]));
    expect(byMid.get("100001")).toMatchObject({ volume: "1250.50", net: "35.05", transactions: 14 });
    expect(byMid.get("200005")).toMatchObject({ volume: "500.00", net: "-12.34" });
    // 200006 has an older month only in August; the latest month is October.
    expect(byMid.get("100003")).toMatchObject({ volume: null, net: null, transactions: null });
  });

  it("rejects bad parameters with 400 and names them", async () => {
    for (const query of ["perPage=501", "perPage=0", "page=-1", "sort=volume;drop", "dir=up", "status=", "extra=1", "q=a%00b"]) {
      const res = await get(`/api/merchants?${query}`);
      expect(res.status, query).toBe(400);
      const body = await res.json<{ error: string; details: Array<{ path: string }> }>();
      expect(body.error).toBe("invalid query");
      expect(body.details.length).toBeGreaterThan(0);
    }
  });
});

describe("merchants as CSV", () => {
  it("answers the same rows as CSV with format=csv or Accept: text/csv, quoting what needs it", async () => {
    const viaFormat = await get("/api/merchants?format=csv&sort=mid");
    const viaAccept = await get("/api/merchants?sort=mid", { Accept: "text/csv" });
    expect(viaFormat.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(viaFormat.headers.get("X-Total-Count")).toBe("8");
    expect(viaFormat.headers.get("X-Data-Freshness")).toBe("recent");
    const text = await viaFormat.text();
    expect(await viaAccept.text()).toBe(text);
    const lines = text.split("\r\n");
    expect(lines[0]).toBe("mid,name,status,active,processor,group,opened,closed,modified,volume,transactions,net");
    expect(lines[1]).toBe("100001,Alpha Diner,Open,true,TSYS,West,2024-03-01,,2026-10-01T08:00:00.000Z,1250.50,14,35.05");
    expect(text).toContain('200007,"Zeta, ""Quoted""\nLine",Open');
    expect(text).toContain("200008,'=HYPERLINK(1),open");
    expect(text).toContain("200005,Delta Gas,Pending,true,Paysafe,West,2025-07-04,,2026-06-01T00:00:00.000Z,500.00,10,-12.34");
    expect(lines.at(-1)).toBe("");
    // The header, 8 records (the quoted LF inside one is not a record break) and the empty rest after the last CRLF.
    expect(lines).toHaveLength(1 + 8 + 1);
  });

  it("applies the same filters to CSV", async () => {
    const text = await (await get("/api/merchants?format=csv&status=closed")).text();
    expect(text.trim().split("\r\n").slice(1).map((l) => l.split(",")[0])).toEqual(["100003"]);
  });

  it("keeps JSON when format=json even if the Accept header asks for CSV, and says answers vary by Accept", async () => {
    const res = await get("/api/merchants?format=json", { Accept: "text/csv" });
    expect(res.headers.get("Content-Type")).toContain("application/json");
    expect(res.headers.get("Vary")).toContain("Accept");
    expect((await get("/api/merchants?format=csv")).headers.get("Vary")).toContain("Accept");
  });
});

describe("GET /api/merchants/:mid", () => {
  it("answers 404 for an unknown mid", async () => {
    const res = await get("/api/merchants/999999");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "merchant not found", details: { mid: "999999" } });
  });

  it("returns the merchant, its monthly history with hand-checked changes, and 30 days of batch volume", async () => {
    const body = await json<Record<string, unknown>>("/api/merchants/100001");
    const parsed = MerchantDetailResponse.parse(body);
    expect(parsed.merchant).toMatchObject({ mid: "100001", name: "Alpha Diner", opened: "2024-03-01", modified: "2026-10-01T08:00:00.000Z" });

    // From its first month with rows (2025-10) to the portfolio's latest month (2026-10).
    expect(parsed.history.map((h) => h.month)).toEqual([
      "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04",
      "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
    ]);
    const october = parsed.history.at(-1);
    expect(october).toMatchObject({ volume: "1250.50", transactions: 14, income: "46.00", expense: "10.95", net: "35.05", bps: "280.29" });
    // Against September (1000.00 volume, 25.00 net, BPS 250.00).
    expect(october?.change.mom.volume).toEqual({ delta: "250.50", percent: "25.05" });
    expect(october?.change.mom.net).toEqual({ delta: "10.05", percent: "40.20" });
    expect(october?.change.mom.transactions).toEqual({ delta: 4, percent: "40.00" });
    expect(october?.change.mom.bps).toEqual({ delta: "30.29", percent: "12.12" });
    // Against October 2025 (800.00 volume, 16.00 net).
    expect(october?.change.yoy.volume).toEqual({ delta: "450.50", percent: "56.31" });
    expect(october?.change.yoy.net).toEqual({ delta: "19.05", percent: "119.06" });
    const november = parsed.history[1];
    expect(november).toMatchObject({ volume: "0.00", net: "0.00", bps: null });
    expect(november?.change.mom.volume).toEqual({ delta: "-800.00", percent: "-100.00" });
    // The first month shown still compares with the months before it, which had no rows.
    expect(parsed.history[0]?.change.mom.volume).toEqual({ delta: "800.00", percent: null });

    expect(parsed.daily.from).toBe("2026-11-05");
    expect(parsed.daily.to).toBe("2026-12-04");
    expect(parsed.daily.data).toHaveLength(30);
    const daily = new Map(parsed.daily.data.map((d) => [d.period, d]));
    expect(daily.get("2026-11-05")).toEqual({ period: "2026-11-05", volume: "100.10", transactions: 2 });
    expect(daily.get("2026-11-20")).toEqual({ period: "2026-11-20", volume: "75.25", transactions: 4 });
    expect(daily.get("2026-12-04")).toEqual({ period: "2026-12-04", volume: "10.01", transactions: 1 });
    expect(daily.get("2026-11-21")).toEqual({ period: "2026-11-21", volume: "0.00", transactions: 0 });
    expect(parsed.daily.totals).toEqual({ volume: "185.36", transactions: 7 });

    expect(parsed.freshness.streams).toEqual({
      merchants: { lastSyncedAt: "2026-12-04T06:00:00.000Z", ageSeconds: 21600, verdict: "fresh" },
      residuals: { lastSyncedAt: "2026-12-02T06:00:00.000Z", ageSeconds: 194400, verdict: "recent" },
      volumes: { lastSyncedAt: null, ageSeconds: null, verdict: "stale" },
    });
    expect(parsed.freshness.verdict).toBe("stale");
  });

  it("gives an empty history to a merchant without residual rows", async () => {
    const body = MerchantDetailResponse.parse(await json("/api/merchants/200008"));
    expect(body.history).toEqual([]);
    expect(body.daily.totals).toEqual({ volume: "0.00", transactions: 0 });
  });
});

describe("GET /api/merchants/compare", () => {
  it("returns one history per merchant over one shared range of months, in the order asked", async () => {
    const body = CompareResponse.parse(await json("/api/merchants/compare?mids=200006,100001,200006"));
    expect(body.data.map((m) => m.mid)).toEqual(["200006", "100001"]);
    for (const m of body.data) expect(m.history.map((h) => h.month)[0]).toBe("2025-10");
    const detail = MerchantDetailResponse.parse(await json("/api/merchants/100001"));
    expect(body.data[1]?.history).toEqual(detail.history);
    const august = body.data[0]?.history.find((h) => h.month === "2026-08");
    expect(august).toMatchObject({ volume: "9999.99", net: "99.99", bps: "99.99" });
  });

  it("answers 404 naming the unknown mids", async () => {
    const res = await get("/api/merchants/compare?mids=100001,nope,also-nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "merchant not found", details: { mids: ["nope", "also-nope"] } });
  });

  it("refuses more than ten merchants and an empty list", async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `m${i}`).join(",");
    expect((await get(`/api/merchants/compare?mids=${eleven}`)).status).toBe(400);
    expect((await get("/api/merchants/compare?mids=,,")).status).toBe(400);
    expect((await get("/api/merchants/compare")).status).toBe(400);
  });

  it("answers CSV with one line per merchant and month", async () => {
    const text = await (await get("/api/merchants/compare?mids=100001,200006&format=csv")).text();
    const lines = text.trim().split("\r\n");
    expect(lines[0]?.startsWith("mid,name,month,volume,transactions,income,expense,net,bps,change.mom.volume.delta,change.mom.volume.percent")).toBe(true);
    expect(lines).toHaveLength(1 + 2 * 13);
    expect(lines.some((l) => l.startsWith("100001,Alpha Diner,2026-10,1250.50,14,46.00,10.95,35.05,280.29,250.50,25.05"))).toBe(true);
  });
});
