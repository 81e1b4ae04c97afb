// The queue side of the Worker: each message names a unit; the database decides whether there is anything to do.
import { configFor } from "../config.ts";
import { createDb } from "../db/client.ts";
import { redeliveryDelaySeconds } from "../resilience/backoff.ts";
import { type Clock, systemClock } from "../resilience/clock.ts";
import { type Logger, jsonLogger } from "../resilience/log.ts";
import { handleWebhookMessage, isWebhookMessage } from "../webhooks/process.ts";
import type { SyncHooks } from "./context.ts";
import { type UnitQueue, describeFailure, enqueueUnits, executeUnit, newBudget } from "./execute.ts";
import { type SyncDb, claimUnit, failUnit } from "./runs.ts";
import type { SyncMessage } from "./streams.ts";

export interface ConsumerOptions {
  clock?: Clock;
  random?: () => number;
  log?: Logger;
  hooks?: SyncHooks;
}


function isDeadLetterQueue(name: string): boolean {
  return name.endsWith("-dlq");
}

function isUnitMessage(body: unknown): body is Extract<SyncMessage, { type: "unit" }> {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { type?: unknown }).type === "unit" &&
    Number.isSafeInteger((body as { unitId?: unknown }).unitId)
  );
}

export async function handleSyncBatch(
  batch: MessageBatch<SyncMessage>,
  env: Env,
  ctx: ExecutionContext,
  options: ConsumerOptions = {},
): Promise<void> {
  const config = configFor(env);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? jsonLogger;
  // Subrequests are counted per invocation, so units delivered in one batch share one budget.
  const budget = newBudget(config);
  const database = createDb(env, { maxConnections: 1 });
  const db = database.db as unknown as SyncDb;
  const invocationId = crypto.randomUUID();
  // What a unit and a webhook event both need from this invocation.
  const deps = {
    db,
    config,
    queue: env.SYNC_QUEUE as UnitQueue,
    clock,
    random: options.random ?? Math.random,
    log,
    namespace: env.CIRCUIT_BREAKER,
    invocationId,
    budget,
    defer: (work: Promise<unknown>) => ctx.waitUntil(work),
  };
  try {
    for (const message of batch.messages) {
      if (isWebhookMessage(message.body)) {
        await handleWebhookMessage(message, { ...deps, deadLetter: isDeadLetterQueue(batch.queue) });
        continue;
      }
      if (!isUnitMessage(message.body)) {
        // Other message types belong to other consumers of this queue; an unknown one is dropped, loudly.
        log("sync.message_ignored", { queue: batch.queue, id: message.id });
        message.ack();
        continue;
      }
      const unitId = message.body.unitId;
      if (isDeadLetterQueue(batch.queue)) {
        const released = await abandonUnit(db, unitId, new Date(clock.now()), config.sync.unitLeaseSeconds * 1000, log);
        await enqueueUnits(env.SYNC_QUEUE as UnitQueue, released, null, log);
        message.ack();
        continue;
      }
      if (!budget.canAffordIrisCall()) {
        // wrangler.toml delivers one message per batch; with larger batches the rest waits for a fresh invocation.
        message.retry({ delaySeconds: 1 });
        continue;
      }
      try {
        const result = await executeUnit({ ...deps, ...(options.hooks ? { hooks: options.hooks } : {}) }, unitId);
        if (result.outcome === "circuit-open") message.retry({ delaySeconds: result.retryAfterSeconds });
        else message.ack();
      } catch (error) {
        log("sync.unit_crashed", { invocationId, unitId, attempts: message.attempts, error: describeFailure(error) });
        message.retry({ delaySeconds: redeliveryDelaySeconds(message.attempts) });
      }
    }
  } finally {
    ctx.waitUntil(database.end());
  }
}

/**
 * A unit message that ran out of deliveries (IRIS down for longer than the retries cover, or a crash that keeps
 * happening): the unit is recorded failed so its run can end `partial` instead of waiting forever.
 */
async function abandonUnit(db: SyncDb, unitId: number, now: Date, leaseMs: number, log: Logger): Promise<number[]> {
  const unit = await claimUnit(db, unitId, now, leaseMs);
  if (!unit) return [];
  const finish = await failUnit(db, unit, "gave up: the unit's queue message ran out of deliveries", now);
  log("sync.unit_dead_lettered", { unitId });
  return finish.enqueue;
}
