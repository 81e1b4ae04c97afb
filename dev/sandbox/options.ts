// Options of the sandbox and of the instances created through the control API, validated in one place.

import { resolveFaults, type FaultProfileName, type FaultSettings } from "./faults.ts";
import { resolveSize, type SizeKnobs, type SizeName } from "./sizes.ts";
import { DEFAULT_RETRY_DELAYS_MS, type WebhookConfig } from "./webhooks.ts";

export interface SandboxOptions {
  port?: number; // 0 or undefined = pick a free port
  host?: string; // default 127.0.0.1
  apiKey?: string; // default "sandbox-key"
  seed?: number; // default 1
  size?: SizeName | SizeKnobs; // default "small"
  faults?: FaultProfileName | FaultSettings; // default none
  rateLimitPerMinute?: number; // default 500
  webhookUrl?: string; // where the webhook sender posts; unset = no deliveries
  log?: (line: string) => void;
  /** "Today" of the generated data (default: the real current time). Pin it for date-exact tests. */
  now?: Date | string | number;
  /** UTC offset of the instance's ISO date-times and calendar dates, in minutes (default -300, i.e. -05:00). */
  utcOffsetMinutes?: number;
  /** Wall clock in ms for the rate-limit window and for times of changes (default Date.now); inject to test time. */
  clock?: () => number;
  /** Length of the rate-limit window (default 60 000). */
  rateLimitWindowMs?: number;
  /** Share of webhook deliveries sent twice with the same requestId (default 0). */
  webhookDuplicateRate?: number;
  /** Delays before webhook redeliveries (default 1 s, 5 s, 15 s); short ones make tests fast. */
  webhookRetryDelaysMs?: number[];
  /** Per-attempt timeout of webhook deliveries (default 10 000). */
  webhookTimeoutMs?: number;
}

/** What an instance is made from; the root's values are the defaults for instances created later. */
export interface InstanceSettings {
  seed: number;
  size: Required<SizeKnobs>;
  sizeLabel: string;
  faults: FaultSettings;
  apiKey: string;
  rateLimitPerMinute: number;
  rateLimitWindowMs: number;
  webhook: WebhookConfig;
  nowMs: number | null;
  utcOffsetMinutes: number;
}

export function rootSettings(o: SandboxOptions): InstanceSettings {
  return {
    seed: checkSeed(o.seed ?? 1),
    size: resolveSize(o.size ?? "small"),
    sizeLabel: typeof o.size === "string" ? o.size : o.size ? "custom" : "small",
    faults: resolveFaults(o.faults ?? "none"),
    apiKey: checkKey(o.apiKey ?? "sandbox-key"),
    rateLimitPerMinute: checkPositiveInt(o.rateLimitPerMinute ?? 500, "rateLimitPerMinute"),
    rateLimitWindowMs: checkPositiveInt(o.rateLimitWindowMs ?? 60_000, "rateLimitWindowMs"),
    webhook: {
      url: o.webhookUrl ? checkUrl(o.webhookUrl) : null,
      duplicateRate: checkRate(o.webhookDuplicateRate ?? 0, "webhookDuplicateRate"),
      redeliver: true,
      retryDelaysMs: checkDelays(o.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS),
      timeoutMs: checkPositiveInt(o.webhookTimeoutMs ?? 10_000, "webhookTimeoutMs"),
    },
    nowMs: o.now === undefined ? null : parseNow(o.now),
    utcOffsetMinutes: checkOffset(o.utcOffsetMinutes ?? -300),
  };
}

/**
 * Settings for POST /_control/instances. Unset fields inherit the root's data settings (size, seed, now, API
 * key, rate limit, offset); faults start at none and webhooks at no URL, because those belong to the caller.
 */
export function instanceSettings(body: Record<string, unknown>, root: InstanceSettings): InstanceSettings {
  const known = new Set([
    "seed", "size", "faults", "apiKey", "webhookUrl", "rateLimitPerMinute", "rateLimitWindowMs", "now", "utcOffsetMinutes",
    "duplicateRate", "redeliver", "retryDelaysMs", "webhookDuplicateRate", "webhookRetryDelaysMs", "timeoutMs",
  ]);
  for (const key of Object.keys(body)) if (!known.has(key)) throw new Error(`unknown instance option "${key}"`);
  const size = body.size as SizeName | SizeKnobs | undefined;
  const webhook: WebhookConfig = {
    url: null,
    duplicateRate: 0,
    redeliver: true,
    retryDelaysMs: [...root.webhook.retryDelaysMs],
    timeoutMs: root.webhook.timeoutMs,
  };
  Object.assign(
    webhook,
    parseWebhookPatch({
      url: body.webhookUrl,
      duplicateRate: body.duplicateRate ?? body.webhookDuplicateRate,
      redeliver: body.redeliver,
      retryDelaysMs: body.retryDelaysMs ?? body.webhookRetryDelaysMs,
      timeoutMs: body.timeoutMs,
    }),
  );
  return {
    seed: body.seed === undefined ? root.seed : checkSeed(body.seed),
    size: size === undefined ? root.size : resolveSize(size),
    sizeLabel: size === undefined ? root.sizeLabel : typeof size === "string" ? size : "custom",
    faults: resolveFaults(body.faults ?? "none"),
    apiKey: body.apiKey === undefined ? root.apiKey : checkKey(body.apiKey),
    rateLimitPerMinute: body.rateLimitPerMinute === undefined ? root.rateLimitPerMinute : checkPositiveInt(body.rateLimitPerMinute, "rateLimitPerMinute"),
    rateLimitWindowMs: body.rateLimitWindowMs === undefined ? root.rateLimitWindowMs : checkPositiveInt(body.rateLimitWindowMs, "rateLimitWindowMs"),
    webhook,
    nowMs: body.now === undefined ? root.nowMs : parseNow(body.now),
    utcOffsetMinutes: body.utcOffsetMinutes === undefined ? root.utcOffsetMinutes : checkOffset(body.utcOffsetMinutes),
  };
}

/** Fields of PUT /_control/webhooks; undefined fields are left out so they keep their value. */
export function parseWebhookPatch(body: Record<string, unknown>): Partial<WebhookConfig> {
  const patch: Partial<WebhookConfig> = {};
  if (body.url !== undefined) patch.url = body.url === null || body.url === "" ? null : checkUrl(body.url);
  if (body.duplicateRate !== undefined) patch.duplicateRate = checkRate(body.duplicateRate, "duplicateRate");
  if (body.redeliver !== undefined) {
    if (typeof body.redeliver !== "boolean") throw new Error("redeliver must be a boolean");
    patch.redeliver = body.redeliver;
  }
  if (body.retryDelaysMs !== undefined) patch.retryDelaysMs = checkDelays(body.retryDelaysMs);
  if (body.timeoutMs !== undefined) patch.timeoutMs = checkPositiveInt(body.timeoutMs, "timeoutMs");
  return patch;
}

export function parseNow(value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new Error(`now must be a date, an ISO string or epoch ms`);
  return ms;
}

function checkSeed(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) throw new Error("seed must be an integer 0..4294967295");
  return v as number;
}

function checkKey(v: unknown): string {
  if (typeof v !== "string" || v === "") throw new Error("apiKey must be a non-empty string");
  return v;
}

function checkPositiveInt(v: unknown, name: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${name} must be an integer >= 1`);
  return v as number;
}

function checkRate(v: unknown, name: string): number {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new Error(`${name} must be between 0 and 1`);
  return v;
}

function checkUrl(v: unknown): string {
  if (typeof v !== "string") throw new Error("webhook url must be a string");
  const u = new URL(v);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("webhook url must be http(s)");
  return v;
}

function checkDelays(v: unknown): number[] {
  if (!Array.isArray(v) || v.length > 10 || v.some((d) => !Number.isInteger(d) || d < 0 || d > 600_000)) {
    throw new Error("retryDelaysMs must be up to 10 integers of 0..600000 ms");
  }
  return [...(v as number[])];
}

function checkOffset(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < -720 || (v as number) > 840) throw new Error("utcOffsetMinutes must be -720..840");
  return v as number;
}
