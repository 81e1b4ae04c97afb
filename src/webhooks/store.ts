// webhook_events: every delivery stored once per IRIS requestId, claimed by one invocation at a time while it is
// processed, and found again by the sweep when its queue message was lost. Each change is one statement.
import { sql } from "drizzle-orm";
import type { WebhookEventStatus } from "../db/schema.ts";
import type { SqlRunner } from "../db/writes.ts";
import type { UnitQueue } from "../sync/execute.ts";
import type { SyncMessage } from "../sync/streams.ts";

const ts = (d: Date) => d.toISOString();

type Row = Record<string, unknown>;

async function rows<T extends Row>(runner: SqlRunner, query: ReturnType<typeof sql>): Promise<T[]> {
  return (await runner.execute<T>(query)).rows as T[];
}

export interface NewDelivery {
  requestId: number;
  event: string;
  receivedAt: Date;
  /** The body with card data removed. */
  payload: unknown;
  /**
   * `queued` (due at `dueAt`) when it still has to be processed and its message is about to be sent; `ignored` or
   * `processed` when recording it is all there is.
   */
  status: Extract<WebhookEventStatus, "queued" | "ignored" | "processed">;
  dueAt?: Date;
  result?: Record<string, unknown>;
}

/**
 * Stores a delivery; null when its requestId is already stored (a duplicate: IRIS sent it twice). An event to
 * process is stored `queued` already, so that a delivery costs one round trip; unqueue() takes that back when the
 * message cannot be sent.
 */
export async function insertDelivery(runner: SqlRunner, input: NewDelivery): Promise<{ id: number } | null> {
  const done = input.status !== "queued";
  const [row] = await rows<{ id: string | number }>(
    runner,
    sql`
    insert into webhook_events (request_id, event, received_at, payload, status, processed_at, next_attempt_at, result)
    values (${input.requestId}, ${input.event}, ${ts(input.receivedAt)}, ${JSON.stringify(input.payload)}::jsonb, ${input.status},
      ${done ? ts(input.receivedAt) : null}, ${input.dueAt ? ts(input.dueAt) : null}, ${input.result ? JSON.stringify(input.result) : null}::jsonb)
    on conflict (request_id) do nothing
    returning id`,
  );
  return row ? { id: Number(row.id) } : null;
}

/** The event's message could not be sent: `received` again, which the sweep resends after a short while. */
export async function unqueue(runner: SqlRunner, id: number): Promise<void> {
  await runner.execute(sql`
    update webhook_events set status = 'received', next_attempt_at = null
    where id = ${id} and status = 'queued' and attempts = 0`);
}

/** Sends one message per event, with the given delay, a hundred per call. */
export async function enqueueEvents(queue: UnitQueue, ids: readonly number[], delaySeconds: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    await queue.sendBatch(
      ids.slice(i, i + 100).map((eventId) => ({
        body: { type: "webhook", eventId } satisfies SyncMessage,
        ...(delaySeconds > 0 ? { delaySeconds } : {}),
      })),
    );
  }
}

export interface ClaimedEvent {
  id: number;
  requestId: number;
  event: string;
  receivedAt: Date;
  payload: unknown;
  /** The claim's fencing token. */
  attempts: number;
  /** Earlier tries that ended in an error (waits for the circuit or for another run do not count). */
  errors: number;
}

/**
 * Takes an event for this invocation: only one still to be processed and not held by another invocation whose
 * lock has not passed. A duplicate message finds nothing to claim.
 */
export async function claimEvent(runner: SqlRunner, id: number, now: Date, lockMs: number): Promise<ClaimedEvent | null> {
  const [row] = await rows<{
    id: string | number;
    request_id: string | number;
    event: string;
    received_at: string | Date;
    payload: unknown;
    attempts: number;
    errors: number | null;
  }>(
    runner,
    sql`
    update webhook_events set attempts = attempts + 1,
      locked_until = ${ts(now)}::timestamptz + ${lockMs} * interval '1 millisecond'
    where id = ${id} and status in ('received', 'queued') and (locked_until is null or locked_until < ${ts(now)})
    returning id, request_id, event, received_at, payload, attempts, (result->>'errors')::int as errors`,
  );
  if (!row) return null;
  return {
    id: Number(row.id),
    requestId: Number(row.request_id),
    event: row.event,
    receivedAt: new Date(row.received_at),
    payload: row.payload,
    attempts: Number(row.attempts),
    errors: Number(row.errors ?? 0),
  };
}

/**
 * Ends an event's processing (`processed`, `ignored` or `failed`). Fenced by the claim: returns false, writing
 * nothing, when another invocation has claimed the event since.
 */
export async function finishEvent(
  runner: SqlRunner,
  claim: ClaimedEvent,
  input: { status: Extract<WebhookEventStatus, "processed" | "ignored" | "failed">; runId?: string | null; result?: Record<string, unknown>; error?: string | null },
  now: Date,
): Promise<boolean> {
  const result = await runner.execute(sql`
    update webhook_events set status = ${input.status}, processed_at = ${ts(now)}, run_id = ${input.runId ?? null},
      result = ${input.result ? JSON.stringify(input.result) : null}::jsonb, error = ${input.error ?? null},
      locked_until = null, next_attempt_at = null
    where id = ${claim.id} and attempts = ${claim.attempts} and status in ('received', 'queued')`);
  return (result.rowCount ?? 0) === 1;
}

/**
 * Hands the event back until its message is delivered again in `delaySeconds`. `error` records a failed try (and
 * counts it in `result.errors`); a wait passes null.
 */
export async function deferEvent(runner: SqlRunner, claim: ClaimedEvent, now: Date, delaySeconds: number, error: string | null): Promise<void> {
  await runner.execute(sql`
    update webhook_events set status = 'queued', locked_until = null,
      next_attempt_at = ${ts(now)}::timestamptz + ${delaySeconds} * interval '1 second', error = coalesce(${error}, error),
      result = case when ${error}::text is null then result
        else jsonb_build_object('errors', coalesce((result->>'errors')::int, 0) + 1) end
    where id = ${claim.id} and attempts = ${claim.attempts} and status in ('received', 'queued')`);
}

/**
 * The queue gave up on the event's message (its retries ran out while IRIS stayed down, say). The event is not
 * dropped: it stays open, due now, so the sweep sends it again once it looks lost.
 */
export async function noteDeadLetter(runner: SqlRunner, id: number, now: Date): Promise<void> {
  await runner.execute(sql`
    update webhook_events set next_attempt_at = ${ts(now)}, locked_until = null
    where id = ${id} and status in ('received', 'queued')`);
}

export interface SweepEventsOptions {
  now: Date;
  /** A queued event due longer ago than this lost its message. */
  staleAfterMs: number;
  /** A `received` event (its message was never confirmed sent) older than this is sent again. */
  unsentAfterMs: number;
  /** After a restart of the whole stack: every open event, whatever its times. */
  restart?: boolean;
  limit?: number;
}

/** Open events whose message looks lost; marks them due now and returns their ids for the caller to send. */
export async function sweepEvents(runner: SqlRunner, options: SweepEventsOptions): Promise<number[]> {
  const now = ts(options.now);
  const staleBefore = ts(new Date(options.now.getTime() - options.staleAfterMs));
  const unsentBefore = ts(new Date(options.now.getTime() - options.unsentAfterMs));
  const restart = options.restart ?? false;
  const swept = await rows<{ id: string | number }>(
    runner,
    sql`
    update webhook_events e set status = 'queued', next_attempt_at = ${now}
    where e.id in (
      select id from webhook_events c
      where c.status in ('received', 'queued')
        and (c.locked_until is null or c.locked_until < ${now} or ${restart})
        and (${restart}
          or (c.status = 'received' and c.received_at < ${unsentBefore})
          or (c.status = 'queued' and (c.next_attempt_at is null or c.next_attempt_at < ${staleBefore})))
      order by c.id
      limit ${options.limit ?? 1000}
      for update skip locked)
    returning e.id`,
  );
  return swept.map((r) => Number(r.id));
}

export interface WebhookEventView {
  id: number;
  requestId: number;
  event: string;
  status: WebhookEventStatus;
  receivedAt: string;
  processedAt: string | null;
  attempts: number;
  error: string | null;
  runId: string | null;
  result: Record<string, unknown> | null;
  nextAttemptAt: string | null;
  payload?: unknown;
}

const isoOrNull = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/** The latest deliveries first; the stored payload only when asked for. */
export async function listEvents(
  runner: SqlRunner,
  options: { limit: number; status?: WebhookEventStatus; event?: string; payload?: boolean },
): Promise<WebhookEventView[]> {
  const found = await rows<Record<string, unknown>>(
    runner,
    sql`
    select id, request_id, event, status, received_at, processed_at, attempts, error, run_id, result, next_attempt_at
      ${options.payload ? sql`, payload` : sql``}
    from webhook_events
    where (${options.status ?? null}::text is null or status = ${options.status ?? null})
      and (${options.event ?? null}::text is null or event = ${options.event ?? null})
    order by received_at desc, id desc
    limit ${options.limit}`,
  );
  return found.map((r) => ({
    id: Number(r.id),
    requestId: Number(r.request_id),
    event: String(r.event),
    status: r.status as WebhookEventStatus,
    receivedAt: isoOrNull(r.received_at)!,
    processedAt: isoOrNull(r.processed_at),
    attempts: Number(r.attempts),
    error: (r.error as string | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    result: (r.result as Record<string, unknown> | null) ?? null,
    nextAttemptAt: isoOrNull(r.next_attempt_at),
    ...(options.payload ? { payload: r.payload } : {}),
  }));
}
