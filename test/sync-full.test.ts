import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SyncFixture as Fixture, SyncFixture, duplicates } from "./support/sync.ts";

let fx: Fixture;

beforeAll(async () => {
  fx = await SyncFixture.create({ sandbox: { size: "small", seed: 7 } });
}, 30_000);
afterAll(async () => {
  await fx?.close();
});

describe("a full sync of a small sandbox", { timeout: 60_000 }, () => {
  it("leaves the database equal to the sandbox's dataset, and the run succeeded", async () => {
    const { runId, status } = await fx.run({ dataType: "all", mode: "full" });
    expect(status).toBe("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(expected.merchants.length).toBeGreaterThan(250);
    expect(expected.residuals.length).toBeGreaterThan(1000);
    expect(expected.batches.length).toBeGreaterThan(1000);
    expect(actual.merchants).toEqual(expected.merchants);
    expect(actual.summaries).toEqual(expected.summaries);
    expect(actual.residuals).toEqual(expected.residuals);
    expect(actual.batches).toEqual(expected.batches);
    expect(actual.processors).toEqual(expected.processors);

    const streams = await fx.streams(runId);
    expect(Object.keys(streams).sort()).toEqual(["merchants", "residuals", "volumes"]);
    for (const s of Object.values(streams)) {
      expect(s.status).toBe("succeeded");
      expect(s.units_failed).toBe(0);
      expect(s.units_done).toBe(s.units_total);
    }
    expect(streams.merchants?.rows_upserted).toBe(expected.merchants.length);
    expect(streams.volumes?.rows_upserted).toBe(expected.batches.length);
  });

  it("never lets one invocation exceed the subrequest budget", async () => {
    const stats = await fx.sandbox.stats();
    const budget = fx.config.sync.subrequestBudget;
    const perInvocation = Object.values(stats.byInvocation);
    expect(perInvocation.length).toBeGreaterThan(50);
    expect(Math.max(...perInvocation)).toBeLessThanOrEqual(budget);
    expect(stats.withoutInvocation).toBe(0);
  });

  it("moves the merchants and volumes cursors with the run", async () => {
    const state = await fx.select<{ stream: string; cursor: string }>(sql`select stream, cursor from sync_state order by stream`);
    const { expected } = await fx.snapshots();
    const newest = expected.merchants.map((m) => m.split("|")[15]!).sort().at(-1);
    expect(state).toEqual([
      { stream: "merchants", cursor: newest },
      { stream: "volumes", cursor: "2026-11-20" },
    ]);
  });

  it("changes nothing when the same full sync runs again", async () => {
    const before = await fx.actualSnapshot();
    const { runId, status } = await fx.run({ dataType: "all", mode: "full" });
    expect(status).toBe("succeeded");
    const after = await fx.actualSnapshot();
    expect(after).toEqual(before);
    for (const list of Object.values(after)) expect(duplicates(list)).toBe(0);
    const streams = await fx.streams(runId);
    for (const s of Object.values(streams)) {
      expect(s.rows_upserted).toBe(0);
      expect(s.rows_deleted).toBe(0);
    }
  });
});
