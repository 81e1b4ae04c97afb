// IRIS "subscriptions" as a receiver sees them: POSTed JSON { hook: { requestId, event }, data }, no signature,
// sometimes the same requestId twice, and redelivery with backoff when the receiver fails.

import { hashSeed, mulberry32, type Rng } from "./prng.ts";

export interface WebhookConfig {
  /** Receiver URL; null disables deliveries (events are still numbered and logged as undelivered). */
  url: string | null;
  /** Share of deliveries (0..1) that are sent a second time with the same requestId. */
  duplicateRate: number;
  /** Retry when the receiver answers non-2xx or cannot be reached. */
  redeliver: boolean;
  /** Delay before each redelivery; its length is the number of retries. */
  retryDelaysMs: number[];
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [1000, 5000, 15000];

export interface DeliveryAttempt {
  at: string;
  /** HTTP status, or null when the request failed (error says why). */
  status: number | null;
  error?: string;
  duplicate: boolean;
}

export interface DeliveryRecord {
  requestId: number;
  event: string;
  url: string | null;
  attempts: number;
  statuses: (number | string)[];
  attemptLog: DeliveryAttempt[];
  duplicated: boolean;
  delivered: boolean;
  /** Redeliveries still scheduled. */
  pending: boolean;
}

export interface WebhookPayload {
  hook: { requestId: number; event: string };
  data: unknown;
}

export class WebhookSender {
  config: WebhookConfig;
  private nextRequestId: number;
  private readonly records: DeliveryRecord[] = [];
  private readonly rng: Rng;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly controllers = new Set<AbortController>();
  private readonly log: (line: string) => void;
  private closed = false;

  constructor(seed: number, config: WebhookConfig, log: (line: string) => void) {
    this.config = config;
    this.log = log;
    this.rng = mulberry32(hashSeed(seed, 0x400c));
    // requestIds increase per instance; starting away from 1 keeps them from looking like row ids.
    this.nextRequestId = 1000 + (hashSeed(seed, 0x1d) % 9000);
  }

  deliveries(): DeliveryRecord[] {
    return this.records.map((r) => ({ ...r, statuses: [...r.statuses], attemptLog: [...r.attemptLog] }));
  }

  /** Numbers and sends one event; resolves after the first attempt (and its duplicate, if any). */
  async send(event: string, data: unknown): Promise<DeliveryRecord> {
    const requestId = this.nextRequestId++;
    const payload: WebhookPayload = { hook: { requestId, event }, data };
    const record: DeliveryRecord = {
      requestId,
      event,
      url: this.config.url,
      attempts: 0,
      statuses: [],
      attemptLog: [],
      duplicated: false,
      delivered: false,
      pending: false,
    };
    this.records.push(record);
    // Drawn for every event so the duplicate pattern depends only on the seed and the event order.
    const duplicate = this.rng() < this.config.duplicateRate;
    if (!this.config.url || this.closed) return record;
    const body = JSON.stringify(payload);
    const ok = await this.attempt(record, body, false);
    if (duplicate && !this.closed) {
      record.duplicated = true;
      await this.attempt(record, body, true);
    }
    if (!ok && this.config.redeliver && this.config.retryDelaysMs.length > 0) {
      record.pending = true;
      this.scheduleRetry(record, body, 0);
    }
    return record;
  }

  private scheduleRetry(record: DeliveryRecord, body: string, retry: number): void {
    const delay = this.config.retryDelaysMs[retry];
    if (delay === undefined || this.closed) {
      record.pending = false;
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(record, body, false).then((ok) => {
        if (ok || this.closed) record.pending = false;
        else this.scheduleRetry(record, body, retry + 1);
      });
    }, delay);
    this.timers.add(timer);
  }

  private async attempt(record: DeliveryRecord, body: string, duplicate: boolean): Promise<boolean> {
    const url = record.url!;
    const controller = new AbortController();
    this.controllers.add(controller);
    const timeout = setTimeout(() => controller.abort(new Error("timeout")), this.config.timeoutMs);
    record.attempts++;
    const entry: DeliveryAttempt = { at: new Date().toISOString(), status: null, duplicate };
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "IRIS-CRM-Subscriptions (sandbox)" },
        body,
        signal: controller.signal,
      });
      // Drain the body so the connection can be reused or closed.
      await res.arrayBuffer().catch(() => undefined);
      entry.status = res.status;
      record.statuses.push(res.status);
      const ok = res.status >= 200 && res.status < 300;
      if (ok) record.delivered = true;
      this.log(`webhook ${record.event} #${record.requestId}${duplicate ? " (duplicate)" : ""} -> ${res.status}`);
      return ok;
    } catch (error) {
      const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      entry.error = message;
      record.statuses.push(`error: ${message}`);
      this.log(`webhook ${record.event} #${record.requestId} failed: ${message}`);
      return false;
    } finally {
      clearTimeout(timeout);
      this.controllers.delete(controller);
      record.attemptLog.push(entry);
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort(new Error("sandbox closed"));
    for (const r of this.records) r.pending = false;
  }
}
