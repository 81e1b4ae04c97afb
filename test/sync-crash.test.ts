import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimedUnit } from "../src/sync/runs.ts";
import { sweepAndEnqueue } from "../src/sync/triggers.ts";
import { SyncFixture, duplicates } from "./support/sync.ts";

// One IRIS call per invocation (9 = database + one worst-case call of 4 attempts and 2 breaker calls + 2 sends),
// so every page is its own invocation and every unit longer than a page runs through its checkpoints.
const TINY_BUDGET = { SYNC_SUBREQUEST_BUDGET: "9", IRIS_MAX_RETRIES: "3", SYNC_RESIDUAL_FIRST_MONTH: "2026-10", SYNC_VOLUME_WINDOW_DAYS: "3" };
const SIZE = { merchants: 1500, processors: 1, residualMonths: 1, batchDays: 2, batchMerchantShare: 0.05 };

let fx: SyncFixture;
let busyMid: string;

beforeAll(async () => {
  fx = await SyncFixture.create({ sandbox: { size: SIZE, seed: 5 }, env: TINY_BUDGET });
  // 150 batches on one day: two pages of 100 for that merchant, so its pages span invocations.
  const first = await fx.sandbox.control<{ mid: string }>("POST", "/batches/add", { count: 100, date: "2026-11-19" });
  busyMid = first.mid;
  await fx.sandbox.control("POST", "/batches/add", { mid: busyMid, count: 50, date: "2026-11-19" });
}, 30_000);
afterAll(async () => {
  await fx?.close();
});

/** Runs units until the hook "kills" the worker: the invocation then never ends, like a process that died. */
async function runUntilKilled(kill: (unit: ClaimedUnit, what: string) => boolean): Promise<ClaimedUnit> {
  let killed: ((unit: ClaimedUnit) => void) | undefined;
  const victim = new Promise<ClaimedUnit>((resolve) => (killed = resolve));
  const hooks = {
    afterCommit: (unit: ClaimedUnit, what: "checkpoint" | "finish") => {
      if (!kill(unit, what)) return;
      killed!(unit);
      return new Promise<void>(() => undefined);
    },
  };
  const driving = fx.drain({ hooks });
  return Promise.race([victim, driving.then(() => Promise.reject(new Error("the run finished before the kill")))]);
}

async function restartAfterKill(): Promise<void> {
  // The dead worker's lease runs out; the sweep (cron, or npm start) hands its unit to a new invocation.
  fx.fake.advance(fx.config.sync.unitLeaseSeconds * 1000 + 1000);
  await sweepAndEnqueue({ db: fx.db, queue: fx.queue, config: fx.config, clock: fx.clock, log: fx.log });
}

describe("crash safety and the subrequest budget", { timeout: 120_000 }, () => {
  it("resumes a run killed in the middle of the volumes stream and converges to the dataset", async () => {
    const runId = await fx.start({ dataType: "all", mode: "full" });
    let volumesCheckpoints = 0;
    const victim = await runUntilKilled((unit, what) => unit.kind === "volumes-chunk" && what === "checkpoint" && ++volumesCheckpoints === 2);
    const held = await fx.select<{ status: string; checkpoint: unknown }>(sql`select status, checkpoint from sync_units where id = ${victim.id}`);
    expect(held[0]?.status).toBe("running");
    expect(held[0]?.checkpoint).not.toBeNull();

    await restartAfterKill();
    const { results } = await fx.drain();
    expect(await fx.runStatus(runId)).toBe("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(actual).toEqual(expected);
    for (const list of Object.values(actual)) expect(duplicates(list)).toBe(0);
    expect(await fx.select(sql`select * from sync_unit_pages`)).toEqual([]);
    expect(results.some((r) => r.outcome === "paused")).toBe(true);
  });

  it("stayed within the budget in every invocation, pausing units instead", async () => {
    const budget = fx.config.sync.subrequestBudget;
    const stats = await fx.sandbox.stats();
    expect(stats.maxPerInvocation).toBeGreaterThan(0);
    expect(stats.maxPerInvocation).toBeLessThanOrEqual(budget);
    expect(stats.withoutInvocation).toBe(0);
    // Multi-page units really did span invocations.
    const rows = await fx.select<{ kind: string; attempts: number }>(sql`
      select kind, max(attempts) as attempts from sync_units group by kind order by kind`);
    const attempts = Object.fromEntries(rows.map((r) => [r.kind, Number(r.attempts)]));
    expect(attempts["merchants-pages"]).toBeGreaterThan(2);
    expect(attempts["residual-rows"]).toBeGreaterThan(1);
    expect(attempts["volumes-chunk"]).toBeGreaterThan(1);
  });

  it("resumes a residual processor-month whose first page was staged when the worker died", async () => {
    await fx.sandbox.control("POST", "/residuals/restate", { year: 2026, month: 10 });
    const runId = await fx.start({ dataType: "residuals", year: 2026, month: 10 });
    const victim = await runUntilKilled((unit, what) => unit.kind === "residual-rows" && what === "checkpoint");
    const staged = await fx.select<{ page: number }>(sql`select page from sync_unit_pages where unit_id = ${victim.id}`);
    expect(staged).toEqual([{ page: 1 }]);
    // Nothing of the restatement is visible yet: the month is replaced in one transaction at the end.
    const midway = await fx.snapshots();
    expect(midway.actual.residuals).not.toEqual(midway.expected.residuals);

    await restartAfterKill();
    await fx.drain();
    expect(await fx.runStatus(runId)).toBe("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(actual.residuals).toEqual(expected.residuals);
    expect(actual.summaries).toEqual(expected.summaries);
  });

  it("leaves the same database when a finished unit of each kind runs again", async () => {
    const before = await fx.actualSnapshot();
    const again = await fx.select<{ id: string; kind: string }>(sql`
      select distinct on (kind) id, kind from sync_units where status = 'done' order by kind, id desc`);
    expect(again.map((u) => u.kind).sort()).toEqual(
      ["merchants-pages", "processors", "residual-rows", "residual-summary", "volumes-chunk", "volumes-plan"].sort(),
    );
    const ids = again.map((u) => Number(u.id));
    await fx.db.execute(sql`update sync_units set status = 'pending', checkpoint = null where id = any(${sql.param(ids)}::bigint[])`);
    // Follow-up units they plan again already exist in their runs and are not duplicated.
    const unitsBefore = await fx.select<{ n: string }>(sql`select count(*)::text as n from sync_units`);
    await fx.drain();
    expect(await fx.actualSnapshot()).toEqual(before);
    expect(await fx.select<{ n: string }>(sql`select count(*)::text as n from sync_units`)).toEqual(unitsBefore);
  });
});
