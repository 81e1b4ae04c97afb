import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app.ts";
import { getSyncRun, latestSyncRun, listSyncRuns } from "../../db/sync-runs.ts";
import { ApiError } from "../../http-errors.ts";
import { requireToken } from "../../middleware/auth.ts";
import { validate } from "../../middleware/validate.ts";
import { breakerFor, requestLogger, withRequestDb } from "../../services.ts";
import type { UnitQueue } from "../../sync/execute.ts";
import { SyncBusyError, type SyncDb } from "../../sync/runs.ts";
import { SYNC_DATA_TYPES, streamsFor } from "../../sync/streams.ts";
import { type TriggerDeps, startRun, sweepAndEnqueue } from "../../sync/triggers.ts";

const wholeNumber = z.union([z.int(), z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number)]);

export const SyncRequestBody = z
  .object({
    dataType: z.enum(SYNC_DATA_TYPES).default("all"),
    year: wholeNumber.pipe(z.int().min(2000).max(2100)).optional(),
    month: wholeNumber.pipe(z.int().min(1).max(12)).optional(),
    mode: z.enum(["incremental", "full"]).default("incremental"),
    forceSync: z.boolean().default(false),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.month !== undefined && body.year === undefined) {
      ctx.addIssue({ code: "custom", path: ["month"], message: "month needs a year" });
    }
    if ((body.year !== undefined || body.month !== undefined) && !["residuals", "all"].includes(body.dataType)) {
      ctx.addIssue({ code: "custom", path: ["year"], message: "year and month select residual reports: use dataType residuals or all" });
    }
  });

const RunsQuery = z.object({ limit: wholeNumber.pipe(z.int().min(1).max(100)).optional() });
const RunParam = z.object({ id: z.uuid({ message: "expected a run id (uuid)" }) });
const SweepBody = z.object({ restart: z.boolean().default(false) }).strict();

/** One database connection for the request, closed after the answer is sent. */
function withDb<T>(c: Context<AppEnv>, work: (deps: TriggerDeps) => Promise<T>): Promise<T> {
  return withRequestDb<SyncDb, T>(c, (db) =>
    work({ db, queue: c.env.SYNC_QUEUE as UnitQueue, config: c.var.config, clock: c.var.clock, log: requestLogger(c) }),
  );
}

export const syncRoutes = new Hono<AppEnv>()
  .use("/sync-iriscrm", requireToken({ allow: ["admin"] }))
  .use("/sync/*", requireToken({ allow: ["admin"] }))
  .post("/sync-iriscrm", validate("json", SyncRequestBody), async (c) => {
    const body = c.req.valid("json");
    const circuit = await breakerFor(c).snapshot();
    if (circuit.status === "open") {
      throw new ApiError(503, "IRIS API unavailable", {}, { "Retry-After": String(Math.max(1, circuit.retryAfterSeconds)) });
    }
    try {
      const { runId } = await withDb(c, (deps) =>
        startRun(deps, {
          trigger: "manual",
          request: {
            streams: streamsFor(body.dataType),
            mode: body.mode,
            ...(body.year === undefined ? {} : { year: body.year }),
            ...(body.month === undefined ? {} : { month: body.month }),
          },
          force: body.forceSync,
          params: { dataType: body.dataType, forceSync: body.forceSync },
        }),
      );
      return c.json({ runId, status: "queued" }, 202);
    } catch (error) {
      if (error instanceof SyncBusyError) throw new ApiError(409, "sync already in progress", { runId: error.runId, stream: error.stream });
      throw error;
    }
  })
  .get("/sync-iriscrm", async (c) => {
    const run = await withDb(c, (deps) => latestSyncRun(deps.db));
    if (!run) throw new ApiError(404, "no sync run yet");
    return c.json(run);
  })
  .get("/sync/runs", validate("query", RunsQuery), async (c) => {
    const limit = c.req.valid("query").limit ?? 20;
    const runs = await withDb(c, (deps) => listSyncRuns(deps.db, limit));
    return c.json({ runs });
  })
  .get("/sync/runs/:id", validate("param", RunParam), async (c) => {
    const run = await withDb(c, (deps) => getSyncRun(deps.db, c.req.valid("param").id));
    if (!run) throw new ApiError(404, "sync run not found");
    return c.json(run);
  })
  // Sends again the units whose queue message looks lost. `restart: true` sends every open unit: for right after
  // the whole stack was restarted (no worker and no message survived), never while workers may be running.
  .post("/sync/sweep", validate("json", SweepBody), async (c) => {
    const { restart } = c.req.valid("json");
    const units = await withDb(c, (deps) => sweepAndEnqueue(deps, { restart }));
    return c.json({ enqueued: units.length });
  });
