// Every figure here was computed by hand (exact decimal arithmetic, rounded half away from zero to two places)
// from the rows inserted below, not read back from the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { SummaryResponse, TopMerchantsResponse, TrendResponse } from "../src/routes/analytics/schemas.ts";
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
const auth = tokenHeaders("portal");

function at(iso: string) {
  const app = createApp({ clock: new FakeClock({ start: Date.parse(iso) }) });
  return async <T = Record<string, unknown>>(path: string): Promise<T> => {
    const res = await app.request(path, { headers: auth }, f.env);
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json<T>();
  };
}
const inDecember = at("2026-12-04T12:00:00Z");

const row = (mid: string, year: number, month: number, processorId: number, volume: string, transactions: number, income: string, expense: string, net: string) =>
  residual(mid, year, month, { processorId, salesAmount: volume, transactions, income, expense, net });

beforeAll(async () => {
  f = await fixtureDb();
  await insertMerchants(f.db, [
    merchant("a", { name: "Alpha", opened: "2020-01-01" }),
    merchant("b", { name: "Bravo", opened: "2026-10-31" }),
    merchant("c", { name: "Charlie", opened: "2026-11-15" }),
    merchant("d", { name: "Delta", opened: "2026-11-30" }),
    merchant("e", { name: "Echo", opened: "2025-03-01", closed: "2026-11-01", status: "Closed" }),
  ]);
  await insertResiduals(f.db, [
    row("a", 2026, 11, 1, "10000.00", 100, "300.00", "100.00", "200.00"),
    row("b", 2026, 11, 1, "5000.00", 40, "120.00", "45.00", "75.00"),
    row("b", 2026, 11, 2, "2500.50", 25, "60.10", "20.05", "40.05"),
    row("c", 2026, 11, 2, "0.00", 0, "5.00", "0.00", "5.00"),
    row("d", 2026, 11, 1, "7500.50", 60, "150.00", "149.00", "1.00"),
    row("a", 2026, 10, 1, "8000.00", 80, "240.00", "80.00", "160.00"),
    row("b", 2026, 10, 1, "4000.00", 30, "100.00", "40.00", "60.00"),
    row("a", 2025, 11, 1, "7000.00", 70, "200.00", "70.00", "130.00"),
    row("e", 2025, 3, 1, "100.00", 1, "3.00", "1.00", "2.00"),
  ]);
  await insertBatches(f.db, [
    batch("a", "2026-11-30", "1234.00", 12),
    batch("a", "2026-12-01", "1000.00", 10),
    batch("b", "2026-12-02", "500.25", 5),
    batch("c", "2026-12-03", "250.00", 3),
    batch("a", "2026-12-04", "9999.99", 99),
  ]);
});

afterAll(async () => {
  await f?.database.end();
});

// November 2026: volume 10000.00 + 5000.00 + 2500.50 + 0.00 + 7500.50 = 25001.00; transactions 225;
// income 635.10; expense 314.05; net 321.05; BPS 321.05 ÷ 25001.00 × 10,000 = 128.4148… → 128.41.
const NOVEMBER = { volume: "25001.00", transactions: 225, income: "635.10", expense: "314.05", net: "321.05", bps: "128.41" };
// October 2026: 12000.00, 110, 340.00, 120.00, 220.00, BPS 183.33.
const OCTOBER = { volume: "12000.00", transactions: 110, income: "340.00", expense: "120.00", net: "220.00", bps: "183.33" };
// November 2025: 7000.00, 70, 200.00, 70.00, 130.00, BPS 185.71.
const NOVEMBER_2025 = { volume: "7000.00", transactions: 70, income: "200.00", expense: "70.00", net: "130.00", bps: "185.71" };

describe("GET /api/analytics/summary", () => {
  it("sums a past month and compares it with the month before and the same month a year before", async () => {
    const body = SummaryResponse.parse(await inDecember("/api/analytics/summary?year=2026&month=11"));
    expect(body).toMatchObject({ year: 2026, month: 11, period: "2026-11", isCurrentMonth: false, projection: null });
    expect(body.figures).toEqual(NOVEMBER);
    // Reporting: a, b, c, d. Opened in November: c, d. Closed in November: e. Known now: 5.
    expect(body.merchants).toEqual({ reporting: 4, opened: 2, closed: 1, total: 5 });

    expect(body.previousMonth.period).toBe("2026-10");
    expect(body.previousMonth.figures).toEqual(OCTOBER);
    expect(body.previousMonth.merchants).toEqual({ reporting: 2, opened: 1, closed: 0 });
    expect(body.previousMonth.change).toEqual({
      volume: { delta: "13001.00", percent: "108.34" }, // 13001 ÷ 12000 = 108.341…%
      transactions: { delta: 115, percent: "104.55" }, // 115 ÷ 110 = 104.545…%
      income: { delta: "295.10", percent: "86.79" }, // 295.10 ÷ 340 = 86.794…%
      expense: { delta: "194.05", percent: "161.71" }, // 194.05 ÷ 120 = 161.708…%
      net: { delta: "101.05", percent: "45.93" }, // 101.05 ÷ 220 = 45.931…%
      bps: { delta: "-54.92", percent: "-29.96" }, // 128.4148… − 183.3333… = −54.918…; ÷ 183.33… = −29.955…%
      merchants: { delta: 2, percent: "100.00" },
    });

    expect(body.previousYear.period).toBe("2025-11");
    expect(body.previousYear.figures).toEqual(NOVEMBER_2025);
    expect(body.previousYear.change).toEqual({
      volume: { delta: "18001.00", percent: "257.16" },
      transactions: { delta: 155, percent: "221.43" },
      income: { delta: "435.10", percent: "217.55" },
      expense: { delta: "244.05", percent: "348.64" },
      net: { delta: "191.05", percent: "146.96" },
      bps: { delta: "-57.30", percent: "-30.85" }, // 128.4148… − 185.7142… = −57.299…
      merchants: { delta: 3, percent: "300.00" },
    });
  });

  it("projects the current month to month-end from the complete days' batches", async () => {
    const body = SummaryResponse.parse(await inDecember("/api/analytics/summary"));
    expect(body).toMatchObject({ year: 2026, month: 12, isCurrentMonth: true });
    expect(body.figures).toEqual({ volume: "0.00", transactions: 0, income: "0.00", expense: "0.00", net: "0.00", bps: null });
    expect(body.previousMonth.change.volume).toEqual({ delta: "-25001.00", percent: "-100.00" });
    // December 1–3 count (today, the 4th, is still settling; November 30 is another month):
    // V = 1000.00 + 500.25 + 250.00 = 1750.25, T = 18, d = 3, D = 31.
    expect(body.projection).toMatchObject({
      through: "2026-12-03",
      daysElapsed: 3,
      daysInMonth: 31,
      monthToDate: { volume: "1750.25", transactions: 18 },
      dailyAverage: { volume: "583.42" }, // 1750.25 ÷ 3 = 583.4166…
      projected: {
        volume: "18085.92", // 1750.25 × 31 ÷ 3 = 18085.9166…
        transactions: 186, // 18 × 31 ÷ 3
        net: "232.25", // 18085.9166… × 321.05 ÷ 25001.00 = 232.2497…
      },
      netBasis: { period: "2026-11", bps: "128.41" },
    });
    expect(body.projection?.method).toContain("V × D ÷ d");
  });

  it("has no projection on the 1st, when no day of the month is complete", async () => {
    const body = SummaryResponse.parse(await at("2026-12-01T23:59:59Z")("/api/analytics/summary"));
    expect(body.isCurrentMonth).toBe(true);
    expect(body.projection).toBeNull();
  });

  it("projects no net when no earlier month has residual rows", async () => {
    const body = SummaryResponse.parse(await at("2025-03-11T00:00:00Z")("/api/analytics/summary"));
    expect(body.figures).toMatchObject({ volume: "100.00", net: "2.00", bps: "200.00" });
    expect(body.projection).toMatchObject({
      daysElapsed: 10,
      monthToDate: { volume: "0.00", transactions: 0 },
      projected: { volume: "0.00", transactions: 0, net: null },
      netBasis: null,
    });
  });

  it("wants year and month together, and a real month", async () => {
    const app = createApp();
    for (const q of ["year=2026", "month=11", "year=2026&month=0", "year=20266&month=1", "year=2026&month=1&by=net"]) {
      expect((await app.request(`/api/analytics/summary?${q}`, { headers: auth }, f.env)).status, q).toBe(400);
    }
  });
});

describe("GET /api/analytics/trend", () => {
  it("gives every month of the range, with the summary's figures", async () => {
    const body = TrendResponse.parse(await inDecember("/api/analytics/trend?from=2025-11&to=2026-11"));
    expect([body.granularity, body.from, body.to, body.data.length]).toEqual(["month", "2025-11", "2026-11", 13]);
    const { period: _p, start, end, merchants, ...november } = body.data.at(-1)!;
    expect([start, end]).toEqual(["2026-11-01", "2026-11-30"]);
    expect(november).toEqual(NOVEMBER);
    expect(merchants).toEqual({ reporting: 4, opened: 2, closed: 1 });
    expect(body.data[0]).toMatchObject({ period: "2025-11", ...NOVEMBER_2025 });
    expect(body.data[1]).toMatchObject({ period: "2025-12", volume: "0.00", transactions: 0, bps: null });
  });

  it("groups by quarter, counting a merchant once per quarter", async () => {
    const body = TrendResponse.parse(await inDecember("/api/analytics/trend?granularity=quarter&from=2026-08&to=2026-11-15"));
    expect([body.from, body.to]).toEqual(["2026-07", "2026-12"]);
    expect(body.data.map((p) => p.period)).toEqual(["2026-Q3", "2026-Q4"]);
    // Q4 = October + November: 37001.00 volume, 541.05 net, BPS 541.05 ÷ 37001.00 × 10,000 = 146.225… → 146.23.
    expect(body.data[1]).toEqual({
      period: "2026-Q4",
      start: "2026-10-01",
      end: "2026-12-31",
      volume: "37001.00",
      transactions: 335,
      income: "975.10",
      expense: "434.05",
      net: "541.05",
      bps: "146.23",
      merchants: { reporting: 4, opened: 3, closed: 1 },
    });
  });

  it("groups by year, and defaults to the periods ending now", async () => {
    const body = TrendResponse.parse(await inDecember("/api/analytics/trend?granularity=year"));
    expect([body.from, body.to, body.data.length]).toEqual(["2015-01", "2026-12", 12]);
    const byYear = new Map(body.data.map((p) => [p.period, p]));
    // 2025: November's 7000.00 and March's 100.00 → 7100.00 volume, 132.00 net, BPS 185.92; a and e reporting.
    expect(byYear.get("2025")).toMatchObject({ volume: "7100.00", transactions: 71, net: "132.00", bps: "185.92", merchants: { reporting: 2, opened: 1, closed: 0 } });
    expect(byYear.get("2026")).toMatchObject({ volume: "37001.00", net: "541.05", bps: "146.23", merchants: { reporting: 4, opened: 3, closed: 1 } });
    expect(byYear.get("2020")).toMatchObject({ volume: "0.00", merchants: { reporting: 0, opened: 1, closed: 0 } });
  });

  it("refuses a reversed range and one longer than 240 months", async () => {
    const app = createApp();
    const status = async (q: string) => (await app.request(`/api/analytics/trend?${q}`, { headers: auth }, f.env)).status;
    expect(await status("from=2026-05&to=2026-04")).toBe(400);
    expect(await status("from=2000-01&to=2020-01")).toBe(400);
    expect(await status("granularity=week")).toBe(400);
  });

  it("answers CSV with the nested merchant counts as dotted columns", async () => {
    const app = createApp({ clock: new FakeClock({ start: Date.parse("2026-12-04T12:00:00Z") }) });
    const res = await app.request("/api/analytics/trend?from=2026-11&to=2026-11&format=csv", { headers: auth }, f.env);
    expect(await res.text()).toBe(
      "period,start,end,volume,transactions,income,expense,net,bps,merchants.reporting,merchants.opened,merchants.closed\r\n" +
        "2026-11,2026-11-01,2026-11-30,25001.00,225,635.10,314.05,321.05,128.41,4,2,1\r\n",
    );
  });
});

describe("GET /api/analytics/top-merchants", () => {
  type Top = { data: Array<{ mid: string; rank: number }> };
  const mids = (body: Top) => body.data.map((m) => m.mid);

  it("ranks the newest month's merchants by volume, ties by mid, summed over processors", async () => {
    const body = TopMerchantsResponse.parse(await inDecember("/api/analytics/top-merchants"));
    expect([body.year, body.month, body.by]).toEqual([2026, 11, "volume"]);
    expect(body.data).toEqual([
      { rank: 1, mid: "a", name: "Alpha", volume: "10000.00", transactions: 100, net: "200.00", bps: "200.00" },
      { rank: 2, mid: "b", name: "Bravo", volume: "7500.50", transactions: 65, net: "115.05", bps: "153.39" },
      { rank: 3, mid: "d", name: "Delta", volume: "7500.50", transactions: 60, net: "1.00", bps: "1.33" },
      { rank: 4, mid: "c", name: "Charlie", volume: "0.00", transactions: 0, net: "5.00", bps: null },
    ]);
  });

  it("ranks by net and by BPS, merchants without volume last by BPS", async () => {
    expect(mids(await inDecember<Top>("/api/analytics/top-merchants?year=2026&month=11&by=net"))).toEqual(["a", "b", "c", "d"]);
    expect(mids(await inDecember<Top>("/api/analytics/top-merchants?year=2026&month=11&by=bps"))).toEqual(["a", "b", "d", "c"]);
  });

  it("applies limit and minVolume", async () => {
    expect(mids(await inDecember<Top>("/api/analytics/top-merchants?limit=2"))).toEqual(["a", "b"]);
    expect(mids(await inDecember<Top>("/api/analytics/top-merchants?by=bps&minVolume=7500.50"))).toEqual(["a", "b", "d"]);
    expect(mids(await inDecember<Top>("/api/analytics/top-merchants?by=bps&minVolume=7500.51"))).toEqual(["a"]);
    expect(mids(await inDecember<Top>("/api/analytics/top-merchants?year=2026&month=10&by=net"))).toEqual(["a", "b"]);
  });

  it("refuses bad limits and amounts", async () => {
    const app = createApp();
    for (const q of ["limit=0", "limit=101", "minVolume=-5", "minVolume=1.234", "minVolume=abc", "by=profit", "year=2026"]) {
      expect((await app.request(`/api/analytics/top-merchants?${q}`, { headers: auth }, f.env)).status, q).toBe(400);
    }
  });

  it("answers CSV", async () => {
    const app = createApp();
    const res = await app.request("/api/analytics/top-merchants?year=2026&month=11&limit=1", { headers: { ...auth, Accept: "text/csv" } }, f.env);
    expect(await res.text()).toBe("rank,mid,name,volume,transactions,net,bps\r\n1,a,Alpha,10000.00,100,200.00,200.00\r\n");
  });
});
