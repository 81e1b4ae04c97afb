// Drives webhook deliveries deterministically: posts to the app (as IRIS would) with the fixture's env, records
// the queue messages the app sends with their delays, and delivers them back to the queue handler's webhook path
// on the fake clock, running the sync units they start in between. Built on SyncFixture: one database and one
// sandbox instance per fixture.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { inject } from "vitest";
import { createApp } from "../../src/app.ts";
import { createDb } from "../../src/db/client.ts";
import { handleSyncBatch } from "../../src/sync/consumer.ts";
import type { UnitQueue } from "../../src/sync/execute.ts";
import type { SyncDb } from "../../src/sync/runs.ts";
import type { SyncMessage } from "../../src/sync/streams.ts";
import { planWebhook } from "../../src/webhooks/events.ts";
import { type WebhookOutcome, handleWebhookMessage } from "../../src/webhooks/process.ts";
import { type Receipt, receiveDelivery } from "../../src/webhooks/receive.ts";
import { SyncFixture, type SyncFixtureOptions } from "./sync.ts";

declare module "vitest" {
  export interface ProvidedContext {
    webhookCaptureUrl: string;
  }
}

/** The secret the worker test project binds as IRIS_WEBHOOK_SECRET (vitest.config.ts). */
export const WEBHOOK_SECRET = "test-webhook-secret";
export const WEBHOOK_PATH = `/webhooks/iris/${WEBHOOK_SECRET}`;

export interface PendingWebhook {
  eventId: number;
  dueAt: number;
  /** Deliveries of this message so far (the queue's `attempts` starts at 1). */
  attempts: number;
}

/** Stands for SYNC_QUEUE: keeps webhook messages with the time they are due; unit messages are only counted. */
export class WebhookQueue implements UnitQueue {
  readonly webhooks: PendingWebhook[] = [];
  units = 0;
  /** Set to make every send fail, as a Queue outage would. */
  failing = false;
  private readonly now: () => number;
  constructor(now: () => number) {
    this.now = now;
  }
  async sendBatch(messages: Iterable<MessageSendRequest<SyncMessage>>): Promise<void> {
    if (this.failing) throw new Error("queue unavailable");
    for (const m of messages) {
      if (m.body.type === "webhook") this.webhooks.push({ eventId: m.body.eventId, dueAt: this.now() + (m.delaySeconds ?? 0) * 1000, attempts: 1 });
      else this.units += 1;
    }
  }
}

export interface Delivery {
  status: number;
  body: Record<string, unknown>;
}

export class WebhookFixture {
  readonly fx: SyncFixture;
  readonly queue: WebhookQueue;
  readonly env: Env;
  readonly outcomes: WebhookOutcome[] = [];

  private constructor(fx: SyncFixture, env: Record<string, string>) {
    this.fx = fx;
    this.queue = new WebhookQueue(() => fx.fake.now());
    this.env = { ...fx.env, ...env, SYNC_QUEUE: this.queue as unknown as Queue } as Env;
  }

  static async create(options: SyncFixtureOptions = {}): Promise<WebhookFixture> {
    return new WebhookFixture(await SyncFixture.create(options), options.env ?? {});
  }

  private parallel: ReturnType<typeof createDb> | undefined;

  async close(): Promise<void> {
    await this.parallel?.end();
    await this.fx.close();
  }

  /** Connections for messages handled side by side, as concurrent consumer invocations would. */
  private parallelDb(): SyncDb {
    this.parallel ??= createDb(this.env, { maxConnections: 8 });
    return this.parallel.db as unknown as SyncDb;
  }

  app(env: Env = this.env) {
    const app = createApp({ clock: this.fx.fake, random: () => 0.5 });
    return {
      request: async (path: string, init: RequestInit = {}): Promise<Response> => {
        const ctx = createExecutionContext();
        const res = await app.request(path, init, env, ctx);
        await waitOnExecutionContext(ctx);
        return res;
      },
    };
  }

  /** POSTs a body (an object is sent as JSON) to the webhook route, as IRIS does. */
  async post(body: unknown, options: { path?: string; headers?: Record<string, string>; env?: Env } = {}): Promise<Delivery> {
    const res = await this.app(options.env).request(options.path ?? WEBHOOK_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...options.headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /**
   * Stores and queues a delivery the way the route does once a request passed its checks, on the fixture's own
   * connection: for tests about processing many deliveries, where a connection per HTTP request only costs time.
   */
  async receive(body: { hook: { requestId: number; event: string }; data?: unknown }): Promise<Receipt> {
    const planned = planWebhook(body.hook.event, body.data);
    if (!planned.ok) throw new Error(`not a valid delivery: ${JSON.stringify(planned.problems)}`);
    return receiveDelivery(
      { db: this.fx.db, queue: this.queue, clock: this.fx.clock, log: this.fx.log },
      { requestId: body.hook.requestId, event: body.hook.event, body, plan: planned.plan },
    );
  }

  admin(path: string, init: RequestInit = {}): Promise<Response> {
    return this.app().request(path, { ...init, headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json", ...init.headers } });
  }

  /**
   * Delivers every webhook message due by now (the fake clock's) to the queue handler's webhook path, one after
   * the other, or `concurrency` at a time as parallel consumer invocations would (each on its own connection).
   */
  async deliverDue(options: { concurrency?: number } = {}): Promise<WebhookOutcome[]> {
    const now = this.fx.fake.now();
    const due = this.queue.webhooks.filter((m) => m.dueAt <= now);
    this.queue.webhooks.splice(0, this.queue.webhooks.length, ...this.queue.webhooks.filter((m) => m.dueAt > now));
    const outcomes: WebhookOutcome[] = [];
    const concurrency = options.concurrency ?? 1;
    const db = concurrency > 1 ? this.parallelDb() : this.fx.db;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < due.length) {
          const message = due[next++]!;
          const { outcome, retrySeconds } = await this.viaHandler(message, db);
          if (outcome) outcomes.push(outcome);
          if (retrySeconds !== undefined) this.queue.webhooks.push({ ...message, dueAt: now + retrySeconds * 1000, attempts: message.attempts + 1 });
        }
      }),
    );
    this.outcomes.push(...outcomes);
    return outcomes;
  }

  private async viaHandler(pending: PendingWebhook, db: SyncDb): Promise<{ outcome: WebhookOutcome | null; retrySeconds?: number }> {
    let retrySeconds: number | undefined;
    const message = {
      id: `w-${pending.eventId}-${pending.attempts}`,
      timestamp: new Date(this.fx.fake.now()),
      body: { type: "webhook", eventId: pending.eventId },
      attempts: pending.attempts,
      ack: () => undefined,
      retry: (options?: QueueRetryOptions) => {
        retrySeconds = options?.delaySeconds ?? 0;
      },
    } as unknown as Message<unknown>;
    const outcome = await handleWebhookMessage(message, {
      db,
      config: this.fx.config,
      queue: this.queue,
      clock: this.fx.clock,
      random: () => 0.5,
      log: this.fx.log,
      namespace: this.env.CIRCUIT_BREAKER,
      invocationId: crypto.randomUUID(),
      deadLetter: false,
    });
    return { outcome, ...(retrySeconds === undefined ? {} : { retrySeconds }) };
  }

  /** The exported consumer's code path: a one-message batch on the sync queue (or its dead-letter queue). */
  async viaConsumer(pending: PendingWebhook, queueName = "iris-sync"): Promise<{ outcome: null; retrySeconds?: number; acked: boolean }> {
    const id = `w-${pending.eventId}-${pending.attempts}`;
    const batch = createMessageBatch<SyncMessage>(queueName, [
      { id, timestamp: new Date(this.fx.fake.now()), attempts: pending.attempts, body: { type: "webhook", eventId: pending.eventId } },
    ]);
    const message = batch.messages[0]!;
    const retry = message.retry.bind(message);
    let retrySeconds: number | undefined;
    message.retry = (options?: QueueRetryOptions) => {
      retrySeconds = options?.delaySeconds ?? 0;
      retry(options);
    };
    const ctx = createExecutionContext();
    await handleSyncBatch(batch, this.env, ctx, { clock: this.fx.clock, random: () => 0.5, log: this.fx.log });
    const result = await getQueueResult(batch, ctx);
    return { outcome: null, acked: result.explicitAcks.includes(id), ...(retrySeconds === undefined ? {} : { retrySeconds }) };
  }

  /**
   * Runs everything to the end on the fake clock: webhook messages as they fall due (moving the clock to the next
   * one when none is due), and the sync units the events start.
   */
  async settle(options: { maxRounds?: number; concurrency?: number } = {}): Promise<void> {
    const max = options.maxRounds ?? 2000;
    let unitsSeen = -1;
    for (let round = 0; round < max; round++) {
      const outcomes = await this.deliverDue(options.concurrency ? { concurrency: options.concurrency } : {});
      // Units exist only once an event started a run (or a deferred event waits for someone else's run).
      if (this.queue.units !== unitsSeen || outcomes.some((o) => o.outcome === "deferred") || this.queue.webhooks.length === 0) {
        unitsSeen = this.queue.units;
        await this.fx.drain();
      }
      if (this.queue.webhooks.length === 0) return;
      const next = Math.min(...this.queue.webhooks.map((m) => m.dueAt));
      if (next > this.fx.fake.now()) this.fx.fake.advance(next - this.fx.fake.now());
    }
    throw new Error(`webhooks did not settle within ${max} rounds`);
  }

  /** Moves the fake clock forward (for example past the coalescing delay). */
  advance(seconds: number): void {
    this.fx.fake.advance(seconds * 1000);
  }

  events(): Promise<Array<{ id: number; request_id: number; event: string; status: string; attempts: number; run_id: string | null; result: Record<string, unknown> | null; payload: unknown; error: string | null }>> {
    return this.fx.select(sql`select id::int, request_id::int, event, status, attempts, run_id, result, payload, error from webhook_events order by id`);
  }

  runs(): Promise<Array<{ id: string; trigger: string; status: string; streams: string[]; params: Record<string, unknown> }>> {
    return this.fx.select(sql`select id, trigger, status, streams, params from sync_runs order by created_at, id`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The sandbox's own deliveries, caught by the capture receiver (test/harness/webhook-capture-setup.ts).

export interface CapturedRequest {
  method: string;
  path: string;
  contentType: string | null;
  body: string;
}

/** A box at the capture receiver: the URL to give the sandbox, and what has arrived there since the last take. */
export function captureBox(): { url: string; take(): Promise<CapturedRequest[]> } {
  const root = inject("webhookCaptureUrl");
  const box = crypto.randomUUID();
  return {
    url: `${root}/${box}${WEBHOOK_PATH}`,
    take: async () => {
      const res = await fetch(`${root}/${box}`);
      if (!res.ok) throw new Error(`capture receiver: ${res.status}`);
      return (await res.json<{ requests: CapturedRequest[] }>()).requests;
    },
  };
}

/** Replays captured sandbox deliveries into the app, in the order they arrived. */
export async function replay(fixture: WebhookFixture, requests: readonly CapturedRequest[]): Promise<Delivery[]> {
  const answers: Delivery[] = [];
  for (const r of requests) {
    answers.push(await fixture.post(r.body, { path: r.path, headers: r.contentType ? { "Content-Type": r.contentType } : {} }));
  }
  return answers;
}

/** A residuals.report.published body naming one report of `year`-`month`. */
export function reportPublished(requestId: number, year: number, month: number, processorId = 1) {
  return {
    hook: { requestId, event: "residuals.report.published" },
    data: {
      reports: [
        {
          id: 10_000 + processorId,
          month,
          year,
          processor_id: processorId,
          processor_name: `Processor ${processorId}`,
          revision: 2,
          rows_count: 3,
          sum_volume: 1000.5,
          sum_net: 10.25,
          sum_agent_net: 5.1,
          created: "2026-11-02T10:00:00-05:00",
        },
      ],
    },
  };
}

export function leadUpdated(requestId: number, leadId: number) {
  return { hook: { requestId, event: "lead.updated" }, data: { lead: { id: leadId, name: "A lead" } } };
}
