// Accepting a delivery that passed the checks: store it once (its requestId is the idempotency key), then send
// its queue message. The row is written before the message, so a delivery answered 2xx is never lost: if the send
// fails the row stays `received` and the sweep sends it later.
import { redactCardData } from "../iris/mapping.ts";
import type { Clock } from "../resilience/clock.ts";
import type { Logger } from "../resilience/log.ts";
import type { UnitQueue } from "../sync/execute.ts";
import type { SyncDb } from "../sync/runs.ts";
import { type WebhookPlan, coalesceSeconds } from "./events.ts";
import { enqueueEvents, insertDelivery, markQueued } from "./store.ts";

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
  const status = plan.action === "ignore" ? "ignored" : plan.action === "ping" ? "processed" : "received";
  const stored = await insertDelivery(deps.db, {
    requestId,
    event,
    receivedAt,
    payload: redactCardData(delivery.body),
    status,
    ...(plan.action === "ignore" ? { result: { reason: plan.reason } } : plan.action === "ping" ? { result: { ping: true } } : {}),
  });
  if (!stored) {
    deps.log("webhook.duplicate", { hookRequestId: requestId, webhook: event });
    return { duplicate: true, requestId };
  }
  if (status !== "received") {
    deps.log("webhook.recorded", { hookRequestId: requestId, webhook: event, eventId: stored.id, status });
    return { duplicate: false, requestId, eventId: stored.id, status };
  }
  const delaySeconds = coalesceSeconds(plan);
  try {
    await enqueueEvents(deps.queue, [stored.id], delaySeconds);
  } catch (error) {
    deps.log("webhook.enqueue_failed", { hookRequestId: requestId, webhook: event, eventId: stored.id, error: String(error) });
    return { duplicate: false, requestId, eventId: stored.id, status: "received" };
  }
  // The message is out: a failure to note it only leaves the row `received`, which processing accepts as well.
  await markQueued(deps.db, stored.id, new Date(receivedAt.getTime() + delaySeconds * 1000)).catch((error: unknown) =>
    deps.log("webhook.mark_queued_failed", { requestId, eventId: stored.id, error: String(error) }),
  );
  deps.log("webhook.queued", { hookRequestId: requestId, webhook: event, eventId: stored.id, delaySeconds });
  return { duplicate: false, requestId, eventId: stored.id, status: "queued" };
}
