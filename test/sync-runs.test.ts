import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client.ts";
import { upsertMerchants } from "../src/db/writes.ts";
import type { PlanSettings } from "../src/sync/planner.ts";
import {
  LeaseLostError,
  type SyncDb,
  SyncBusyError,
  checkpointUnit,
  claimUnit,
  createRun,
  failUnit,
  finishUnit,
  sweep,
} from "../src/sync/runs.ts";
import { testEnv } from "./support/database.ts";

const settings: PlanSettings = {
  residualWindowMonths: 1,
  residualFirstMonth: "2026-10",
  merchantLagMinutes: 60,
  volumeWindowDays: 35,
  volumeOverlapDays: 2,
};
const LEASE = 60_000;
const t0 = Date.parse("2026-11-20T15:00:00Z");
const at = (ms: number) => new Date(t0 + ms);

let env: Env;
const connections: ReturnType<typeof createDb>[] = [];
let db: SyncDb;

/** Another connection: stands for another worker, so transactions really overlap. */
function connect(): SyncDb {
  const database = createDb(env, { maxConnections: 1 });
  connections.push(database);
  return database.db as unknown as SyncDb;
}

beforeAll(async () => {
  env = await testEnv();
  db = connect();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.end()));
});
beforeEach(async () => {
  // Each test starts without active runs or open units (stream locks and the sweep see the whole database).
  await db.execute(sql`update sync_run_streams set status = 'failed' where status in ('queued', 'running')`);
  await db.execute(sql`delete from sync_units where status in ('pending', 'running')`);
});

async function select<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return (await db.execute(query)).rows as T[];
}

async function unitsOf(runId: string) {
  return select<{ id: string; kind: string; status: string }>(sql`select id, kind, status from sync_units where run_id = ${runId} order by id`);
}

describe("runs and their streams", () => {
  it("refuses a second run on a busy stream, naming the run that holds it", async () => {
    const first = await createRun(db, { trigger: "manual", request: { streams: ["merchants"], mode: "full" }, now: at(0), settings });
    await expect(
      createRun(db, { trigger: "manual", request: { streams: ["volumes", "merchants"], mode: "incremental" }, now: at(1), settings }),
    ).rejects.toThrow(expect.objectContaining({ name: "SyncBusyError", runId: first.runId, stream: "merchants" }));
  });

  it("lets only one of several simultaneous creators take a stream", async () => {
    const workers = [connect(), connect(), connect()];
    const outcomes = await Promise.allSettled(
      workers.map((w) => createRun(w, { trigger: "manual", request: { streams: ["volumes"], mode: "full" }, now: at(0), settings })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === "rejected")) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(SyncBusyError);
  });

  it("claims a unit exactly once among simultaneous deliveries of its message", async () => {
    const { runId, enqueue } = await createRun(db, { trigger: "manual", request: { streams: ["merchants"], mode: "full" }, now: at(0), settings });
    const claims = await Promise.all([connect(), connect(), connect(), connect()].map((w) => claimUnit(w, enqueue[0]!, at(1), LEASE)));
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    const [run] = await select<{ status: string }>(sql`select status from sync_runs where id = ${runId}`);
    expect(run?.status).toBe("running");
  });

  it("hands a unit whose lease ran out to a new claimant, and the old holder can no longer commit", async () => {
    const { enqueue } = await createRun(db, { trigger: "manual", request: { streams: ["merchants"], mode: "full" }, now: at(0), settings });
    const unitId = enqueue[0]!;
    const dead = await claimUnit(db, unitId, at(0), LEASE);
    expect(await claimUnit(db, unitId, at(LEASE - 1), LEASE)).toBeNull();
    const heir = await claimUnit(db, unitId, at(LEASE + 1), LEASE);
    expect(heir?.attempts).toBe(dead!.attempts + 1);

    // The presumed-dead holder wakes up: its rows and checkpoint roll back together.
    await expect(
      db.transaction(async (tx) => {
        await upsertMerchants(tx, [{ mid: "zombie-row", modified: new Date() }]);
        await checkpointUnit(tx, dead!, { page: 9 }, { pages: 1 }, at(LEASE + 2), LEASE);
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await select(sql`select mid from merchants where mid = 'zombie-row'`)).toEqual([]);
    await db.transaction((tx) => checkpointUnit(tx, heir!, { page: 2 }, { pages: 1 }, at(LEASE + 3), LEASE));
    const [unit] = await select<{ checkpoint: unknown }>(sql`select checkpoint from sync_units where id = ${unitId}`);
    expect(unit?.checkpoint).toEqual({ page: 2 });
  });

  it("completes a stream exactly once when its last two units finish at the same moment", async () => {
    const { runId } = await createRun(db, { trigger: "manual", request: { streams: ["residuals"], mode: "incremental" }, now: at(0), settings });
    const ids = (await unitsOf(runId)).map((u) => Number(u.id));
    expect(ids).toHaveLength(2); // processors + one month's summary
    const claimed = await Promise.all(ids.map((id) => claimUnit(db, id, at(1), LEASE)));
    const [a, b] = [connect(), connect()];
    const results = await Promise.all([
      a.transaction((tx) => finishUnit(tx, claimed[0]!, { pages: 1 }, [], at(2))),
      b.transaction((tx) => finishUnit(tx, claimed[1]!, { pages: 1 }, [], at(2))),
    ]);
    expect(results.map((r) => r.runStatus).filter((s) => s !== null)).toEqual(["succeeded"]);
    const [stream] = await select<Record<string, unknown>>(sql`select status, units_done, units_total, pages from sync_run_streams where run_id = ${runId}`);
    expect(stream).toEqual({ status: "succeeded", units_done: 2, units_total: 2, pages: 2 });
    const [run] = await select<{ status: string; finished_at: string | null }>(sql`select status, finished_at from sync_runs where id = ${runId}`);
    expect(run?.status).toBe("succeeded");
    expect(run?.finished_at).not.toBeNull();
  });

  it("counts follow-up units into the stream, so it completes only after them", async () => {
    const { runId, enqueue } = await createRun(db, { trigger: "manual", request: { streams: ["merchants"], mode: "incremental" }, now: at(0), settings });
    const parent = await claimUnit(db, enqueue[0]!, at(1), LEASE);
    const finish = await db.transaction((tx) =>
      finishUnit(tx, parent!, {}, [{ stream: "merchants", kind: "processors", key: "extra", params: { kind: "processors" } }], at(2)),
    );
    expect(finish.streamStatus).toBe("running");
    expect(finish.enqueue).toHaveLength(1);
    const child = await claimUnit(db, finish.enqueue[0]!, at(3), LEASE);
    const last = await failUnit(db, child!, "IRIS API rejected the request with 403", at(4));
    expect(last).toMatchObject({ streamStatus: "partial", runStatus: "partial" });
    const [run] = await select<{ error: string }>(sql`select error from sync_runs where id = ${runId}`);
    expect(run?.error).toContain("merchants: partial (1 failed units), IRIS API rejected the request with 403");
  });

  it("holds the volumes plan of an 'all' run until the merchants stream has finished, then releases it", async () => {
    const { runId, enqueue } = await createRun(db, { trigger: "manual", request: { streams: ["merchants", "volumes"], mode: "incremental" }, now: at(0), settings });
    const units = await unitsOf(runId);
    const plan = units.find((u) => u.kind === "volumes-plan")!;
    expect(enqueue).not.toContain(Number(plan.id));
    expect(await claimUnit(db, Number(plan.id), at(1), LEASE)).toBeNull();
    // The sweep does not send it either while it waits.
    expect(await sweep(db, { now: at(10 * 60_000), staleAfterMs: 60_000 })).not.toContain(Number(plan.id));

    const merchants = await claimUnit(db, enqueue[0]!, at(2), LEASE);
    const finish = await db.transaction((tx) => finishUnit(tx, merchants!, {}, [], at(3)));
    expect(finish.enqueue).toEqual([Number(plan.id)]);
    expect(await claimUnit(db, Number(plan.id), at(4), LEASE)).not.toBeNull();
  });

  it("supersedes a run's streams on force: they end failed and their unfinished units are dropped", async () => {
    const old = await createRun(db, { trigger: "manual", request: { streams: ["merchants", "volumes"], mode: "full" }, now: at(0), settings });
    const running = await claimUnit(db, old.enqueue[0]!, at(1), LEASE);
    const fresh = await createRun(db, { trigger: "manual", request: { streams: ["merchants"], mode: "full" }, force: true, now: at(2), settings });
    expect(fresh.runId).not.toBe(old.runId);
    const streams = await select<{ stream: string; status: string; last_error: string | null }>(
      sql`select stream, status, last_error from sync_run_streams where run_id = ${old.runId} order by stream`,
    );
    expect(streams).toEqual([
      { stream: "merchants", status: "failed", last_error: "superseded" },
      { stream: "volumes", status: "queued", last_error: null },
    ]);
    // The volumes plan waited for merchants, which has ended: it may start now.
    const plan = (await unitsOf(old.runId)).find((u) => u.kind === "volumes-plan")!;
    expect(fresh.enqueue).toContain(Number(plan.id));
    // The worker still running the dropped unit cannot commit anything.
    await expect(db.transaction((tx) => checkpointUnit(tx, running!, { page: 2 }, {}, at(3), LEASE))).rejects.toBeInstanceOf(LeaseLostError);
  });
});

describe("the sweep", () => {
  it("sends again lost pending units and dead workers' units, and leaves fresh ones alone", async () => {
    const a = await createRun(db, { trigger: "manual", request: { streams: ["merchants"], mode: "incremental" }, now: at(0), settings });
    const b = await createRun(db, { trigger: "manual", request: { streams: ["residuals"], mode: "incremental" }, now: at(0), settings });
    const [processors, summary] = b.enqueue;
    await claimUnit(db, processors!, at(0), LEASE);
    await claimUnit(db, summary!, at(0), 10 * LEASE);

    // A little later nothing looks lost.
    expect(await sweep(db, { now: at(1000), staleAfterMs: 5 * 60_000 })).toEqual([]);
    // After the lease and the stale time: the pending merchants unit and the expired running one.
    const swept = await sweep(db, { now: at(5 * 60_000 + 1), staleAfterMs: 5 * 60_000 });
    expect(swept.sort()).toEqual([a.enqueue[0]!, processors!].sort());
    const [row] = await select<{ status: string }>(sql`select status from sync_units where id = ${processors!}`);
    expect(row?.status).toBe("pending");
    // A restart knows no worker and no message survived: every open unit is sent again.
    const merchants = await claimUnit(db, a.enqueue[0]!, at(5 * 60_000 + 2), LEASE);
    expect(merchants).not.toBeNull();
    const afterRestart = await sweep(db, { now: at(5 * 60_000 + 3), staleAfterMs: 5 * 60_000, restart: true });
    expect(afterRestart.sort()).toEqual([a.enqueue[0]!, processors!, summary!].sort());
  });
});
