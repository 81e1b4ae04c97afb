import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BreakerClient, upstreamName } from "../src/breaker/breaker-client.ts";
import worker from "../src/index.ts";
import type { SyncMessage } from "../src/sync/streams.ts";
import { type RecordingQueue, SyncFixture } from "./support/sync.ts";

// The exported handlers run on the real clock, so the sandbox's "now" is the real one too.
let fx: SyncFixture;
let env: Env;
let queue: RecordingQueue;
let messageCount = 0;

beforeAll(async () => {
  fx = await SyncFixture.create({ sandbox: { size: "tiny", seed: 31 }, now: new Date().toISOString() });
  // The fixture's recorder stands for the queue, so what the handlers send can be delivered back to them.
  queue = fx.queue;
  env = { ...fx.env, SYNC_QUEUE: queue as unknown as Queue };
}, 30_000);
afterAll(async () => {
  await fx?.close();
});

/** Delivers unit messages to the exported queue() handler, one per batch as wrangler.toml configures. */
async function deliver(unitIds: number[], queueName = "iris-sync", attempts = 1) {
  const outcomes = [];
  for (const unitId of unitIds) {
    const id = `m-${++messageCount}`;
    const batch = createMessageBatch<SyncMessage>(queueName, [{ id, timestamp: Date.now(), attempts, body: { type: "unit", unitId } }]);
    // The test runtime's queue result does not keep a retry's delay; the message's own call shows it.
    const message = batch.messages[0]!;
    const retry = message.retry.bind(message);
    let retryOptions: QueueRetryOptions | undefined;
    message.retry = (options?: QueueRetryOptions) => {
      retryOptions = options ?? {};
      retry(options);
    };
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    const retried = result.retryMessages.some((m) => m.msgId === id);
    outcomes.push({ unitId, acked: result.explicitAcks.includes(id), retry: retried ? retryOptions : undefined });
  }
  return outcomes;
}

async function runStatus(runId: string): Promise<string> {
  return fx.runStatus(runId);
}

describe("the queue consumer", { timeout: 60_000 }, () => {
  it("runs a whole sync from its messages alone: follow-ups and continuations arrive through the queue", async () => {
    const runId = await fx.start({ dataType: "all", mode: "full" });
    let delivered = 0;
    while (queue.sent.length > 0 && delivered < 500) {
      const next = queue.sent.splice(0);
      delivered += next.length;
      const outcomes = await deliver(next);
      expect(outcomes.every((o) => o.acked)).toBe(true);
    }
    expect(await runStatus(runId)).toBe("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(actual).toEqual(expected);
  });

  it("acknowledges a duplicate message without running its unit again", async () => {
    const [done] = await fx.select<{ id: string }>(sql`select id from sync_units where status = 'done' limit 1`);
    const requestsBefore = (await fx.sandbox.stats()).total;
    const [outcome] = await deliver([Number(done!.id)]);
    expect(outcome).toMatchObject({ acked: true, retry: undefined });
    expect((await fx.sandbox.stats()).total).toBe(requestsBefore);
    expect(queue.sent).toEqual([]);
  });

  it("retries a unit's message after the circuit's wait while the circuit is open", async () => {
    const breaker = new BreakerClient({
      namespace: env.CIRCUIT_BREAKER,
      upstream: upstreamName(fx.config.irisBaseUrl),
      settings: { maxFailures: 5, resetMs: 60_000, probeLeaseMs: 30_000 },
      clock: { now: () => Date.now(), sleep: async () => undefined },
      log: () => undefined,
    });
    await breaker.open(90);
    try {
      const runId = await fx.start({ dataType: "merchants" });
      const [unit] = queue.sent.splice(0);
      const [outcome] = await deliver([unit!]);
      expect(outcome?.acked).toBe(false);
      expect(outcome?.retry?.delaySeconds).toBeGreaterThan(60);
      const [row] = await fx.select<{ status: string }>(sql`select status from sync_units where id = ${unit!}`);
      expect(row?.status).toBe("pending");

      // Deliveries ran out: the dead-letter consumer records the unit failed, and the run ends partial.
      const [dead] = await deliver([unit!], "iris-sync-dlq", 11);
      expect(dead?.acked).toBe(true);
      expect(await runStatus(runId)).toBe("partial");
      const [failed] = await fx.select<{ status: string; error: string }>(sql`select status, error from sync_units where id = ${unit!}`);
      expect(failed).toEqual({ status: "failed", error: expect.stringContaining("ran out of deliveries") });
    } finally {
      await breaker.reset();
    }
  });
});

describe("the scheduled handler", { timeout: 60_000 }, () => {
  async function tick(cron: string) {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
  }

  async function latestRun() {
    const [run] = await fx.select<{ id: string; trigger: string; status: string; streams: string[]; error: string | null }>(
      sql`select id, trigger, status, streams, error from sync_runs order by created_at desc, id desc limit 1`,
    );
    return run!;
  }

  it("starts incremental merchants and volumes every quarter hour, and skips a tick while they still run", async () => {
    queue.sent.length = 0;
    await tick("*/15 * * * *");
    const run = await latestRun();
    expect(run).toMatchObject({ trigger: "cron", status: "queued", streams: ["merchants", "volumes"] });
    expect(queue.sent.length).toBe(1); // the merchants unit; the volumes plan waits for it

    await tick("*/15 * * * *");
    const skipped = await latestRun();
    expect(skipped).toMatchObject({ trigger: "cron", status: "skipped", error: expect.stringContaining("sync already in progress") });
    expect(await fx.select(sql`select id from sync_units where run_id = ${skipped.id}`)).toEqual([]);

    // The daily residual window is another stream: it starts while merchants and volumes are busy.
    await tick("30 6 * * *");
    expect(await latestRun()).toMatchObject({ status: "queued", streams: ["residuals"] });
  });

  it("records a skipped run when the circuit is open", async () => {
    await fx.db.execute(sql`update sync_run_streams set status = 'failed' where status in ('queued', 'running')`);
    await fx.db.execute(sql`delete from sync_units where status in ('pending', 'running')`);
    const breaker = new BreakerClient({
      namespace: env.CIRCUIT_BREAKER,
      upstream: upstreamName(fx.config.irisBaseUrl),
      settings: { maxFailures: 5, resetMs: 60_000, probeLeaseMs: 30_000 },
      clock: { now: () => Date.now(), sleep: async () => undefined },
      log: () => undefined,
    });
    await breaker.open(60);
    try {
      await tick("*/15 * * * *");
      const run = await latestRun();
      expect(run).toMatchObject({ status: "skipped", error: expect.stringContaining("circuit open") });
      expect(await fx.select(sql`select id from sync_units where run_id = ${run.id}`)).toEqual([]);
    } finally {
      await breaker.reset();
    }
  });
});
