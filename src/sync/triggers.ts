// Starting runs (manual and cron), and the sweep that recovers lost work. Routes and the scheduled handler are
// thin wrappers around these.
import { sql } from "drizzle-orm";
import type { BreakerClient } from "../breaker/breaker-client.ts";
import { type Config, configFor } from "../config.ts";
import { createDb } from "../db/client.ts";
import type { SyncMode, SyncTrigger } from "../db/schema.ts";
import { createIrisHttp } from "../iris/iris-http.ts";
import { type Clock, systemClock } from "../resilience/clock.ts";
import { type Logger, jsonLogger } from "../resilience/log.ts";
import { resendWebhookEvents } from "../webhooks/sweep.ts";
import { type UnitQueue, enqueueUnits } from "./execute.ts";
import type { PlanSettings, RunRequest } from "./planner.ts";
import { SyncBusyError, type SyncDb, createRun, recordSkippedRun, sweep } from "./runs.ts";
import type { SyncStream } from "./streams.ts";

export function planSettings(config: Config): PlanSettings {
  return {
    residualWindowMonths: config.sync.residualWindowMonths,
    residualFirstMonth: config.sync.residualFirstMonth,
    merchantLagMinutes: config.sync.merchantLagMinutes,
    volumeWindowDays: config.sync.volumeWindowDays,
    volumeOverlapDays: config.sync.volumeOverlapDays,
  };
}

export interface TriggerDeps {
  db: SyncDb;
  queue: UnitQueue;
  config: Config;
  clock: Clock;
  log: Logger;
}

/** Records a run and sends its first units. Throws SyncBusyError (unless forced) while a stream is taken. */
export async function startRun(
  deps: TriggerDeps,
  input: { trigger: SyncTrigger; request: RunRequest; force?: boolean; params?: Record<string, unknown> },
): Promise<{ runId: string; enqueued: number }> {
  const created = await createRun(deps.db, {
    trigger: input.trigger,
    request: input.request,
    force: input.force ?? false,
    now: new Date(deps.clock.now()),
    settings: planSettings(deps.config),
    ...(input.params ? { params: input.params } : {}),
  });
  // Units left unsent (a send failed) keep their enqueued_at and are picked up by the sweep.
  const sent = await enqueueUnits(deps.queue, created.enqueue, null, deps.log).catch((error: unknown) => {
    deps.log("sync.enqueue_failed", { runId: created.runId, error: String(error) });
    return [];
  });
  deps.log("sync.run_started", { runId: created.runId, trigger: input.trigger, streams: input.request.streams, mode: input.request.mode });
  return { runId: created.runId, enqueued: sent.length };
}

/** Sends again the units whose message looks lost, and hands dead workers' units to new ones. */
export async function sweepAndEnqueue(deps: TriggerDeps, options: { restart?: boolean } = {}): Promise<number[]> {
  const ids = await sweep(deps.db, {
    now: new Date(deps.clock.now()),
    staleAfterMs: deps.config.sync.staleUnitSeconds * 1000,
    ...(options.restart ? { restart: true } : {}),
  });
  if (ids.length > 0) {
    await enqueueUnits(deps.queue, ids, null, deps.log);
    deps.log("sync.swept", { units: ids.length });
  }
  // Webhook deliveries whose message was never sent or looks lost go out again too; a failure here must not
  // hide the units' sweep.
  await resendWebhookEvents(deps, options).catch((error: unknown) => deps.log("webhook.sweep_failed", { error: String(error) }));
  return ids;
}

/** What each Cron Trigger in wrangler.toml starts. */
export const CRON_SCHEDULES: Readonly<Record<string, { streams: SyncStream[]; mode: SyncMode }>> = {
  "*/15 * * * *": { streams: ["merchants", "volumes"], mode: "incremental" },
  "30 6 * * *": { streams: ["residuals"], mode: "incremental" },
};

export type ScheduledOutcome =
  | { status: "started"; runId: string; streams: SyncStream[]; skippedStreams: SyncStream[] }
  | { status: "skipped"; runId: string; reason: string }
  | { status: "unknown-cron" };

/**
 * A cron tick: sweep, then start the schedule's run. While the circuit is open the run is recorded `skipped`, as
 * it is when every stream it would sync is still held by an earlier run; when only some are held, the free ones
 * run and the run's params name the others. Recording the skips keeps the history honest about missed ticks.
 */
export async function runScheduled(
  deps: TriggerDeps & { breaker: Pick<BreakerClient, "snapshot"> },
  cron: string,
): Promise<ScheduledOutcome> {
  await sweepAndEnqueue(deps).catch((error: unknown) => deps.log("sync.sweep_failed", { error: String(error) }));
  const schedule = CRON_SCHEDULES[cron];
  if (!schedule) {
    deps.log("sync.unknown_cron", { cron });
    return { status: "unknown-cron" };
  }
  const now = new Date(deps.clock.now());
  const skip = async (reason: string): Promise<ScheduledOutcome> => {
    const runId = await recordSkippedRun(deps.db, { trigger: "cron", mode: schedule.mode, streams: schedule.streams, now, reason });
    deps.log("sync.run_skipped", { runId, cron, reason });
    return { status: "skipped", runId, reason };
  };

  const view = await deps.breaker.snapshot();
  if (view.status === "open") return skip(`IRIS API unavailable: circuit open for ${view.retryAfterSeconds}s`);

  const busy = await busyStreams(deps.db, schedule.streams);
  const free = schedule.streams.filter((s) => !busy.has(s));
  if (free.length === 0) return skip(`sync already in progress: ${[...busy.entries()].map(([s, run]) => `${s} (run ${run})`).join(", ")}`);
  try {
    const skippedStreams = schedule.streams.filter((s) => busy.has(s));
    const { runId } = await startRun(deps, {
      trigger: "cron",
      request: { streams: free, mode: schedule.mode },
      params: { cron, ...(skippedStreams.length > 0 ? { skippedStreams } : {}) },
    });
    return { status: "started", runId, streams: free, skippedStreams };
  } catch (error) {
    if (error instanceof SyncBusyError) return skip(`sync already in progress: ${error.stream} (run ${error.runId})`);
    throw error;
  }
}

async function busyStreams(db: SyncDb, streams: SyncStream[]): Promise<Map<SyncStream, string>> {
  const result = await db.execute<{ stream: SyncStream; run_id: string }>(
    sql`select stream, run_id from sync_run_streams where stream = any(${sql.param(streams)}::text[]) and status in ('queued', 'running')`,
  );
  return new Map(result.rows.map((r) => [r.stream, r.run_id]));
}

/** The scheduled() handler's body: one database connection, released when the tick's work is done. */
export async function handleScheduled(
  controller: { cron: string },
  env: Env,
  ctx: ExecutionContext,
  options: { clock?: Clock; random?: () => number; log?: Logger } = {},
): Promise<ScheduledOutcome> {
  const config = configFor(env);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? jsonLogger;
  const database = createDb(env, { maxConnections: 1 });
  try {
    const iris = createIrisHttp({
      config,
      namespace: env.CIRCUIT_BREAKER,
      clock,
      random: options.random ?? Math.random,
      log,
      defer: (work) => ctx.waitUntil(work),
    });
    return await runScheduled(
      { db: database.db as unknown as SyncDb, queue: env.SYNC_QUEUE as UnitQueue, config, clock, log, breaker: iris.breaker },
      controller.cron,
    );
  } finally {
    ctx.waitUntil(database.end());
  }
}
