import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncFixture } from "./support/sync.ts";

let fx: SyncFixture;

beforeAll(async () => {
  fx = await SyncFixture.create({ sandbox: { size: "tiny", seed: 11 } });
  const { status } = await fx.run({ dataType: "all", mode: "full" });
  if (status !== "succeeded") throw new Error(`the initial full sync ended ${status}`);
}, 30_000);
afterAll(async () => {
  await fx?.close();
});

describe("incremental sync", { timeout: 30_000 }, () => {
  it("picks up exactly the merchants changed in IRIS since the last run", async () => {
    const { changed } = await fx.sandbox.control<{ changed: { mid: string }[] }>("POST", "/merchants/modify", { count: 4 });
    const mids = new Set(changed.map((c) => c.mid));
    expect(mids.size).toBe(4);
    const before = await fx.select<{ mid: string; synced_at: string }>(sql`select mid, synced_at::text from merchants`);

    const { runId, status } = await fx.run({ dataType: "merchants" });
    expect(status).toBe("succeeded");
    const { merchants } = await fx.streams(runId);
    expect(merchants?.rows_upserted).toBe(4);
    // It read from the cursor (minus the lag), not the whole portfolio.
    expect(merchants?.rows_read).toBeLessThan(before.length);

    const after = await fx.select<{ mid: string; synced_at: string }>(sql`select mid, synced_at::text from merchants`);
    const rewritten = after.filter((a) => before.find((b) => b.mid === a.mid)?.synced_at !== a.synced_at).map((a) => a.mid);
    expect(new Set(rewritten)).toEqual(mids);
    const { expected, actual } = await fx.snapshots();
    expect(actual.merchants).toEqual(expected.merchants);
  });

  it("reflects a restated residual report exactly: rows added, removed and changed", async () => {
    const { reports } = await fx.sandbox.control<{
      reports: { processorId: number; added: string[]; removed: string[]; changed: string[] }[];
    }>("POST", "/residuals/restate", { year: 2026, month: 10 });
    const removed = reports.reduce((n, r) => n + r.removed.length, 0);
    const changedOrAdded = reports.reduce((n, r) => n + r.added.length + r.changed.length, 0);
    expect(removed).toBeGreaterThan(0);
    expect(changedOrAdded).toBeGreaterThan(0);
    const before = await fx.snapshots();
    expect(before.actual.residuals).not.toEqual(before.expected.residuals);

    const { runId, status } = await fx.run({ dataType: "residuals" });
    expect(status).toBe("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(actual.residuals).toEqual(expected.residuals);
    expect(actual.summaries).toEqual(expected.summaries);

    const { residuals } = await fx.streams(runId);
    expect(residuals?.rows_deleted).toBe(removed);
    expect(residuals?.rows_upserted).toBeGreaterThanOrEqual(changedOrAdded);
  });

  it("syncs only the asked residual month", async () => {
    const { runId, status } = await fx.run({ dataType: "residuals", year: 2026, month: 9, mode: "full" });
    expect(status).toBe("succeeded");
    const summaries = await fx.select<{ unit_key: string }>(
      sql`select unit_key from sync_units where run_id = ${runId} and kind = 'residual-summary'`,
    );
    expect(summaries).toEqual([{ unit_key: "residual-summary:2026-09" }]);
  });

  it("picks up new batches in the window, after the merchants stream saw their last_batch", async () => {
    const added = await fx.sandbox.control<{ mid: string; batches: { referenceNumber: string }[] }>("POST", "/batches/add", {
      count: 3,
      date: "2026-11-19",
    });
    const { runId, status } = await fx.run({ dataType: "all" });
    expect(status).toBe("succeeded");
    const stored = await fx.select<{ reference_number: string }>(
      sql`select reference_number from merchant_batches where mid = ${added.mid} and batch_date = '2026-11-19' order by 1`,
    );
    expect(stored.map((s) => s.reference_number)).toEqual(expect.arrayContaining(added.batches.map((b) => b.referenceNumber)));
    const { expected, actual } = await fx.snapshots();
    expect(actual).toEqual(expected);

    const streams = await fx.streams(runId);
    expect(streams.volumes?.cursor_before).toBe("2026-11-20");
    expect(streams.volumes?.cursor_after).toBe("2026-11-20");
    const window = await fx.select<{ params: { window: { start: string; end: string } } }>(
      sql`select params from sync_units where run_id = ${runId} and kind = 'volumes-plan'`,
    );
    expect(window[0]?.params.window).toEqual({ start: "2026-11-18", end: "2026-11-20" });
  });
});
