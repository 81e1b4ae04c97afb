// The sandbox's own deliveries, caught by the capture receiver and replayed into the app, drive the database to
// what the sandbox holds, with no manual trigger: a restated residual report, changed merchants, unknown leads.
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { type Snapshot } from "./support/sync.ts";
import { WebhookFixture, captureBox, leadUpdated, replay } from "./support/webhook.ts";

const fixtures: WebhookFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

/** A fixture whose database already holds a full sync of its sandbox, and whose sandbox posts to a capture box. */
async function synced(seed: number) {
  const wf = await WebhookFixture.create({ sandbox: { size: "tiny", seed } });
  fixtures.push(wf);
  const { status } = await wf.fx.run({ dataType: "all", mode: "full" });
  expect(status).toBe("succeeded");
  const box = captureBox();
  await wf.fx.sandbox.control("PUT", "/webhooks", { url: box.url, duplicateRate: 0 });
  return { wf, box };
}

// Snapshot rows are "|"-joined: summaries start processor_id|processor_name|year|month, residuals processor_id|year|month.
const inMonth = (year: number, month: number, at: number) => (row: string) => {
  const fields = row.split("|");
  return Number(fields[at]) === year && Number(fields[at + 1]) === month;
};

function residualsOf(snapshot: Snapshot, year: number, month: number) {
  return {
    summaries: snapshot.summaries.filter(inMonth(year, month, 2)),
    residuals: snapshot.residuals.filter(inMonth(year, month, 1)),
  };
}

describe("a restated residual report published in the sandbox", { timeout: 60_000 }, () => {
  it("makes the database equal the sandbox for that month, through the webhook alone", async () => {
    const { wf, box } = await synced(81);
    const months = await wf.fx.select<{ year: number; month: number }>(
      sql`select distinct year::int, month::int from residual_summaries order by year desc, month desc`,
    );
    const { year, month } = months[0]!;
    const runsBefore = (await wf.runs()).length;

    const restated = await wf.fx.sandbox.control<{ reports: { added: string[]; removed: string[] }[]; webhook: { requestId: number; delivered: boolean } }>(
      "POST",
      "/residuals/restate",
      { year, month },
    );
    expect(restated.webhook.delivered).toBe(true);
    expect(restated.reports.some((r) => r.added.length + r.removed.length > 0)).toBe(true);
    const captured = await box.take();
    expect(captured.map((r) => JSON.parse(r.body).hook)).toEqual([{ requestId: restated.webhook.requestId, event: "residuals.report.published" }]);

    // The restatement is in IRIS but not yet here: the test could fail.
    let { expected, actual } = await wf.fx.snapshots();
    expect(residualsOf(expected, year, month).summaries.length).toBeGreaterThan(0);
    expect(residualsOf(actual, year, month)).not.toEqual(residualsOf(expected, year, month));

    const answers = await replay(wf, captured);
    expect(answers.map((a) => a.status)).toEqual([202]);
    await wf.settle();

    ({ expected, actual } = await wf.fx.snapshots());
    expect(residualsOf(actual, year, month)).toEqual(residualsOf(expected, year, month));
    expect(actual).toEqual(expected);

    const runs = (await wf.runs()).slice(runsBefore);
    expect(runs).toHaveLength(1);
    const label = `${year}-${String(month).padStart(2, "0")}`;
    expect(runs[0]).toMatchObject({ trigger: "webhook", status: "succeeded", streams: ["residuals"], params: { residualMonths: [label] } });
    const [event] = await wf.events();
    expect(event).toMatchObject({ status: "processed", attempts: 1, run_id: runs[0]!.id, result: { months: [label], runs: { [label]: runs[0]!.id } } });
  });
});

describe("lead events", { timeout: 60_000 }, () => {
  it("refresh the merchant behind a changed lead (lead detail → mid → merchant detail), without a sync run", async () => {
    const { wf, box } = await synced(82);
    const runsBefore = (await wf.runs()).length;
    const modified = await wf.fx.sandbox.control<{ changed: { mid: string; leads: number[] }[] }>("POST", "/merchants/modify", { count: 2 });
    const mids = modified.changed.map((c) => c.mid);
    const captured = await box.take();
    expect(captured.length).toBe(modified.changed.flatMap((c) => c.leads).length);

    let { expected, actual } = await wf.fx.snapshots();
    const rowsOf = (s: Snapshot) => s.merchants.filter((m) => mids.includes(m.split("|")[0]!)).sort();
    expect(rowsOf(actual)).not.toEqual(rowsOf(expected));

    await wf.fx.sandbox.control("POST", "/stats/reset");
    expect((await replay(wf, captured)).every((a) => a.status === 202)).toBe(true);
    await wf.settle();

    ({ expected, actual } = await wf.fx.snapshots());
    expect(rowsOf(actual)).toEqual(rowsOf(expected));
    expect(actual).toEqual(expected);
    expect((await wf.runs()).length).toBe(runsBefore);
    const events = await wf.events();
    expect(events.every((e) => e.status === "processed" && e.run_id === null)).toBe(true);
    expect(new Set(events.flatMap((e) => (e.result?.merchants as string[]) ?? []))).toEqual(new Set(mids));
    const stats = await wf.fx.sandbox.stats();
    const byRoute = stats.byRoute as Record<string, number>;
    expect(byRoute["GET /leads/{id}"]).toBe(captured.length);
    expect(byRoute["GET /merchants/{mid}"]).toBe(captured.length);
  });

  it("fall back to an incremental merchants run when the lead cannot be looked up", async () => {
    const wf = await WebhookFixture.create({ sandbox: { size: "tiny", seed: 83 } });
    fixtures.push(wf);
    const res = await wf.post(leadUpdated(4242, 987_654_321));
    expect(res.status).toBe(202);
    await wf.settle();
    const runs = await wf.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: "webhook", streams: ["merchants"], status: "succeeded", params: { requestId: 4242, event: "lead.updated" } });
    const [event] = await wf.events();
    expect(event).toMatchObject({ status: "processed", run_id: runs[0]!.id });
    expect(String((event!.result!.fallback as string[])[0])).toContain("lead 987654321");
  });

  it("coalesce: deliveries about one lead received before its refresh share that refresh", async () => {
    const wf = await WebhookFixture.create({ sandbox: { size: "tiny", seed: 84 } });
    fixtures.push(wf);
    const modified = await wf.fx.sandbox.control<{ changed: { mid: string; leads: number[] }[] }>("POST", "/merchants/modify", { count: 1 });
    const leadId = modified.changed[0]!.leads[0]!;
    await wf.fx.sandbox.control("POST", "/stats/reset");
    for (let i = 0; i < 20; i++) expect((await wf.post(leadUpdated(7000 + i, leadId))).status).toBe(202);
    await wf.settle();
    // One more after the refresh is not covered by it.
    wf.advance(1);
    expect((await wf.post(leadUpdated(7100, leadId))).status).toBe(202);
    await wf.settle();

    const events = await wf.events();
    expect(events.every((e) => e.status === "processed")).toBe(true);
    const refreshing = events.filter((e) => ((e.result?.leadsRefreshed as number[]) ?? []).includes(leadId));
    expect(refreshing.map((e) => e.request_id)).toEqual([7000, 7100]);
    expect(events.filter((e) => ((e.result?.coveredLeads as number[]) ?? []).includes(leadId))).toHaveLength(19);
    const stats = await wf.fx.sandbox.stats();
    expect((stats.byRoute as Record<string, number>)["GET /leads/{id}"]).toBe(2);
  });
});
