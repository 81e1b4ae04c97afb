// Bursts, concurrency, an open circuit and lost messages: deliveries are never lost, each is processed once, and a
// burst about one month causes one refresh of it.
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { sweepAndEnqueue } from "../src/sync/triggers.ts";
import { type Delivery, WebhookFixture, leadUpdated, reportPublished } from "./support/webhook.ts";

const fixtures: WebhookFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function fixture(seed: number): Promise<WebhookFixture> {
  const wf = await WebhookFixture.create({ sandbox: { size: "tiny", seed } });
  fixtures.push(wf);
  return wf;
}

/** A month the sandbox has reports for, and lead ids of its merchants. */
async function sandboxFacts(wf: WebhookFixture): Promise<{ year: number; month: number; leads: number[] }> {
  const ds = await (await fetch(`${wf.fx.sandbox.controlUrl}/dataset?parts=merchants,residualSummaries`)).json<{
    merchants: { leads: number[] }[];
    residualSummaries: { year: number; month: number }[];
  }>();
  const latest = ds.residualSummaries.reduce((a, b) => (a.year * 12 + a.month >= b.year * 12 + b.month ? a : b));
  return { year: latest.year, month: latest.month, leads: ds.merchants.flatMap((m) => m.leads) };
}

/** Posts bodies `concurrency` at a time. */
async function postAll(wf: WebhookFixture, bodies: readonly unknown[], concurrency: number): Promise<Delivery[]> {
  const answers: Delivery[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        answers[i] = await wf.post(bodies[i]);
      }
    }),
  );
  return answers;
}

const webhookRuns = async (wf: WebhookFixture) => (await wf.runs()).filter((r) => r.trigger === "webhook");

describe("coalescing", { timeout: 120_000 }, () => {
  it("refreshes a month once for 500 deliveries about it within a minute", async () => {
    const wf = await fixture(91);
    const { year, month } = await sandboxFacts(wf);
    // 500 deliveries over 50 seconds: IRIS publishing per processor and redelivering. The HTTP checks in front
    // are the route's (tested apart); here they go straight to what the route calls once a delivery passed them.
    for (let i = 0; i < 500; i++) {
      const receipt = await wf.receive(reportPublished(10_000 + i, year, month, 1 + (i % 2)));
      expect(receipt).toMatchObject({ duplicate: false, status: "queued" });
      if (i % 50 === 49) wf.advance(5);
    }
    // Eight consumer invocations at a time: the first ones race to start the month's run, and one wins.
    await wf.settle({ concurrency: 8 });

    const runs = await webhookRuns(wf);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "succeeded", streams: ["residuals"] });
    const events = await wf.events();
    expect(events).toHaveLength(500);
    expect(events.every((e) => e.status === "processed" && e.run_id === runs[0]!.id && e.attempts === 1)).toBe(true);

    // A publication after that refresh started is not covered by it: it gets its own.
    wf.advance(1);
    expect((await wf.post(reportPublished(20_000, year, month))).status).toBe(202);
    await wf.settle();
    expect(await webhookRuns(wf)).toHaveLength(2);
  });

  it("waits for a run that started before the delivery, then starts its own", async () => {
    const wf = await fixture(92);
    const { year, month } = await sandboxFacts(wf);
    const manual = await wf.fx.start({ dataType: "residuals", mode: "incremental" });
    wf.advance(1);
    expect((await wf.post(reportPublished(30_000, year, month))).status).toBe(202);
    wf.advance(60);
    const [waiting] = await wf.deliverDue();
    expect(waiting).toMatchObject({ outcome: "deferred", retryAfterSeconds: 30 });
    expect(waiting!.outcome === "deferred" && waiting!.reason).toContain(`run ${manual} holds residuals`);
    expect((await wf.events())[0]).toMatchObject({ status: "queued", run_id: null });

    await wf.settle();
    const runs = await wf.runs();
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([
      ["manual", "succeeded"],
      ["webhook", "succeeded"],
    ]);
    expect((await wf.events())[0]).toMatchObject({ status: "processed", run_id: runs[1]!.id });
  });

  it("covers the months of a multi-month publication one run at a time", async () => {
    const wf = await fixture(93);
    const { year, month } = await sandboxFacts(wf);
    const previous = month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 };
    const body = reportPublished(40_000, year, month);
    body.data.reports.push({ ...body.data.reports[0]!, year: previous.year, month: previous.month });
    expect((await wf.post(body)).status).toBe(202);
    await wf.settle();

    const runs = await webhookRuns(wf);
    const label = (y: number, m: number) => `${y}-${String(m).padStart(2, "0")}`;
    expect(runs.map((r) => r.params.residualMonths)).toEqual([[label(previous.year, previous.month)], [label(year, month)]]);
    const [event] = await wf.events();
    expect(event).toMatchObject({
      status: "processed",
      run_id: runs[1]!.id,
      result: { runs: { [label(previous.year, previous.month)]: runs[0]!.id, [label(year, month)]: runs[1]!.id } },
    });
  });
});

describe("concurrent deliveries", { timeout: 120_000 }, () => {
  it("answers 200 deliveries sent at once with 2xx, loses none and processes each once, even when messages come twice", async () => {
    const wf = await fixture(94);
    const { year, month, leads } = await sandboxFacts(wf);
    const someLeads = leads.slice(0, 5);
    const bodies = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? reportPublished(50_000 + i, year, month) : leadUpdated(50_000 + i, someLeads[i % someLeads.length]!),
    );
    const answers = await Promise.all(bodies.map((b) => wf.post(b)));
    expect(answers.filter((a) => a.status < 200 || a.status > 299)).toEqual([]);
    expect(answers.every((a) => a.status === 202)).toBe(true);

    const events = await wf.events();
    expect(events).toHaveLength(200);
    expect(new Set(events.map((e) => e.request_id))).toEqual(new Set(bodies.map((_, i) => 50_000 + i)));
    expect(wf.queue.webhooks).toHaveLength(200);

    // The queue delivers at least once: every message twice.
    wf.queue.webhooks.push(...wf.queue.webhooks.map((m) => ({ ...m })));
    await wf.fx.sandbox.control("POST", "/stats/reset");
    await wf.settle();

    const processed = await wf.events();
    expect(processed.filter((e) => e.status !== "processed")).toEqual([]);
    expect(processed.every((e) => e.attempts === 1)).toBe(true);
    expect(wf.outcomes.filter((o) => o.outcome === "processed")).toHaveLength(200);
    expect(wf.outcomes.filter((o) => o.outcome === "not-claimed")).toHaveLength(200);
    expect(await webhookRuns(wf)).toHaveLength(1);
    // Each of the five leads was looked up once; the other lead deliveries were covered by those refreshes.
    const stats = await wf.fx.sandbox.stats();
    expect((stats.byRoute as Record<string, number>)["GET /leads/{id}"]).toBe(someLeads.length);
  });
});

describe("while the circuit is open", { timeout: 120_000 }, () => {
  it("accepts and stores 50 deliveries, waits the circuit's Retry-After, and processes all of them after a reset", async () => {
    const wf = await fixture(95);
    const { year, month, leads } = await sandboxFacts(wf);
    const opened = await wf.admin("/api/circuit/open", { method: "POST", body: JSON.stringify({ seconds: 600 }) });
    expect(opened.status).toBe(200);

    const bodies = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? reportPublished(60_000 + i, year, month) : leadUpdated(60_000 + i, leads[i % leads.length]!)));
    const answers = await postAll(wf, bodies, 10);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(await wf.events()).toHaveLength(50);

    wf.advance(60);
    const waiting = await wf.deliverDue();
    expect(waiting).toHaveLength(50);
    const circuit = await (await wf.admin("/api/circuit")).json<{ status: string; retryAfterSeconds: number }>();
    expect(circuit.status).toBe("open");
    for (const outcome of waiting) {
      expect(outcome.outcome).toBe("deferred");
      if (outcome.outcome === "deferred") {
        expect(outcome.retryAfterSeconds).toBeGreaterThanOrEqual(circuit.retryAfterSeconds);
        expect(outcome.retryAfterSeconds).toBeLessThanOrEqual(550);
      }
    }
    expect((await wf.events()).every((e) => e.status === "queued")).toBe(true);
    expect(await wf.runs()).toEqual([]);

    expect((await wf.admin("/api/circuit/reset", { method: "POST" })).status).toBe(200);
    await wf.settle();
    const events = await wf.events();
    expect(events.filter((e) => e.status !== "processed")).toEqual([]);
    expect(await webhookRuns(wf)).toHaveLength(1);
  });
});

describe("the queue consumer and lost messages", { timeout: 60_000 }, () => {
  it("dispatches webhook messages from the sync queue, and keeps a dead-lettered one open for the sweep", async () => {
    const wf = await fixture(96);
    const { leads } = await sandboxFacts(wf);
    expect((await wf.post(leadUpdated(70_000, leads[0]!))).status).toBe(202);
    expect((await wf.post(leadUpdated(70_001, leads[1]!))).status).toBe(202);
    wf.advance(10);
    const [first, second] = wf.queue.webhooks.splice(0);

    const consumed = await wf.viaConsumer(first!);
    expect(consumed.acked).toBe(true);
    expect((await wf.events())[0]).toMatchObject({ status: "processed", attempts: 1 });

    // The queue gave up on the second message: the event stays open, and the sweep sends it again once stale.
    const dead = await wf.viaConsumer(second!, "iris-sync-dlq");
    expect(dead.acked).toBe(true);
    expect((await wf.events())[1]).toMatchObject({ status: "queued", attempts: 0 });
    const deps = { db: wf.fx.db, queue: wf.queue, config: wf.fx.config, clock: wf.fx.clock, log: wf.fx.log };
    await sweepAndEnqueue(deps);
    expect(wf.queue.webhooks).toEqual([]);
    wf.advance(wf.fx.config.sync.staleUnitSeconds + 1);
    await sweepAndEnqueue(deps);
    expect(wf.queue.webhooks.map((m) => m.eventId)).toEqual([second!.eventId]);
    await wf.settle();
    expect((await wf.events()).map((e) => e.status)).toEqual(["processed", "processed"]);
  });

  it("records an event failed after repeated processing errors instead of retrying forever; waits do not count", async () => {
    const wf = await fixture(97);
    const { year, month } = await sandboxFacts(wf);
    expect((await wf.post(reportPublished(80_000, year, month))).status).toBe(202);
    // Twelve waits for the circuit first: an event may wait as long as IRIS is down.
    for (let i = 0; i < 12; i++) {
      await wf.admin("/api/circuit/open", { method: "POST", body: JSON.stringify({ seconds: 120 }) });
      const due = Math.min(...wf.queue.webhooks.map((m) => m.dueAt));
      wf.fx.fake.advance(Math.max(0, due - wf.fx.fake.now()));
      expect((await wf.deliverDue()).map((o) => o.outcome)).toEqual(["deferred"]);
    }
    await wf.admin("/api/circuit/reset", { method: "POST" });
    expect((await wf.events())[0]).toMatchObject({ status: "queued", attempts: 12, result: null });
    // A run the event cannot be planned into: its processing keeps failing at the database.
    await wf.fx.db.execute(sql`alter table sync_runs add constraint no_webhook_runs check (trigger <> 'webhook')`);
    await wf.settle({ maxRounds: 50 });
    const [event] = await wf.events();
    expect(event).toMatchObject({ status: "failed", attempts: 22, result: { errors: 10 } });
    expect(event!.error).toContain("no_webhook_runs");
  });
});
