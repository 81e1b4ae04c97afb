import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sweepAndEnqueue } from "../src/sync/triggers.ts";
import { planWebhook } from "../src/webhooks/events.ts";
import { type Connection, STORE_ATTEMPTS, isTransientDbError, receiveWithRetry } from "../src/webhooks/receive.ts";
import { WEBHOOK_PATH, WEBHOOK_SECRET, WebhookFixture, leadUpdated, reportPublished } from "./support/webhook.ts";

// One database for the file; each test uses its own requestIds, so tests never see each other's rows.
let wf: WebhookFixture;
let nextRequestId = 50_000;
const rid = () => ++nextRequestId;

beforeAll(async () => {
  wf = await WebhookFixture.create({ sandbox: { size: "tiny", seed: 71 }, env: { WEBHOOK_MAX_BODY_BYTES: "2048" } });
}, 30_000);
afterAll(async () => {
  await wf?.close();
});
afterEach(() => {
  wf.queue.failing = false;
  vi.restoreAllMocks();
});

async function stored(requestId: number) {
  return wf.fx.select<{ id: number; status: string; event: string; payload: unknown; result: Record<string, unknown> | null; next_attempt_at: string | null }>(
    sql`select id::int, status, event, payload, result, next_attempt_at from webhook_events where request_id = ${requestId}`,
  );
}
const count = async () => Number((await wf.fx.select<{ n: string }>(sql`select count(*)::text as n from webhook_events`))[0]!.n);

describe("authenticating a delivery", () => {
  it("answers 401 to a wrong or missing secret and stores nothing", async () => {
    const before = await count();
    const queued = wf.queue.webhooks.length;
    const requestId = rid();
    for (const path of ["/webhooks/iris/wrong-secret-value", `/webhooks/iris/${WEBHOOK_SECRET}x`, "/webhooks/iris/test-webhook-secre", "/webhooks/iris"]) {
      const res = await wf.post(reportPublished(requestId, 2026, 10), { path });
      expect(res.status, path).toBe(401);
      expect(res.body).toEqual({ error: "unauthorized" });
    }
    expect(await count()).toBe(before);
    expect(wf.queue.webhooks.length).toBe(queued);
  });

  it("never writes the secret to the log, whatever the answer", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    await wf.post(leadUpdated(rid(), 1));
    await wf.post("{nope");
    await wf.post(leadUpdated(rid(), 1), { path: "/webhooks/iris/almost-the-secret" });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes("/webhooks/iris/:token"))).toBe(true);
    expect(lines.filter((l) => l.includes(WEBHOOK_SECRET) || l.includes("almost-the-secret"))).toEqual([]);
  });

  it("answers 404 when no secret is configured", async () => {
    const res = await wf.post(leadUpdated(rid(), 1), { env: { ...wf.env, IRIS_WEBHOOK_SECRET: "" } as Env });
    expect(res.status).toBe(404);
  });
});

describe("the source address allow-list", () => {
  const withList = (list: string) => ({ ...wf.env, IRIS_WEBHOOK_ALLOWED_IPS: list }) as Env;

  it("accepts deliveries from listed IPv4 and IPv6 ranges and refuses others with 403, storing nothing", async () => {
    const env = withList("203.0.113.0/24, 2001:db8::/32");
    const inside4 = rid();
    const inside6 = rid();
    const outside = rid();
    const missing = rid();
    expect((await wf.post(leadUpdated(inside4, 1), { env, headers: { "CF-Connecting-IP": "203.0.113.7" } })).status).toBe(202);
    expect((await wf.post(leadUpdated(inside6, 1), { env, headers: { "CF-Connecting-IP": "2001:db8::42" } })).status).toBe(202);
    const refused = await wf.post(leadUpdated(outside, 1), { env, headers: { "CF-Connecting-IP": "198.51.100.1" } });
    expect(refused.status).toBe(403);
    expect((await wf.post(leadUpdated(missing, 1), { env })).status).toBe(403);
    expect(await stored(inside4)).toHaveLength(1);
    expect(await stored(inside6)).toHaveLength(1);
    expect(await stored(outside)).toEqual([]);
    expect(await stored(missing)).toEqual([]);
  });

  it("checks the secret before the address", async () => {
    const env = withList("203.0.113.0/24");
    const res = await wf.post(leadUpdated(rid(), 1), { env, path: "/webhooks/iris/wrong", headers: { "CF-Connecting-IP": "198.51.100.1" } });
    expect(res.status).toBe(401);
  });

  it("refuses every delivery while the list holds an entry that is not a range, naming the variable", async () => {
    const requestId = rid();
    const res = await wf.post(leadUpdated(requestId, 1), { env: withList("203.0.113.0/24, 10.0.0.0/99"), headers: { "CF-Connecting-IP": "203.0.113.7" } });
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).toContain("IRIS_WEBHOOK_ALLOWED_IPS");
    expect(await stored(requestId)).toEqual([]);
  });
});

describe("reading the body", () => {
  it("answers 413 past WEBHOOK_MAX_BODY_BYTES, by Content-Length and by the bytes actually sent, storing nothing", async () => {
    const before = await count();
    const big = { ...leadUpdated(rid(), 1), padding: "x".repeat(3000) };
    expect((await wf.post(big)).status).toBe(413);

    // No Content-Length: a streamed body is cut off once it passes the limit.
    const bytes = new TextEncoder().encode(JSON.stringify({ ...leadUpdated(rid(), 1), padding: "y".repeat(3000) }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 500) controller.enqueue(bytes.slice(i, i + 500));
        controller.close();
      },
    });
    const res = await wf.app().request(WEBHOOK_PATH, { method: "POST", headers: { "Content-Type": "application/json" }, body: stream });
    expect(res.status).toBe(413);
    expect(await count()).toBe(before);

    // Just under the limit is fine.
    const fits = { ...leadUpdated(rid(), 1), padding: "z".repeat(1800) };
    expect(JSON.stringify(fits).length).toBeLessThan(2048);
    expect((await wf.post(fits)).status).toBe(202);
  });

  it.each([
    ["not JSON", "{nope", "invalid json", ""],
    ["nesting deeper than 64 levels", `${"[".repeat(100)}${"]".repeat(100)}`, "invalid json", ""],
    ["a NUL character", { hook: { requestId: 9, event: "lead.up\u0000dated" }, data: {} }, "invalid json", ""],
    ["no hook", { data: {} }, "invalid webhook", "hook"],
    ["no requestId", { hook: { event: "lead.updated" }, data: {} }, "invalid webhook", "hook.requestId"],
    ["a negative requestId", { hook: { requestId: -4, event: "lead.updated" }, data: {} }, "invalid webhook", "hook.requestId"],
    ["no event", { hook: { requestId: 9 }, data: {} }, "invalid webhook", "hook.event"],
    ["a report month 13", { hook: { requestId: 9, event: "residuals.report.published" }, data: { reports: [{ year: 2026, month: 13, processor_id: 1 }] } }, "invalid webhook", "data"],
    ["a lead event without a lead", { hook: { requestId: 9, event: "lead.updated" }, data: {} }, "invalid webhook", "data"],
  ])("answers 400 with details to %s, storing nothing", async (_name, body, error, path) => {
    const before = await count();
    const res = await wf.post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
    expect((res.body.details as { path: string }[]).map((d) => d.path)).toContain(path);
    expect(await count()).toBe(before);
  });
});

describe("storing deliveries", () => {
  it("stores an event to process, queues it after the coalescing delay and answers 202 at once", async () => {
    const requestId = rid();
    const now = wf.fx.fake.now();
    const res = await wf.post(reportPublished(requestId, 2026, 10));
    expect(res.status).toBe(202);
    const [row] = await stored(requestId);
    expect(res.body).toEqual({ requestId, eventId: row!.id, status: "queued" });
    expect(row).toMatchObject({ status: "queued", event: "residuals.report.published" });
    expect(new Date(row!.next_attempt_at!).getTime()).toBe(now + 60_000);
    expect(wf.queue.webhooks).toContainEqual({ eventId: row!.id, dueAt: now + 60_000, attempts: 1 });
  });

  it("acknowledges a duplicate requestId with 200 { duplicate: true } and keeps one row and one message", async () => {
    const requestId = rid();
    const first = await wf.post(leadUpdated(requestId, 3));
    const again = await wf.post(leadUpdated(requestId, 3));
    const different = await wf.post(reportPublished(requestId, 2026, 9));
    expect(first.status).toBe(202);
    expect(again).toEqual({ status: 200, body: { duplicate: true, requestId } });
    expect(different).toEqual({ status: 200, body: { duplicate: true, requestId } });
    const rows = await stored(requestId);
    expect(rows).toHaveLength(1);
    expect(wf.queue.webhooks.filter((m) => m.eventId === rows[0]!.id)).toHaveLength(1);
  });

  it("stores one row when copies of a delivery arrive at the same time", async () => {
    const requestId = rid();
    const answers = await Promise.all(Array.from({ length: 8 }, () => wf.post(leadUpdated(requestId, 5))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(7);
    expect(await stored(requestId)).toHaveLength(1);
  });

  it("records events it does not act on as ignored, without card data, and answers subscription.test", async () => {
    const chargeback = rid();
    const ticket = rid();
    const ping = rid();
    const res = await wf.post({
      hook: { requestId: chargeback, event: "chargeback.added" },
      data: { chargebacks: [{ chargeback: { merchant_id: "123", card_number: "4111********1111", amount: "10.00" } }] },
    });
    expect(res).toEqual({ status: 200, body: { requestId: chargeback, eventId: expect.any(Number), status: "ignored" } });
    expect((await wf.post({ hook: { requestId: ticket, event: "ticket.created" }, data: { whatever: 1 } })).body.status).toBe("ignored");
    const test = await wf.post({ hook: { requestId: ping, event: "subscription.test" }, data: { message: "Test event data from https://iriscrm.com" } });
    expect(test).toEqual({ status: 200, body: { requestId: ping, eventId: expect.any(Number), status: "processed" } });

    const [row] = await stored(chargeback);
    expect(row!.status).toBe("ignored");
    expect(JSON.stringify(row!.payload)).not.toContain("4111");
    expect(row!.payload).toEqual({ hook: { requestId: chargeback, event: "chargeback.added" }, data: { chargebacks: [{ chargeback: { merchant_id: "123", amount: "10.00" } }] } });
    expect((await stored(ping))[0]).toMatchObject({ status: "processed", result: { ping: true } });
    const ids = new Set([...(await stored(chargeback)), ...(await stored(ticket)), ...(await stored(ping))].map((r) => r.id));
    expect(wf.queue.webhooks.filter((m) => ids.has(m.eventId))).toEqual([]);
  });

  it("keeps a delivery whose queue send failed as received, and the sweep sends it later", async () => {
    const requestId = rid();
    wf.queue.failing = true;
    const res = await wf.post(leadUpdated(requestId, 2));
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("received");
    const [row] = await stored(requestId);
    expect(row!.status).toBe("received");
    wf.queue.failing = false;

    const deps = { db: wf.fx.db, queue: wf.queue, config: wf.fx.config, clock: wf.fx.clock, log: wf.fx.log };
    await sweepAndEnqueue(deps);
    expect(wf.queue.webhooks.some((m) => m.eventId === row!.id)).toBe(false); // still within the grace period
    wf.advance(61);
    await sweepAndEnqueue(deps);
    expect(wf.queue.webhooks.filter((m) => m.eventId === row!.id)).toHaveLength(1);
    expect((await stored(requestId))[0]!.status).toBe("queued");
  });
});

describe("GET /api/webhooks", () => {
  it("needs the admin token", async () => {
    expect((await wf.app().request("/api/webhooks")).status).toBe(401);
    expect((await wf.app().request("/api/webhooks", { headers: { Authorization: "Bearer test-portal-token" } })).status).toBe(403);
  });

  it("lists the latest deliveries first with their status, and their payload only when asked", async () => {
    const older = rid();
    const newer = rid();
    await wf.post(leadUpdated(older, 4));
    wf.advance(1);
    await wf.post({ hook: { requestId: newer, event: "ticket.created" }, data: {} });
    const res = await wf.admin("/api/webhooks?limit=2");
    expect(res.status).toBe(200);
    const { events } = await res.json<{ events: Record<string, unknown>[] }>();
    expect(events.map((e) => e.requestId)).toEqual([newer, older]);
    expect(events[0]).toMatchObject({ event: "ticket.created", status: "ignored", attempts: 0, runId: null });
    expect(events[1]).toMatchObject({ event: "lead.updated", status: "queued" });
    expect(events.every((e) => !("payload" in e))).toBe(true);

    const withPayload = await (await wf.admin("/api/webhooks?limit=1&payload=true")).json<{ events: Record<string, unknown>[] }>();
    expect(withPayload.events[0]!.payload).toEqual({ hook: { requestId: newer, event: "ticket.created" }, data: {} });
    const filtered = await (await wf.admin("/api/webhooks?status=ignored&event=ticket.created")).json<{ events: Record<string, unknown>[] }>();
    expect(filtered.events.length).toBeGreaterThan(0);
    expect(filtered.events.every((e) => e.status === "ignored" && e.event === "ticket.created")).toBe(true);
    expect(JSON.stringify(withPayload)).not.toContain(WEBHOOK_SECRET);
  });

  it("answers 400 to a bad limit or status", async () => {
    expect((await wf.admin("/api/webhooks?limit=0")).status).toBe(400);
    expect((await wf.admin("/api/webhooks?status=lost")).status).toBe(400);
    expect((await wf.admin("/api/webhooks?event=%00")).status).toBe(400);
  });
});

describe("storing while the database refuses connections", () => {
  const refused = () => Object.assign(new Error("Failed query: insert into webhook_events ..."), { cause: Object.assign(new Error("sorry, too many clients already"), { code: "53300" }) });

  it("tells connection trouble from a failing statement", () => {
    expect(isTransientDbError(refused())).toBe(true);
    expect(isTransientDbError(Object.assign(new Error("x"), { code: "08006" }))).toBe(true);
    expect(isTransientDbError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientDbError(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isTransientDbError(Object.assign(new Error("syntax"), { code: "42601" }))).toBe(false);
    expect(isTransientDbError("nope")).toBe(false);
  });

  it("tries again on a new connection after a backoff, and gives up after a few tries", async () => {
    const requestId = rid();
    const body = leadUpdated(requestId, 6);
    const planned = planWebhook(body.hook.event, body.data);
    if (!planned.ok) throw new Error("bad body");
    const delivery = { requestId, event: body.hook.event, body, plan: planned.plan };
    const deps = { queue: wf.queue, clock: wf.fx.clock, random: () => 0.5, log: wf.fx.log };
    const ended: boolean[] = [];
    let failures = 2;
    const connect = (): Connection => {
      if (failures-- > 0) return { db: { execute: () => Promise.reject(refused()) } as unknown as Connection["db"], end: async (after) => void ended.push(after) };
      return { db: wf.fx.db, end: async (after) => void ended.push(after) };
    };
    const backoffsBefore = wf.fx.fake.delays("backoff").length;
    const receipt = await receiveWithRetry(connect, deps, delivery);
    expect(receipt).toMatchObject({ duplicate: false, requestId, status: "queued" });
    expect(ended).toEqual([false, false, true]);
    expect(wf.fx.fake.delays("backoff").length - backoffsBefore).toBe(2);
    expect(await stored(requestId)).toHaveLength(1);

    let tries = 0;
    const never = (): Connection => {
      tries++;
      return { db: { execute: () => Promise.reject(refused()) } as unknown as Connection["db"], end: async () => undefined };
    };
    await expect(receiveWithRetry(never, deps, { ...delivery, requestId: rid() })).rejects.toSatisfy(isTransientDbError);
    expect(tries).toBe(STORE_ATTEMPTS);

    let statementTries = 0;
    const broken = (): Connection => {
      statementTries++;
      return { db: { execute: () => Promise.reject(Object.assign(new Error("syntax"), { code: "42601" })) } as unknown as Connection["db"], end: async () => undefined };
    };
    await expect(receiveWithRetry(broken, deps, { ...delivery, requestId: rid() })).rejects.toThrow("syntax");
    expect(statementTries).toBe(1);
  });
});
