/* eslint-disable @typescript-eslint/no-explicit-any -- the sandbox's JSON answers are checked by assertions and schemas here, not by static types */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index.ts";
import { allPages, cents, control, FIXED_NOW, iris } from "./support.ts";

let sb: Sandbox;
let root: string;

beforeAll(async () => {
  sb = await startSandbox({ size: "tiny", now: FIXED_NOW });
  root = `${sb.url}/_control`;
});

afterAll(async () => {
  await sb.close();
});

async function instance(options: Record<string, unknown> = {}): Promise<{ baseUrl: string; controlUrl: string; apiKey: string }> {
  const created = await control(root, "POST", "/instances", { size: "tiny", now: FIXED_NOW, ...options });
  expect(created.status).toBe(201);
  return created.json;
}

async function dataset(controlUrl: string, parts?: string): Promise<any> {
  const res = await fetch(`${controlUrl}/dataset${parts ? `?parts=${parts}` : ""}`);
  expect(res.status).toBe(200);
  return res.json();
}

const ymdFromMdy = (s: string | null): string | null => (s === null ? null : `${s.slice(6)}-${s.slice(0, 2)}-${s.slice(3, 5)}`);

describe("generated data", () => {
  it("is the same for the same seed and now, and different for another seed", async () => {
    const [a, b, c] = await Promise.all([instance({ seed: 3 }), instance({ seed: 3 }), instance({ seed: 4 })]);
    const [da, db, dc] = await Promise.all([dataset(a.controlUrl), dataset(b.controlUrl), dataset(c.controlUrl)]);
    expect(da).toEqual(db);
    expect(da.merchants.map((m: any) => m.mid)).not.toEqual(dc.merchants.map((m: any) => m.mid));
    const pageA = await iris<any>(a.baseUrl, "/merchants?per_page=25&sort_by=name", a.apiKey);
    const pageB = await iris<any>(b.baseUrl, "/merchants?per_page=25&sort_by=name", b.apiKey);
    expect(pageA.json.data).toEqual(pageB.json.data);
  });

  it("follows the size knobs and keeps the generation date relative to now", async () => {
    const d = await dataset(`${sb.url}/_control`, "processors,merchants");
    expect(d.now).toBe(new Date(FIXED_NOW).toISOString());
    expect(d.today).toBe("2026-03-18"); // 10:30 at -05:00
    expect(d.merchants).toHaveLength(30);
    expect(d.processors).toHaveLength(2);
    expect(d.residualMonths).toEqual([
      { year: 2025, month: 12 },
      { year: 2026, month: 1 },
      { year: 2026, month: 2 },
    ]);
    expect(d.batchWindow).toEqual({ from: "2026-03-11", to: "2026-03-17" });
    const custom = await instance({ size: { merchants: 12, processors: 3, residualMonths: 1, batchDays: 2 } });
    const dc = await dataset(custom.controlUrl, "processors,merchants");
    expect(dc.merchants).toHaveLength(12);
    expect(dc.processors).toHaveLength(3);
    expect(dc.residualMonths).toEqual([{ year: 2026, month: 2 }]);
  });

  it("has open and closed merchants whose dates hang together", async () => {
    const d = await dataset(`${sb.url}/_control`, "merchants");
    const closed = d.merchants.filter((m: any) => m.status === "Closed");
    expect(closed.length).toBeGreaterThan(0);
    expect(d.merchants.length - closed.length).toBeGreaterThan(0);
    for (const m of d.merchants) {
      expect(m.mid).toMatch(/^\d{12}$/);
      expect(m.sicCode).toMatch(/^\d{4}$/);
      if (m.status === "Closed") {
        expect(m.closed).not.toBeNull();
        expect(m.active).toBe("No");
        expect(m.deactivated >= m.closed).toBe(true);
      } else {
        expect(m.closed).toBeNull();
      }
      if (m.firstBatch !== null) {
        expect(m.firstBatch > m.opened).toBe(true);
        expect(m.lastBatch >= m.firstBatch).toBe(true);
        if (m.closed) expect(m.lastBatch <= m.closed).toBe(true);
      }
      expect(m.modified >= m.created).toBe(true);
      expect(m.modified <= d.now).toBe(true);
    }
    expect(new Set(d.merchants.map((m: any) => m.mid)).size).toBe(d.merchants.length);
  });

  it("gives merchants with batches in the window a last_batch on their newest batch", async () => {
    const d = await dataset(`${sb.url}/_control`, "merchants,batches");
    const batchMids = new Set<string>(d.batches.map((b: any) => b.mid));
    expect(batchMids.size).toBeGreaterThan(5);
    for (const m of d.merchants) {
      const own = d.batches.filter((b: any) => b.mid === m.mid);
      if (own.length === 0) {
        if (m.lastBatch !== null) expect(m.lastBatch < d.batchWindow.from).toBe(true);
        continue;
      }
      const dates = own.map((b: any) => b.date).sort();
      expect(m.lastBatch).toBe(dates.at(-1));
      expect(m.firstBatch <= dates[0]).toBe(true);
      expect(m.lastBatch >= d.batchWindow.from && m.lastBatch <= d.batchWindow.to).toBe(true);
      expect(new Set(own.map((b: any) => b.referenceNumber)).size).toBe(own.length);
    }
  });

  it("serves batches whose amounts and counts match their card transactions, newest first", async () => {
    const d = await dataset(`${sb.url}/_control`, "batches");
    const mid = d.batches[0].mid;
    const expected = d.batches.filter((b: any) => b.mid === mid);
    const served = await allPages<any>(`${sb.url}/api/v1`, `/merchants/${mid}/transactions?start_date=2026-01-01&end_date=2026-03-18`, sb.apiKey, 10);
    expect(served).toHaveLength(expected.length);
    for (const batch of served) {
      expect(batch.amount).toMatch(/^-?\d+\.\d{2}$/);
      expect(Number(batch.count)).toBe(batch.transactions.length);
      expect(cents(batch.amount)).toBe(batch.transactions.reduce((s: number, t: any) => s + cents(t.amount), 0));
    }
    const dates = served.map((b) => ymdFromMdy(b.date)!);
    expect([...dates].sort().reverse()).toEqual(dates);
    const narrow = await iris<any>(`${sb.url}/api/v1`, `/merchants/${mid}/transactions?start_date=${dates[0]}&end_date=${dates[0]}`, sb.apiKey);
    expect(narrow.json.data.every((b: any) => ymdFromMdy(b.date) === dates[0])).toBe(true);
  });

  it("adds up residual rows exactly to their month's summary, for every processor-month", async () => {
    const api = `${sb.url}/api/v1`;
    const d = await dataset(`${sb.url}/_control`, "merchants");
    const byMid = new Map<string, any>(d.merchants.map((m: any) => [m.mid, m]));
    let checked = 0;
    for (const { year, month } of d.residualMonths) {
      const summaries = await allPages<any>(api, `/residuals/reports/summary/${year}/${month}`, sb.apiKey, 10);
      expect(summaries).toHaveLength(2);
      for (const s of summaries) {
        const rows = await allPages<any>(api, `/residuals/reports/summary/rows/${s.processor_id}/${year}/${month}`, sb.apiKey, 10);
        const sum = (f: string): number => rows.reduce((acc, r) => acc + cents(r[f]), 0);
        expect(s.merchants_count).toBe(rows.length);
        expect(s.sum_transactions).toBe(rows.reduce((acc, r) => acc + r.transactions, 0));
        expect(cents(s.sum_sales_amount)).toBe(sum("sales_amount"));
        expect(cents(s.sum_income)).toBe(sum("income"));
        expect(cents(s.sum_expense)).toBe(sum("expense"));
        expect(cents(s.sum_net)).toBe(sum("net"));
        expect(cents(s.sum_bps)).toBe(sum("bps"));
        expect(cents(s.sum_agent_net)).toBe(sum("agent_net"));
        const monthStart = `${year}-${String(month).padStart(2, "0")}-01`;
        const monthEnd = `${year}-${String(month).padStart(2, "0")}-31`;
        for (const r of rows) {
          expect(Number.isInteger(r.mid)).toBe(true);
          const m = byMid.get(String(r.mid));
          // Only merchants that were open and batching in that month.
          expect(m.opened <= monthEnd).toBe(true);
          expect(m.firstBatch <= monthEnd && m.lastBatch >= monthStart).toBe(true);
          if (m.closed) expect(m.closed >= monthStart).toBe(true);
          expect(cents(r.income) - cents(r.expense)).toBe(cents(r.net));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("links every merchant's leads back to it through general.mid", async () => {
    const d = await dataset(`${sb.url}/_control`, "leads");
    for (const lead of d.leads) {
      const a = await iris<any>(`${sb.url}/api/v1`, `/leads/${lead.id}`, sb.apiKey);
      expect(a.status).toBe(200);
      expect(a.json.general.mid).toBe(Number(lead.mid));
      expect(a.json.general.id).toBe(lead.id);
    }
  });

  it("limits the dataset view to the parts and filters asked for", async () => {
    const d = await dataset(`${sb.url}/_control`, "processors");
    expect(d.processors).toHaveLength(2);
    expect(d.merchants).toBeUndefined();
    const res = await fetch(`${sb.url}/_control/dataset?parts=nonsense`);
    expect(res.status).toBe(400);
    const one: any = await (await fetch(`${sb.url}/_control/dataset?parts=residualSummaries&year=2026&month=1`)).json();
    expect(one.residualSummaries.map((s: any) => [s.year, s.month])).toEqual([
      [2026, 1],
      [2026, 1],
    ]);
  });
});

describe("changes through the control API", () => {
  it("restating a month changes its rows, keeps the summary equal to their sum and bumps revision and modified", async () => {
    const inst = await instance();
    const [y, m] = [2026, 1];
    const before = await dataset(inst.controlUrl, "residualSummaries,residualRows");
    const restated = await control(inst.controlUrl, "POST", "/residuals/restate", { year: y, month: m });
    expect(restated.status).toBe(200);
    const after = await dataset(inst.controlUrl, "residualSummaries,residualRows");
    for (const change of restated.json.reports) {
      const pick = (d: any): any[] => d.residualRows.filter((r: any) => r.processorId === change.processorId && r.year === y && r.month === m);
      const oldRows = new Map(pick(before).map((r) => [r.mid, r]));
      const newRows = new Map(pick(after).map((r) => [r.mid, r]));
      expect(change.revision).toBe(2);
      expect(change.removed.length + change.added.length + change.changed.length).toBeGreaterThan(0);
      expect([...oldRows.keys()].filter((k) => !newRows.has(k)).sort()).toEqual(change.removed);
      expect([...newRows.keys()].filter((k) => !oldRows.has(k)).sort()).toEqual(change.added);
      const changed = [...newRows.keys()].filter((k) => oldRows.has(k) && JSON.stringify(oldRows.get(k)) !== JSON.stringify(newRows.get(k)));
      expect(changed.sort()).toEqual(change.changed);
      const summary = after.residualSummaries.find((s: any) => s.processorId === change.processorId && s.year === y && s.month === m);
      const old = before.residualSummaries.find((s: any) => s.processorId === change.processorId && s.year === y && s.month === m);
      expect(summary.revision).toBe(2);
      expect(summary.modified > old.modified).toBe(true);
      expect(summary.merchantsCount).toBe(newRows.size);
      expect(cents(summary.sumSalesAmount)).toBe([...newRows.values()].reduce((s, r) => s + cents(r.salesAmount), 0));
      expect(cents(summary.sumAgentNet)).toBe([...newRows.values()].reduce((s, r) => s + cents(r.agentNet), 0));
    }
    // The API agrees with the dataset view.
    const pid = restated.json.reports[0].processorId;
    const served = await allPages<any>(inst.baseUrl, `/residuals/reports/summary/rows/${pid}/${y}/${m}`, inst.apiKey, 100);
    const expected = after.residualRows.filter((r: any) => r.processorId === pid && r.year === y && r.month === m);
    expect(served.map((r) => String(r.mid))).toEqual(expected.map((r: any) => r.mid));
    // Other months are untouched.
    const otherBefore = before.residualRows.filter((r: any) => r.month !== m);
    const otherAfter = after.residualRows.filter((r: any) => r.month !== m);
    expect(otherAfter).toEqual(otherBefore);
  });

  it("rejects restating a month without reports", async () => {
    const inst = await instance();
    expect((await control(inst.controlUrl, "POST", "/residuals/restate", { year: 2020, month: 1 })).status).toBe(404);
    expect((await control(inst.controlUrl, "POST", "/residuals/restate", { year: 2026 })).status).toBe(400);
  });

  it("modifying merchants moves their modified to now, and the modified date filter finds exactly them", async () => {
    const inst = await instance();
    const before = await dataset(inst.controlUrl, "merchants");
    const changed = await control(inst.controlUrl, "POST", "/merchants/modify", { count: 3 });
    expect(changed.status).toBe(200);
    const mids = changed.json.changed.map((c: any) => c.mid).sort();
    expect(mids).toHaveLength(3);
    const after = await dataset(inst.controlUrl, "merchants");
    for (const mid of mids) {
      const a = after.merchants.find((m: any) => m.mid === mid);
      const b = before.merchants.find((m: any) => m.mid === mid);
      expect(a.modified > b.modified).toBe(true);
      expect(a.modified >= before.now).toBe(true);
      expect(JSON.stringify({ ...a, modified: 0 })).not.toBe(JSON.stringify({ ...b, modified: 0 }));
    }
    const start = encodeURIComponent("2026-03-18T10:30:00-05:00");
    const found = await allPages<any>(inst.baseUrl, `/merchants?date_filter=modified&start_date=${start}&sort_by=modified`, inst.apiKey, 100);
    expect(found.map((m) => m.mid).sort()).toEqual(mids);
    // The same instant written with another offset selects the same merchants.
    const utc = encodeURIComponent("2026-03-18T15:30:00+00:00");
    const again = await allPages<any>(inst.baseUrl, `/merchants?date_filter=modified&start_date=${utc}`, inst.apiKey, 100);
    expect(again.map((m) => m.mid).sort()).toEqual(mids);
    const byMid = await control(inst.controlUrl, "POST", "/merchants/modify", { mids: [mids[0]] });
    expect(byMid.json.changed.map((c: any) => c.mid)).toEqual([mids[0]]);
    expect((await control(inst.controlUrl, "POST", "/merchants/modify", { mids: ["1"] })).status).toBe(404);
  });

  it("adding batches moves last_batch and shows them in the transactions list", async () => {
    const inst = await instance();
    const d = await dataset(inst.controlUrl, "merchants");
    const mid = d.merchants.find((m: any) => m.status === "Open").mid;
    const added = await control(inst.controlUrl, "POST", "/batches/add", { mid, date: "2026-03-18", count: 2 });
    expect(added.status).toBe(200);
    expect(added.json.lastBatch).toBe("2026-03-18");
    const detail = await iris<any>(inst.baseUrl, `/merchants/${mid}`, inst.apiKey);
    expect(detail.json.general.last_batch).toBe("03/18/2026");
    const served = await iris<any>(inst.baseUrl, `/merchants/${mid}/transactions?start_date=2026-03-18&end_date=2026-03-18`, inst.apiKey);
    expect(served.json.data.map((b: any) => b.reference_number).sort()).toEqual(added.json.batches.map((b: any) => b.referenceNumber).sort());
    expect(served.json.data.map((b: any) => b.amount).sort()).toEqual(added.json.batches.map((b: any) => b.amount).sort());
  });
});

describe("the large size", () => {
  it("starts in a few seconds and serves 50,000 merchants", async () => {
    const started = Date.now();
    const large = await startSandbox({ size: "large", now: FIXED_NOW });
    try {
      expect(Date.now() - started).toBeLessThan(5000);
      const page = await iris<any>(`${large.url}/api/v1`, "/merchants?per_page=1000&page=50", large.apiKey);
      expect(page.json.meta.total).toBe(50_000);
      expect(page.json.data).toHaveLength(1000);
      const summary = await iris<any>(`${large.url}/api/v1`, "/residuals/reports/summary/2025/6", large.apiKey);
      expect(summary.json.data.length).toBeGreaterThan(0);
      expect(summary.json.data[0].merchants_count).toBeGreaterThan(1000);
    } finally {
      await large.close();
    }
  });
});
