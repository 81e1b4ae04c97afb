// The webhook half of the sweep (every cron tick, and POST /api/sync/sweep): deliveries stored but never sent to
// the queue (the send failed after the row was written), and deliveries whose message looks lost (long past due,
// or dead-lettered), are sent again. Duplicates are harmless: a claim is atomic.
import type { Config } from "../config.ts";
import type { Clock } from "../resilience/clock.ts";
import type { Logger } from "../resilience/log.ts";
import type { UnitQueue } from "../sync/execute.ts";
import type { SyncDb } from "../sync/runs.ts";
import { enqueueEvents, sweepEvents } from "./store.ts";

/** A stored delivery still `received` this long after arriving had its queue send fail (or its request die). */
export const UNSENT_AFTER_SECONDS = 60;

export async function resendWebhookEvents(
  deps: { db: SyncDb; queue: UnitQueue; config: Config; clock: Clock; log: Logger },
  options: { restart?: boolean } = {},
): Promise<number[]> {
  const ids = await sweepEvents(deps.db, {
    now: new Date(deps.clock.now()),
    staleAfterMs: deps.config.sync.staleUnitSeconds * 1000,
    unsentAfterMs: UNSENT_AFTER_SECONDS * 1000,
    ...(options.restart ? { restart: true } : {}),
  });
  if (ids.length > 0) {
    await enqueueEvents(deps.queue, ids, 0);
    deps.log("webhook.swept", { events: ids.length });
  }
  return ids;
}
