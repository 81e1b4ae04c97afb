// The per-instance control API under /_control: inspect and change the data, set faults, read counters, drive
// webhooks. JSON in and out, no API key, never subject to faults or the rate limit.

import { ymd } from "./calendar.ts";
import { datasetJson, parseDatasetQuery } from "./dataset-view.ts";
import { resolveFaults } from "./faults.ts";
import { ControlError, type Instance } from "./instance.ts";
import type { Reply } from "./iris-api.ts";
import { centsToString } from "./money.ts";
import { parseWebhookPatch } from "./options.ts";

export type ControlReply = Reply | { status: number; stream: Iterable<string> };

export async function handleControl(
  inst: Instance,
  method: string,
  path: string,
  query: URLSearchParams,
  readBody: () => Promise<unknown>,
): Promise<ControlReply> {
  const readJson = async (): Promise<Record<string, unknown>> => {
    const body = await readBody();
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ControlError(400, "expected a JSON object");
    return body as Record<string, unknown>;
  };
  const route = `${method} ${path.replace(/\/+$/, "") || "/"}`;
  try {
    switch (route) {
      case "GET /":
        return ok(inst.info());
      case "GET /dataset":
        return { status: 200, stream: datasetJson(inst.dataset, parseDatasetQuery(query)) };
      case "POST /merchants/modify":
        return ok(await inst.modifyMerchants(await readJson()));
      case "POST /residuals/restate":
        return ok(await inst.restate(await readJson()));
      case "POST /batches/add": {
        const { mid, batches } = inst.addBatches(await readJson());
        const m = inst.dataset.merchantByMid(mid)!;
        return ok({
          mid,
          firstBatch: m.firstBatch === null ? null : ymd(m.firstBatch),
          lastBatch: m.lastBatch === null ? null : ymd(m.lastBatch),
          modified: new Date(m.modified).toISOString(),
          batches: batches.map((b) => ({
            mid,
            date: ymd(b.day),
            referenceNumber: b.referenceNumber,
            terminalNumber: b.terminalNumber,
            amount: centsToString(b.amountCents),
            count: b.count,
          })),
        });
      }
      case "GET /faults":
        return ok({ settings: inst.faults.settings, requests: inst.faults.requests, counts: inst.faults.counts });
      case "PUT /faults": {
        const body = await readBody();
        // Accepts "chaos" (a JSON string), { "profile": "chaos" } or explicit settings.
        const profile = typeof body === "object" && body !== null ? (body as Record<string, unknown>).profile : undefined;
        const input = typeof profile === "string" ? profile : body;
        inst.faults.settings = resolveFaults(input);
        // A new setting restarts the seeded sequence so the same calls replay the same faults.
        inst.faults.reset();
        return ok({ settings: inst.faults.settings });
      }
      case "GET /stats":
        return ok(inst.stats.snapshot());
      case "POST /stats/reset":
        inst.stats.reset();
        return ok({ reset: true });
      case "GET /webhooks":
        return ok({ settings: inst.webhookSettings(), deliveries: inst.webhooks.deliveries() });
      case "PUT /webhooks": {
        Object.assign(inst.webhooks.config, parseWebhookPatch(await readJson()));
        return ok({ settings: inst.webhookSettings() });
      }
      case "POST /webhooks/send":
        return ok(await inst.sendWebhook(await readJson()));
      case "GET /rate-limit":
        return ok({ limitPerMinute: inst.limiter.limit, windowMs: inst.limiter.windowMs });
      case "PUT /rate-limit": {
        const body = await readJson();
        if (body.limitPerMinute !== undefined) {
          if (!Number.isInteger(body.limitPerMinute) || (body.limitPerMinute as number) < 1) throw new ControlError(400, "limitPerMinute must be an integer >= 1");
          inst.limiter.limit = body.limitPerMinute as number;
        }
        if (body.windowMs !== undefined) {
          if (!Number.isInteger(body.windowMs) || (body.windowMs as number) < 1) throw new ControlError(400, "windowMs must be an integer >= 1");
          inst.limiter.windowMs = body.windowMs as number;
        }
        inst.limiter.reset();
        return ok({ limitPerMinute: inst.limiter.limit, windowMs: inst.limiter.windowMs });
      }
      case "POST /rate-limit/reset":
        inst.limiter.reset();
        return ok({ reset: true });
      default:
        return { status: 404, body: { message: `no control route ${route}` } };
    }
  } catch (error) {
    if (error instanceof ControlError) return { status: error.status, body: { message: error.message } };
    if (error instanceof Error) return { status: 400, body: { message: error.message } };
    throw error;
  }
}

const ok = (body: unknown): Reply => ({ status: 200, body });
