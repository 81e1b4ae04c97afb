// Accepting a delivery that passed the checks: store it once (its requestId is the idempotency key), then send
// its queue message. The row is written before the message, so a delivery answered 2xx is never lost: if the send
// fails the row is `received` and the sweep sends it later.
import { redactCardData } from "../iris/mapping.ts";
import { backoffDelayMs } from "../resilience/backoff.ts";
import type { Clock } from "../resilience/clock.ts";
import type { Logger } from "../resilience/log.ts";
import type { UnitQueue } from "../sync/execute.ts";
import type { SyncDb } from "../sync/runs.ts";
import { type WebhookPlan, coalesceSeconds } from "./events.ts";
import { enqueueEvents, insertDelivery, unqueue } from "./store.ts";

export interface ReceiveDeps {
  db: SyncDb;
  queue: UnitQueue;
  clock: Clock;
  log: Logger;
}

export type Receipt =
  | { duplicate: true; requestId: number }
  | { duplicate: false; requestId: number; eventId: number; status: "queued" | "received" | "ignored" | "processed" };

export async function receiveDelivery(
  deps: ReceiveDeps,
  delivery: { requestId: number; event: string; body: unknown; plan: WebhookPlan },
): Promise<Receipt> {
  const receivedAt = new Date(deps.clock.now());
  const { plan, requestId, event } = delivery;
  const status = plan.action === "ignore" ? "ignored" : plan.action === "ping" ? "processed" : "queued";
  const delaySeconds = coalesceSeconds(plan);
  const stored = await insertDelivery(deps.db, {
    requestId,
    event,
    receivedAt,
    payload: redactCardData(delivery.body),
    status,
    ...(status === "queued" ? { dueAt: new Date(receivedAt.getTime() + delaySeconds * 1000) } : {}),
    ...(plan.action === "ignore" ? { result: { reason: plan.reason } } : plan.action === "ping" ? { result: { ping: true } } : {}),
  });
  if (!stored) {
    deps.log("webhook.duplicate", { hookRequestId: requestId, webhook: event });
    return { duplicate: true, requestId };
  }
  if (status !== "queued") {
    deps.log("webhook.recorded", { hookRequestId: requestId, webhook: event, eventId: stored.id, status });
    return { duplicate: false, requestId, eventId: stored.id, status };
  }
  try {
    await enqueueEvents(deps.queue, [stored.id], delaySeconds);
  } catch (error) {
    deps.log("webhook.enqueue_failed", { hookRequestId: requestId, webhook: event, eventId: stored.id, error: String(error) });
    // Still stored: `received` is resent by the sweep a minute later. Should even this write fail, the row stays
    // `queued` and the sweep resends it once it is long past due.
    await unqueue(deps.db, stored.id).catch((unqueueError: unknown) =>
      deps.log("webhook.unqueue_failed", { hookRequestId: requestId, eventId: stored.id, error: String(unqueueError) }),
    );
    return { duplicate: false, requestId, eventId: stored.id, status: "received" };
  }
  deps.log("webhook.queued", { hookRequestId: requestId, webhook: event, eventId: stored.id, delaySeconds });
  return { duplicate: false, requestId, eventId: stored.id, status: "queued" };
}

// ---------------------------------------------------------------------------------------------------------------
// Storing through a database that is briefly out of connections (a burst of deliveries, each its own invocation).

/**
 * Database connections one isolate opens at once for storing deliveries. A burst beyond it waits in the isolate
 * instead of being refused by the database (Postgres answers "too many clients" past max_connections).
 */
export const STORE_CONNECTIONS_PER_ISOLATE = 10;
/** A slot held longer than this belonged to a request that was cancelled, and is free again. */
export const STORE_SLOT_LEASE_MS = 30_000;

/** Tries at storing one delivery before the answer becomes 503 (IRIS then delivers it again later). */
export const STORE_ATTEMPTS = 6;
const STORE_BACKOFF_BASE_MS = 50;

// Postgres refusing or losing a connection: class 08 (connection exception), 53 (insufficient resources: too many
// connections), 57P01-57P03 (shutting down, cannot connect now). Nothing was written when these happen before the
// statement ran; if one happens after, the retry finds the row stored and the sweep sends its message.
const TRANSIENT_SQLSTATE = /^(08|53|57P0[123])/;
const TRANSIENT_MESSAGE = /too many (clients|connections)|connection (terminated|refused|reset|lost)|ECONNRESET|ECONNREFUSED|websocket/i;

/** Whether a database error is about the connection rather than the statement, so that trying again can help. */
export function isTransientDbError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== "object") break;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && TRANSIENT_SQLSTATE.test(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && TRANSIENT_MESSAGE.test(message)) return true;
  }
  return false;
}

export interface Connection {
  db: SyncDb;
  /** Closes it; `afterAnswer` when the caller may close it after the response is sent. */
  end(afterAnswer: boolean): Promise<void>;
}

/**
 * receiveDelivery on a fresh connection, again on a new one (after a short backoff) while the database refuses
 * connections. Throws the last error when every try failed or the error is not about the connection.
 */
export async function receiveWithRetry(
  connect: () => Connection,
  deps: Omit<ReceiveDeps, "db"> & { random: () => number },
  delivery: Parameters<typeof receiveDelivery>[1],
): Promise<Receipt> {
  for (let attempt = 1; ; attempt++) {
    const connection = connect();
    let stored = false;
    try {
      const receipt = await receiveDelivery({ ...deps, db: connection.db }, delivery);
      stored = true;
      return receipt;
    } catch (error) {
      if (attempt >= STORE_ATTEMPTS || !isTransientDbError(error)) throw error;
      deps.log("webhook.store_retry", { hookRequestId: delivery.requestId, attempt, error: describeCause(error) });
    } finally {
      await connection.end(stored);
    }
    await deps.clock.sleep(backoffDelayMs(attempt, STORE_BACKOFF_BASE_MS, deps.random), { purpose: "backoff" });
  }
}

function describeCause(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message.slice(0, 200) : String(e).slice(0, 200);
}
