import { type Context, Hono, type MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import { z } from "zod";
import type { AppEnv } from "../../app.ts";
import { type Config, ConfigError } from "../../config.ts";
import { createDb } from "../../db/client.ts";
import { WEBHOOK_EVENT_STATUSES } from "../../db/schema.ts";
import { ApiError } from "../../http-errors.ts";
import { irisWebhookSchema } from "../../iris/schemas.ts";
import { requireToken } from "../../middleware/auth.ts";
import { validate } from "../../middleware/validate.ts";
import { text } from "../../read/params.ts";
import { describeRoute, markRequest } from "../../openapi/registry.ts";
import { deferFor, requestLogger, withRequestDb } from "../../services.ts";
import type { UnitQueue } from "../../sync/execute.ts";
import type { SyncDb } from "../../sync/runs.ts";
import { readLimitedBody, unstorableJson } from "../../webhooks/body.ts";
import { planWebhook } from "../../webhooks/events.ts";
import { type Cidr, ipAllowed, parseAllowList } from "../../webhooks/ip-allow-list.ts";
import {
  type Connection,
  type Receipt,
  STORE_CONNECTIONS_PER_ISOLATE,
  STORE_SLOT_LEASE_MS,
  isTransientDbError,
  receiveWithRetry,
} from "../../webhooks/receive.ts";
import { SlotLimiter } from "../../webhooks/slot-limiter.ts";
import { listEvents } from "../../webhooks/store.ts";

// The allow-list is parsed once per config object (once per isolate). A malformed entry refuses every delivery:
// a typo must not silently open the endpoint to everyone, nor shut it without saying why.
const allowLists = new WeakMap<Config, Cidr[] | ConfigError>();

function allowListOf(config: Config): Cidr[] {
  let entry = allowLists.get(config);
  if (!entry) {
    const { cidrs, invalid } = parseAllowList(config.webhookAllowedIps);
    entry =
      invalid.length > 0
        ? new ConfigError([{ variable: "IRIS_WEBHOOK_ALLOWED_IPS", message: `not an IP address or CIDR range: ${invalid.join(", ")}` }])
        : cidrs;
    allowLists.set(config, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}

const logFor = requestLogger;

function withDb<T>(c: Context<AppEnv>, work: (db: SyncDb) => Promise<T>): Promise<T> {
  return withRequestDb<SyncDb, T>(c, work);
}

// Deliveries this isolate is storing at once, each on its own connection; more wait their turn (milliseconds).
const storeSlots = new SlotLimiter(STORE_CONNECTIONS_PER_ISOLATE, STORE_SLOT_LEASE_MS);

// The body is read by the handler itself (size limit first), so this only carries its schema for the document.
const documentedBody: MiddlewareHandler = markRequest(async (_c, next) => {
  await next();
}, "json", irisWebhookSchema);

const Receipt = z.object({
  requestId: z.int(),
  status: z.enum(["queued", "received", "ignored", "processed"]),
  eventId: z.int(),
});

export const webhookRoutes = new Hono<AppEnv>().post(
  "/webhooks/iris/:token?",
  describeRoute({
    summary: "Receive an IRIS subscription delivery",
    description:
      "The IRIS subscription URL: `:token` is IRIS_WEBHOOK_SECRET (compared in constant time). Optional source " +
      "allow-list IRIS_WEBHOOK_ALLOWED_IPS (CIDRs, checked against CF-Connecting-IP); body limit WEBHOOK_MAX_BODY_BYTES. " +
      "Every delivery is stored once per `hook.requestId`; processing goes through the queue. See src/routes/webhooks/README.md.",
    tags: ["webhooks"],
    responses: {
      202: { description: "Stored; processing is queued.", schema: Receipt },
      200: {
        description: "A duplicate requestId (`{ duplicate: true }`, nothing done twice), or an event recorded without processing (ignored, or subscription.test).",
        schema: z.union([z.object({ duplicate: z.literal(true), requestId: z.int() }), Receipt]),
      },
      401: { description: "Wrong secret in the URL. Nothing is stored." },
      403: { description: "The source address is not in IRIS_WEBHOOK_ALLOWED_IPS. Nothing is stored." },
      404: { description: "Webhooks are not configured (no IRIS_WEBHOOK_SECRET)." },
      413: { description: "The body is larger than WEBHOOK_MAX_BODY_BYTES. Nothing is stored." },
      503: { description: "The database refused connections even after retrying; IRIS delivers again later." },
    },
  }),
  documentedBody,
  async (c) => {
    const config = c.var.config;
    const log = logFor(c);
    if (!config.webhookSecret) {
      log("webhook.disabled");
      throw new ApiError(404, "not found");
    }
    // The token is never logged: the request log names the route pattern, and nothing here repeats the path.
    if (!(await timingSafeEqual(c.req.param("token") ?? "", config.webhookSecret))) throw new ApiError(401, "unauthorized");

    const allowed = allowListOf(config);
    if (allowed.length > 0) {
      const ip = c.req.header("CF-Connecting-IP") ?? "";
      if (!ipAllowed(ip, allowed)) {
        log("webhook.ip_refused", { ip: ip.slice(0, 64) });
        throw new ApiError(403, "forbidden", { details: "source address not allowed" });
      }
    }

    const read = await readLimitedBody(c.req.raw, config.webhookMaxBodyBytes);
    if (!read.ok) throw new ApiError(413, "payload too large", { details: `at most ${config.webhookMaxBodyBytes} bytes` });

    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(read.bytes));
    } catch (error) {
      throw new ApiError(400, "invalid json", { details: [{ path: "", message: error instanceof Error ? error.message : "not JSON" }] });
    }
    const unstorable = unstorableJson(json);
    if (unstorable) throw new ApiError(400, "invalid json", { details: [{ path: "", message: unstorable }] });
    const envelope = irisWebhookSchema.safeParse(json);
    if (!envelope.success) {
      throw new ApiError(400, "invalid webhook", {
        details: envelope.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
      });
    }
    const { requestId, event } = envelope.data.hook;
    const planned = planWebhook(event, envelope.data.data);
    if (!planned.ok) throw new ApiError(400, "invalid webhook", { details: planned.problems });

    const defer = deferFor(c);
    const connect = (): Connection => {
      const database = createDb(c.env, { maxConnections: 1 });
      return {
        db: database.db as unknown as SyncDb,
        end: async (afterAnswer) => {
          if (afterAnswer && defer) defer(database.end());
          else await database.end();
        },
      };
    };
    let receipt: Receipt;
    try {
      receipt = await storeSlots.run(
        () => c.var.clock.now(),
        () =>
          receiveWithRetry(
            connect,
            { queue: c.env.SYNC_QUEUE as UnitQueue, clock: c.var.clock, random: c.var.random, log },
            { requestId, event, body: json, plan: planned.plan },
          ),
      );
    } catch (error) {
      // Out of connections even after retrying: IRIS delivers again later, and nothing was stored twice.
      if (isTransientDbError(error)) throw new ApiError(503, "database unavailable", {}, { "Retry-After": "5" });
      throw error;
    }
    if (receipt.duplicate) return c.json({ duplicate: true, requestId }, 200);
    const { eventId, status } = receipt;
    return c.json({ requestId, eventId, status }, status === "queued" || status === "received" ? 202 : 200);
  },
);

const wholeNumber = z.union([z.int(), z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number)]);
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

export const WebhookListQuery = z.object({
  limit: wholeNumber.pipe(z.int().min(1).max(500)).optional(),
  status: z.enum(WEBHOOK_EVENT_STATUSES).optional(),
  event: text(200).optional(),
  payload: flag.optional(),
});

const WebhookEventView = z.object({
  id: z.int(),
  requestId: z.int(),
  event: z.string(),
  status: z.enum(WEBHOOK_EVENT_STATUSES),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
  attempts: z.int(),
  error: z.string().nullable(),
  runId: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  nextAttemptAt: z.string().nullable(),
  payload: z.unknown().optional(),
});

export const webhookAdminRoutes = new Hono<AppEnv>()
  .use("/webhooks", requireToken({ allow: ["admin"] }))
  .get(
    "/webhooks",
    describeRoute({
      summary: "Recent IRIS webhook deliveries and their processing status",
      description: "Newest first. `payload=true` adds each stored body (card data already removed).",
      tags: ["webhooks"],
      responses: { 200: { description: "Deliveries", schema: z.object({ events: z.array(WebhookEventView) }) } },
    }),
    validate("query", WebhookListQuery),
    async (c) => {
      const query = c.req.valid("query");
      const events = await withDb(c, (db) =>
        listEvents(db, {
          limit: query.limit ?? 50,
          ...(query.status ? { status: query.status } : {}),
          ...(query.event ? { event: query.event } : {}),
          payload: query.payload ?? false,
        }),
      );
      return c.json({ events });
    },
  );
