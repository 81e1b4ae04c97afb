import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { RecordingQueue, SyncFixture } from "./support/sync.ts";

let fx: SyncFixture;
let env: Env;
const queue = new RecordingQueue();
const app = () => createApp({ clock: fx.fake });

const admin = { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" };

function post(path: string, body: unknown, headers: Record<string, string> = admin) {
  return app().request(path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }, env);
}
function get(path: string, headers: Record<string, string> = admin) {
  return app().request(path, { headers }, env);
}

beforeAll(async () => {
  fx = await SyncFixture.create({ sandbox: { size: "tiny", seed: 21 } });
  // Messages go to a recorder: the test runtime's real consumer would read another database.
  env = { ...fx.env, SYNC_QUEUE: queue as unknown as Queue };
}, 30_000);
afterAll(async () => {
  await fx?.close();
});

describe("POST /api/sync-iriscrm", () => {
  it("needs the admin token", async () => {
    expect((await post("/api/sync-iriscrm", {}, { "Content-Type": "application/json" })).status).toBe(401);
    const portal = await post("/api/sync-iriscrm", {}, { Authorization: "Bearer test-portal-token", "Content-Type": "application/json" });
    expect(portal.status).toBe(403);
  });

  it.each([
    [{ month: 5 }, "month"],
    [{ year: 2026, month: 13 }, "month"],
    [{ dataType: "leads" }, "dataType"],
    [{ mode: "sometimes" }, "mode"],
    [{ forceSync: "yes" }, "forceSync"],
    [{ dataType: "merchants", year: 2026 }, "year"],
    [{ dataTyp: "all" }, ""],
  ])("answers 400 naming the problem for %j", async (body, path) => {
    const res = await post("/api/sync-iriscrm", body);
    expect(res.status).toBe(400);
    const answer = await res.json<{ error: string; details: { path: string; message: string }[] }>();
    expect(answer.error).toBe("invalid json");
    expect(answer.details.map((d) => d.path)).toContain(path);
  });

  it("queues a run (202), refuses a second one on the same streams (409), and lets forceSync supersede it", async () => {
    const first = await post("/api/sync-iriscrm", { dataType: "merchants", mode: "full" });
    expect(first.status).toBe(202);
    const { runId, status } = await first.json<{ runId: string; status: string }>();
    expect(status).toBe("queued");
    const units = await fx.select<{ id: string }>(sql`select id from sync_units where run_id = ${runId} order by id`);
    expect(queue.sent).toEqual(expect.arrayContaining(units.map((u) => Number(u.id))));

    const busy = await post("/api/sync-iriscrm", { dataType: "all" });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ error: "sync already in progress", runId });

    // A run on other streams is not blocked.
    const other = await post("/api/sync-iriscrm", { dataType: "residuals", year: 2026, month: 9 });
    expect(other.status).toBe(202);

    const forced = await post("/api/sync-iriscrm", { dataType: "merchants", forceSync: true });
    expect(forced.status).toBe(202);
    const { runId: newRunId } = await forced.json<{ runId: string }>();
    expect(newRunId).not.toBe(runId);
    const old = await (await get(`/api/sync/runs/${runId}`)).json<{ status: string; streams: { stream: string; status: string; lastError: string }[] }>();
    expect(old.status).toBe("failed");
    expect(old.streams).toEqual([expect.objectContaining({ stream: "merchants", status: "failed", lastError: "superseded" })]);
    expect(await fx.select(sql`select id from sync_units where run_id = ${runId} and status in ('pending', 'running')`)).toEqual([]);
  });

  it("defaults to an incremental run of every stream", async () => {
    await fx.db.execute(sql`update sync_run_streams set status = 'failed' where status in ('queued', 'running')`);
    // No body at all (no JSON content type) means every default.
    const res = await app().request("/api/sync-iriscrm", { method: "POST", headers: { Authorization: admin.Authorization } }, env);
    expect(res.status).toBe(202);
    const { runId } = await res.json<{ runId: string }>();
    const run = await (await get(`/api/sync/runs/${runId}`)).json<{ mode: string; trigger: string; streams: { stream: string }[] }>();
    expect(run).toMatchObject({ mode: "incremental", trigger: "manual" });
    expect(run.streams.map((s) => s.stream)).toEqual(["merchants", "residuals", "volumes"]);
  });

  it("answers 400 for a body that is not JSON", async () => {
    expect((await post("/api/sync-iriscrm", "{not json")).status).toBe(400);
  });

  it("answers 503 with Retry-After while the circuit is open, and records nothing", async () => {
    expect((await post("/api/circuit/open", { seconds: 120 })).status).toBe(200);
    try {
      const before = await fx.select(sql`select id from sync_runs`);
      const res = await post("/api/sync-iriscrm", { dataType: "volumes", forceSync: true });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: "IRIS API unavailable" });
      expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(await fx.select(sql`select id from sync_runs`)).toEqual(before);
    } finally {
      await post("/api/circuit/reset", {});
    }
  });
});

describe("reading runs", () => {
  it("lists runs newest first with their per-stream stats, bounded by limit", async () => {
    const res = await get("/api/sync/runs?limit=2");
    expect(res.status).toBe(200);
    const { runs } = await res.json<{ runs: { id: string; createdAt: string; streams: Record<string, unknown>[] }[] }>();
    expect(runs).toHaveLength(2);
    expect(runs[0]!.createdAt >= runs[1]!.createdAt).toBe(true);
    expect(runs[0]!.streams[0]).toEqual(
      expect.objectContaining({ stream: expect.any(String), status: expect.any(String), pages: 0, rowsRead: 0, unitsTotal: expect.any(Number) }),
    );
    const all = await (await get("/api/sync/runs")).json<{ runs: unknown[] }>();
    expect(all.runs.length).toBeGreaterThan(2);
    expect((await get("/api/sync/runs?limit=0")).status).toBe(400);
    expect((await get("/api/sync/runs?limit=101")).status).toBe(400);
  });

  it("answers the latest run on GET /api/sync-iriscrm", async () => {
    const latest = await (await get("/api/sync-iriscrm")).json<{ id: string }>();
    const { runs } = await (await get("/api/sync/runs?limit=1")).json<{ runs: { id: string }[] }>();
    expect(latest.id).toBe(runs[0]!.id);
  });

  it("answers 404 for an unknown run and 400 for a malformed id", async () => {
    expect((await get(`/api/sync/runs/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await get("/api/sync/runs/not-a-uuid")).status).toBe(400);
  });

  it("shows a run's progress as its units complete", async () => {
    await fx.db.execute(sql`update sync_run_streams set status = 'failed' where status in ('queued', 'running')`);
    await fx.db.execute(sql`delete from sync_units where status in ('pending', 'running')`);
    const { runId } = await (await post("/api/sync-iriscrm", { dataType: "merchants", mode: "full" })).json<{ runId: string }>();
    await fx.drain();
    const run = await (await get(`/api/sync/runs/${runId}`)).json<{ status: string; streams: Record<string, unknown>[] }>();
    expect(run.status).toBe("succeeded");
    // A full merchants run also refreshes the processors: the tiny size has 30 merchants and 2 processors.
    expect(run.streams[0]).toMatchObject({
      stream: "merchants",
      status: "succeeded",
      pages: 2,
      rowsRead: 32,
      rowsUpserted: 32,
      unitsTotal: 2,
      unitsDone: 2,
      unitsFailed: 0,
    });
  });
});

describe("POST /api/sync/sweep", () => {
  it("sends again a unit whose message was lost", async () => {
    await fx.db.execute(sql`update sync_run_streams set status = 'failed' where status in ('queued', 'running')`);
    const { runId } = await (await post("/api/sync-iriscrm", { dataType: "volumes" })).json<{ runId: string }>();
    const [unit] = await fx.select<{ id: string }>(sql`select id from sync_units where run_id = ${runId}`);
    queue.sent.length = 0;
    // Nothing looks lost yet.
    expect(await (await post("/api/sync/sweep", {})).json()).toEqual({ enqueued: 0 });
    fx.fake.advance(fx.config.sync.staleUnitSeconds * 1000 + 1);
    expect(await (await post("/api/sync/sweep", {})).json()).toEqual({ enqueued: 1 });
    expect(queue.sent).toEqual([Number(unit!.id)]);
  });
});
