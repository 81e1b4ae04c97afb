// Run bookkeeping in the database, which is the source of truth for what work exists: queue messages only nudge.
// Every state change here is one statement or one transaction, and the functions a unit calls while it runs
// (checkpoint, finish) take the caller's transaction so that they commit with the rows they describe.
import { sql } from "drizzle-orm";
import type { NeonQueryResultHKT } from "drizzle-orm/neon-serverless";
import type { PgDatabase } from "drizzle-orm/pg-core";
import type { SyncMode, SyncRunStatus, SyncTrigger } from "../db/schema.ts";
import type { SqlRunner } from "../db/writes.ts";
import { type PlanSettings, type RunRequest, type UnitSpec, planRun } from "./planner.ts";
import type { SyncStream } from "./streams.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SyncDb = PgDatabase<NeonQueryResultHKT, any>;

/** Another run holds one of the asked streams. */
export class SyncBusyError extends Error {
  readonly runId: string;
  readonly stream: string;
  constructor(runId: string, stream: string) {
    super(`sync already in progress: run ${runId} holds stream ${stream}`);
    this.name = "SyncBusyError";
    this.runId = runId;
    this.stream = stream;
  }
}

/** The unit's claim was taken over (its lease expired and someone else claimed it) or the unit was dropped. */
export class LeaseLostError extends Error {
  constructor(unitId: number) {
    super(`unit ${unitId} is no longer held by this invocation`);
    this.name = "LeaseLostError";
  }
}

export interface ClaimedUnit {
  id: number;
  runId: string;
  stream: SyncStream;
  kind: string;
  key: string;
  params: Record<string, unknown>;
  checkpoint: Record<string, unknown> | null;
  /** The claim's fencing token: every later write of this invocation requires it to be unchanged. */
  attempts: number;
  mode: SyncMode;
}

export interface StreamStats {
  pages?: number;
  rowsRead?: number;
  rowsUpserted?: number;
  rowsDeleted?: number;
}

const FINAL_STATUSES = new Set<SyncRunStatus>(["succeeded", "partial", "failed", "skipped"]);
const ACTIVE = sql.raw(`('queued', 'running')`);

const ts = (d: Date) => d.toISOString();

type Row = Record<string, unknown>;

async function rows<T extends Row>(runner: SqlRunner, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await runner.execute<T>(query);
  return result.rows as T[];
}

function pgErrorOf(error: unknown): { code?: string; constraint?: string } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e === "object" && e !== null && "code" in e && typeof (e as { code: unknown }).code === "string") {
      return e as { code?: string; constraint?: string };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Creating runs.

export interface CreateRunInput {
  trigger: SyncTrigger;
  request: RunRequest;
  /** Ends the runs holding the asked streams ("superseded") instead of refusing. */
  force?: boolean;
  now: Date;
  settings: PlanSettings;
  /** Extra fields kept on the run (what the caller asked, for the record). */
  params?: Record<string, unknown>;
}

export interface CreatedRun {
  runId: string;
  /** Units to send to the queue now (those waiting for another stream are sent when it finishes). */
  enqueue: number[];
}

/** Records a run and its first units; throws SyncBusyError while another run holds an asked stream. */
export async function createRun(db: SyncDb, input: CreateRunInput): Promise<CreatedRun> {
  const streams = input.request.streams;
  try {
    return await db.transaction(async (tx) => {
      const enqueue: number[] = [];
      if (input.force) enqueue.push(...(await supersede(tx, streams, input.now)));
      else {
        const busy = await rows<{ run_id: string; stream: string }>(
          tx,
          sql`select run_id, stream from sync_run_streams where stream = any(${sql.param(streams)}::text[]) and status in ${ACTIVE} limit 1`,
        );
        if (busy[0]) throw new SyncBusyError(busy[0].run_id, busy[0].stream);
      }
      const cursors = await rows<{ stream: string; cursor: string | null }>(
        tx,
        sql`select stream, cursor from sync_state where stream in ('merchants', 'volumes')`,
      );
      const cursorOf = (s: string) => cursors.find((c) => c.stream === s)?.cursor ?? null;
      const plan = planRun(input.request, input.now, { merchants: cursorOf("merchants"), volumes: cursorOf("volumes") }, input.settings);
      const params = { ...input.params, ...plan.params, ...pick(input.request, ["year", "month"]) };
      const [run] = await rows<{ id: string }>(
        tx,
        sql`insert into sync_runs (trigger, mode, status, streams, params, created_at)
            values (${input.trigger}, ${input.request.mode}, 'queued', ${sql.param(streams)}::text[], ${JSON.stringify(params)}::jsonb, ${ts(input.now)})
            returning id`,
      );
      const runId = run!.id;
      await tx.execute(sql`
        insert into sync_run_streams (run_id, stream, status, units_total, cursor_before)
        select ${runId}, s.stream, 'queued', s.units, s.cursor
        from unnest(${sql.param(streams)}::text[], ${sql.param(streams.map((s) => plan.units.filter((u) => u.stream === s).length))}::integer[],
          ${sql.param(streams.map((s) => plan.cursorsBefore[s] ?? null))}::text[]) as s(stream, units, cursor)`);
      const created = await insertUnits(tx, runId, plan.units, input.now);
      enqueue.push(...created.filter((u) => u.afterStream === null).map((u) => u.id));
      return { runId, enqueue };
    });
  } catch (error) {
    const pg = pgErrorOf(error);
    if (pg?.code === "23505" && pg.constraint === "sync_run_streams_one_active_per_stream") {
      // Lost a race with another creator between the check and the insert.
      const busy = await rows<{ run_id: string; stream: string }>(
        db,
        sql`select run_id, stream from sync_run_streams where stream = any(${sql.param(streams)}::text[]) and status in ${ACTIVE} limit 1`,
      );
      if (busy[0]) throw new SyncBusyError(busy[0].run_id, busy[0].stream);
    }
    throw error;
  }
}

function pick<T extends object>(source: T, keys: (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}

/** A run that did nothing, kept so the history shows why (the circuit was open, a stream was busy). */
export async function recordSkippedRun(
  db: SyncDb,
  input: { trigger: SyncTrigger; mode: SyncMode; streams: SyncStream[]; now: Date; reason: string },
): Promise<string> {
  return db.transaction(async (tx) => {
    const [run] = await rows<{ id: string }>(
      tx,
      sql`insert into sync_runs (trigger, mode, status, streams, created_at, started_at, finished_at, error)
          values (${input.trigger}, ${input.mode}, 'skipped', ${sql.param(input.streams)}::text[], ${ts(input.now)}, ${ts(input.now)}, ${ts(input.now)}, ${input.reason})
          returning id`,
    );
    await tx.execute(sql`
      insert into sync_run_streams (run_id, stream, status, last_error, started_at, finished_at)
      select ${run!.id}, s, 'skipped', ${input.reason}, ${ts(input.now)}, ${ts(input.now)} from unnest(${sql.param(input.streams)}::text[]) as s`);
    return run!.id;
  });
}

async function insertUnits(
  runner: SqlRunner,
  runId: string,
  units: readonly UnitSpec[],
  now: Date,
): Promise<{ id: number; afterStream: string | null }[]> {
  if (units.length === 0) return [];
  const created = await rows<{ id: string | number; after_stream: string | null }>(
    runner,
    sql`
    insert into sync_units (run_id, stream, kind, unit_key, params, after_stream, enqueued_at, created_at, updated_at)
    select ${runId}, u.stream, u.kind, u.key, u.params::jsonb, u.after_stream,
      case when u.after_stream is null then ${ts(now)}::timestamptz end, ${ts(now)}, ${ts(now)}
    from unnest(${sql.param(units.map((u) => u.stream))}::text[], ${sql.param(units.map((u) => u.kind))}::text[],
      ${sql.param(units.map((u) => u.key))}::text[], ${sql.param(units.map((u) => JSON.stringify(u.params)))}::text[],
      ${sql.param(units.map((u) => u.afterStream ?? null))}::text[]) as u(stream, kind, key, params, after_stream)
    on conflict (run_id, unit_key) do nothing
    returning id, after_stream`,
  );
  return created.map((r) => ({ id: Number(r.id), afterStream: r.after_stream }));
}

/**
 * Ends the active runs' hold on `streams`: those streams end `failed` ("superseded") and their unfinished units are
 * dropped (a worker still executing one loses its lease and cannot commit). Returns units to enqueue: the
 * superseded runs' units that waited for a stream that has now ended.
 */
async function supersede(tx: SqlRunner, streams: SyncStream[], now: Date): Promise<number[]> {
  const ended = await rows<{ run_id: string; stream: string }>(
    tx,
    sql`
    update sync_run_streams set status = 'failed', last_error = 'superseded', finished_at = ${ts(now)}
    where stream = any(${sql.param(streams)}::text[]) and status in ${ACTIVE}
    returning run_id, stream`,
  );
  const enqueue: number[] = [];
  for (const { run_id: runId, stream } of ended) {
    await tx.execute(sql`delete from sync_units where run_id = ${runId} and stream = ${stream} and status in ('pending', 'running')`);
    enqueue.push(...(await releaseDependents(tx, runId, stream, now)));
    await completeRunIfDone(tx, runId, now);
  }
  return enqueue;
}

// ---------------------------------------------------------------------------------------------------------------
// Claiming and running units.

/**
 * Takes a unit for this invocation, atomically: only a pending unit, or a running one whose holder's lease has
 * passed, and only once the stream it waits for has finished. A duplicate message finds nothing to claim.
 */
export async function claimUnit(db: SyncDb, unitId: number, now: Date, leaseMs: number): Promise<ClaimedUnit | null> {
  return db.transaction(async (tx) => {
    const [unit] = await rows<{
      id: string | number;
      run_id: string;
      stream: SyncStream;
      kind: string;
      unit_key: string;
      params: Record<string, unknown>;
      checkpoint: Record<string, unknown> | null;
      attempts: number;
    }>(
      tx,
      sql`
      update sync_units u set status = 'running', attempts = attempts + 1,
        lease_until = ${ts(now)}::timestamptz + ${leaseMs} * interval '1 millisecond',
        started_at = coalesce(started_at, ${ts(now)}), updated_at = ${ts(now)}
      where id = ${unitId}
        and (status = 'pending' or (status = 'running' and lease_until < ${ts(now)}))
        and (after_stream is null or exists (
          select 1 from sync_run_streams s
          where s.run_id = u.run_id and s.stream = u.after_stream and s.status not in ${ACTIVE}))
      returning id, run_id, stream, kind, unit_key, params, checkpoint, attempts`,
    );
    if (!unit) return null;
    await tx.execute(sql`
      update sync_run_streams set status = 'running', started_at = coalesce(started_at, ${ts(now)})
      where run_id = ${unit.run_id} and stream = ${unit.stream} and status = 'queued'`);
    const [run] = await rows<{ mode: SyncMode }>(
      tx,
      sql`
      update sync_runs set status = case when status = 'queued' then 'running' else status end,
        started_at = coalesce(started_at, ${ts(now)})
      where id = ${unit.run_id} returning mode`,
    );
    return {
      id: Number(unit.id),
      runId: unit.run_id,
      stream: unit.stream,
      kind: unit.kind,
      key: unit.unit_key,
      params: unit.params,
      checkpoint: unit.checkpoint,
      attempts: Number(unit.attempts),
      mode: run?.mode ?? "incremental",
    };
  });
}

async function fence(tx: SqlRunner, unit: ClaimedUnit, set: ReturnType<typeof sql>): Promise<void> {
  const result = await tx.execute(sql`
    update sync_units set ${set}
    where id = ${unit.id} and status = 'running' and attempts = ${unit.attempts}`);
  if ((result.rowCount ?? 0) !== 1) throw new LeaseLostError(unit.id);
}

async function addStats(tx: SqlRunner, unit: ClaimedUnit, stats: StreamStats): Promise<void> {
  if (!stats.pages && !stats.rowsRead && !stats.rowsUpserted && !stats.rowsDeleted) return;
  await tx.execute(sql`
    update sync_run_streams set pages = pages + ${stats.pages ?? 0}, rows_read = rows_read + ${stats.rowsRead ?? 0},
      rows_upserted = rows_upserted + ${stats.rowsUpserted ?? 0}, rows_deleted = rows_deleted + ${stats.rowsDeleted ?? 0}
    where run_id = ${unit.runId} and stream = ${unit.stream}`);
}

/**
 * Records how far a unit got, in the transaction that wrote the rows up to there, and extends its lease.
 * Throws LeaseLostError (rolling the transaction back) when the unit is no longer this invocation's.
 */
export async function checkpointUnit(
  tx: SqlRunner,
  unit: ClaimedUnit,
  checkpoint: Record<string, unknown>,
  stats: StreamStats,
  now: Date,
  leaseMs: number,
): Promise<void> {
  await fence(
    tx,
    unit,
    sql`checkpoint = ${JSON.stringify(checkpoint)}::jsonb, updated_at = ${ts(now)},
        lease_until = ${ts(now)}::timestamptz + ${leaseMs} * interval '1 millisecond'`,
  );
  await addStats(tx, unit, stats);
}

export interface FinishResult {
  /** Units that may start now: the follow-ups just planned, and units that waited for a stream that just ended. */
  enqueue: number[];
  streamStatus: SyncRunStatus | null;
  runStatus: SyncRunStatus | null;
}

/**
 * Marks a unit done, in the transaction that wrote its last rows, together with its follow-up units and the
 * stream's stats; completes the stream and the run if this was their last unit.
 */
export async function finishUnit(
  tx: SqlRunner,
  unit: ClaimedUnit,
  stats: StreamStats,
  followUps: readonly UnitSpec[],
  now: Date,
): Promise<FinishResult> {
  await fence(tx, unit, sql`status = 'done', lease_until = null, finished_at = ${ts(now)}, updated_at = ${ts(now)}`);
  await addStats(tx, unit, stats);
  const created = await insertUnits(tx, unit.runId, followUps, now);
  const result = await countUnit(tx, unit, { done: 1, failed: 0, created: created.length, error: null }, now);
  result.enqueue.unshift(...created.filter((u) => u.afterStream === null).map((u) => u.id));
  return result;
}

/** Marks a unit failed with its error; the rest of the run goes on, and its stream will end `partial`. */
export async function failUnit(db: SyncDb, unit: ClaimedUnit, error: string, now: Date): Promise<FinishResult> {
  return db.transaction(async (tx) => {
    await fence(
      tx,
      unit,
      sql`status = 'failed', error = ${error}, lease_until = null, finished_at = ${ts(now)}, updated_at = ${ts(now)}`,
    );
    await tx.execute(sql`delete from sync_unit_pages where unit_id = ${unit.id}`);
    return countUnit(tx, unit, { done: 0, failed: 1, created: 0, error }, now);
  });
}

/**
 * Hands a unit back for a later invocation (out of budget, circuit open): pending again with its checkpoint, and
 * marked as enqueued now because the caller sends (or retries) its message next.
 */
export async function releaseUnit(db: SyncDb, unit: ClaimedUnit, now: Date): Promise<boolean> {
  const result = await db.execute(sql`
    update sync_units set status = 'pending', lease_until = null, enqueued_at = ${ts(now)}, updated_at = ${ts(now)}
    where id = ${unit.id} and status = 'running' and attempts = ${unit.attempts}`);
  return (result.rowCount ?? 0) === 1;
}

async function countUnit(
  tx: SqlRunner,
  unit: ClaimedUnit,
  delta: { done: number; failed: number; created: number; error: string | null },
  now: Date,
): Promise<FinishResult> {
  // This update takes the stream row's lock, so two units finishing at once are counted one after the other and
  // exactly one of them sees the stream complete.
  const [stream] = await rows<{ units_total: number; units_done: number; units_failed: number; status: SyncRunStatus }>(
    tx,
    sql`
    update sync_run_streams set units_done = units_done + ${delta.done}, units_failed = units_failed + ${delta.failed},
      units_total = units_total + ${delta.created}, last_error = coalesce(${delta.error}, last_error)
    where run_id = ${unit.runId} and stream = ${unit.stream}
    returning units_total, units_done, units_failed, status`,
  );
  const result: FinishResult = { enqueue: [], streamStatus: stream?.status ?? null, runStatus: null };
  if (!stream || FINAL_STATUSES.has(stream.status)) return result;
  if (Number(stream.units_done) + Number(stream.units_failed) < Number(stream.units_total)) return result;

  const status: SyncRunStatus = Number(stream.units_failed) > 0 ? "partial" : "succeeded";
  const cursorAfter = await streamCursorAfter(tx, unit, status);
  await tx.execute(sql`
    update sync_run_streams set status = ${status}, finished_at = ${ts(now)}, cursor_after = ${cursorAfter}
    where run_id = ${unit.runId} and stream = ${unit.stream}`);
  result.streamStatus = status;
  result.enqueue.push(...(await releaseDependents(tx, unit.runId, unit.stream, now)));
  result.runStatus = await completeRunIfDone(tx, unit.runId, now);
  return result;
}

/**
 * The stream's cursor once it ends. The merchants cursor moved page by page with the rows; the volumes cursor moves
 * here, in the transaction that ends the stream, and only when every merchant's batches were replaced: after a
 * partial run the next window starts from the old cursor again.
 */
async function streamCursorAfter(tx: SqlRunner, unit: ClaimedUnit, status: SyncRunStatus): Promise<string | null> {
  if (unit.stream === "volumes") {
    const [run] = await rows<{ window_end: string | null }>(
      tx,
      sql`select params->'volumesWindow'->>'end' as window_end from sync_runs where id = ${unit.runId}`,
    );
    const end = run?.window_end ?? null;
    if (status === "succeeded" && end !== null) {
      await tx.execute(sql`
        insert into sync_state (stream, cursor, updated_at) values ('volumes', ${end}, now())
        on conflict (stream) do update set cursor = excluded.cursor, updated_at = excluded.updated_at`);
      return end;
    }
  }
  const [state] = await rows<{ cursor: string | null }>(tx, sql`select cursor from sync_state where stream = ${unit.stream}`);
  return state?.cursor ?? null;
}

/** Moves the merchants cursor forward (never back), in the transaction of the page it covers. */
export async function advanceMerchantsCursor(tx: SqlRunner, modified: Date): Promise<void> {
  await tx.execute(sql`
    insert into sync_state (stream, cursor, updated_at) values ('merchants', ${modified.toISOString()}, now())
    on conflict (stream) do update set
      cursor = case when sync_state.cursor is null or excluded.cursor::timestamptz > sync_state.cursor::timestamptz
        then excluded.cursor else sync_state.cursor end,
      updated_at = excluded.updated_at`);
}

/** Units of the run that waited for `stream`, which has just ended: they may be sent now. */
async function releaseDependents(tx: SqlRunner, runId: string, stream: string, now: Date): Promise<number[]> {
  const released = await rows<{ id: string | number }>(
    tx,
    sql`
    update sync_units set enqueued_at = ${ts(now)}, updated_at = ${ts(now)}
    where run_id = ${runId} and after_stream = ${stream} and status = 'pending'
    returning id`,
  );
  return released.map((r) => Number(r.id));
}

/** Ends the run once every stream has ended: succeeded if all did, failed if none did, partial otherwise. */
async function completeRunIfDone(tx: SqlRunner, runId: string, now: Date): Promise<SyncRunStatus | null> {
  // Locking the run row orders concurrent stream completions: the last one sees every other stream ended.
  const [run] = await rows<{ status: SyncRunStatus }>(tx, sql`select status from sync_runs where id = ${runId} for update`);
  if (!run || FINAL_STATUSES.has(run.status)) return null;
  const streams = await rows<{ stream: string; status: SyncRunStatus; units_failed: number; last_error: string | null }>(
    tx,
    sql`select stream, status, units_failed, last_error from sync_run_streams where run_id = ${runId} order by stream`,
  );
  if (streams.some((s) => !FINAL_STATUSES.has(s.status))) return null;
  const status: SyncRunStatus = streams.every((s) => s.status === "succeeded")
    ? "succeeded"
    : streams.every((s) => s.status === "failed")
      ? "failed"
      : "partial";
  const problems = streams
    .filter((s) => s.status !== "succeeded")
    .map((s) => `${s.stream}: ${s.status}${Number(s.units_failed) > 0 ? ` (${s.units_failed} failed units)` : ""}${s.last_error ? `, ${s.last_error}` : ""}`);
  await tx.execute(sql`
    update sync_runs set status = ${status}, finished_at = ${ts(now)}, error = ${problems.length > 0 ? problems.join("; ").slice(0, 2000) : null}
    where id = ${runId}`);
  return status;
}

// ---------------------------------------------------------------------------------------------------------------
// Recovery.

export interface SweepOptions {
  now: Date;
  /** A pending unit whose message was sent longer ago than this is presumed lost and sent again. */
  staleAfterMs: number;
  /**
   * The whole stack was just restarted: no worker survived and no queue message either, so every open unit is
   * sent again, whatever its lease or message time. Never use it while workers may be running.
   */
  restart?: boolean;
  limit?: number;
}

/**
 * Finds work whose nudge was lost: pending units never sent or sent long ago (a lost message, a dead-lettered
 * retry) and running units whose worker died (lease passed). Marks them pending and sent now, and returns their
 * ids for the caller to enqueue. Duplicates are harmless: a claim is atomic.
 */
export async function sweep(db: SyncDb, options: SweepOptions): Promise<number[]> {
  const now = ts(options.now);
  const staleBefore = new Date(options.now.getTime() - options.staleAfterMs).toISOString();
  const restart = options.restart ?? false;
  const swept = await rows<{ id: string | number }>(
    db,
    sql`
    update sync_units u set status = 'pending', lease_until = null, enqueued_at = ${now}, updated_at = ${now}
    where u.id in (
      select id from sync_units c
      where (c.status = 'running' and (c.lease_until < ${now} or ${restart}))
         or (c.status = 'pending'
             and (c.enqueued_at is null or c.enqueued_at < ${staleBefore} or ${restart})
             and (c.after_stream is null or exists (
               select 1 from sync_run_streams s
               where s.run_id = c.run_id and s.stream = c.after_stream and s.status not in ${ACTIVE})))
      order by c.id
      limit ${options.limit ?? 1000}
      for update skip locked)
    returning u.id`,
  );
  return swept.map((r) => Number(r.id));
}
