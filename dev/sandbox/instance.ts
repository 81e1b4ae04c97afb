// One independent IRIS: its data, faults, rate limit, counters and webhook sender. The server holds a root
// instance plus any number created through POST /_control/instances, so parallel test files never share state.

import { localDay, monthKey, parseYmd } from "./calendar.ts";
import { Dataset, type Batch, type ModifyResult, type RestateResult } from "./dataset.ts";
import { FaultInjector, type FaultSettings } from "./faults.ts";
import { RateLimiter } from "./rate-limit.ts";
import type { SizeKnobs } from "./sizes.ts";
import { RequestStats } from "./stats.ts";
import { leadUpdatedData, publishedReport, sampleData } from "./webhook-payloads.ts";
import { WebhookSender, type DeliveryRecord, type WebhookConfig } from "./webhooks.ts";

export interface InstanceConfig {
  id: string;
  seed: number;
  size: Required<SizeKnobs>;
  sizeLabel: string;
  faults: FaultSettings;
  apiKey: string;
  rateLimitPerMinute: number;
  rateLimitWindowMs: number;
  webhook: WebhookConfig;
  /** "Now" of the generated data (ms). */
  nowMs: number;
  utcOffsetMinutes: number;
  /** Wall clock (ms); the instance's current time is nowMs plus the time elapsed on this clock. */
  clock: () => number;
  log: (line: string) => void;
}

export class ControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class Instance {
  readonly id: string;
  readonly config: InstanceConfig;
  readonly dataset: Dataset;
  readonly faults: FaultInjector;
  readonly limiter: RateLimiter;
  readonly stats = new RequestStats();
  readonly webhooks: WebhookSender;
  apiKey: string;
  /** Set by the server: public URL prefix of this instance (e.g. http://127.0.0.1:8790/i/abc). */
  publicBase = "";

  constructor(config: InstanceConfig) {
    this.id = config.id;
    this.config = config;
    this.apiKey = config.apiKey;
    const startedAt = config.clock();
    const now = (): number => config.nowMs + (config.clock() - startedAt);
    this.dataset = new Dataset({
      seed: config.seed,
      size: config.size,
      nowMs: config.nowMs,
      utcOffsetMinutes: config.utcOffsetMinutes,
      clock: now,
    });
    this.faults = new FaultInjector(config.seed, config.faults);
    this.limiter = new RateLimiter(config.rateLimitPerMinute, config.rateLimitWindowMs, config.clock);
    this.webhooks = new WebhookSender(config.seed, config.webhook, config.log);
  }

  info(): Record<string, unknown> {
    const ds = this.dataset;
    return {
      id: this.id,
      baseUrl: `${this.publicBase}/api/v1`,
      controlUrl: `${this.publicBase}/_control`,
      apiKey: this.apiKey,
      seed: ds.seed,
      size: this.config.sizeLabel,
      knobs: ds.size,
      now: new Date(ds.nowMs).toISOString(),
      currentTime: new Date(ds.now()).toISOString(),
      rateLimitPerMinute: this.limiter.limit,
      rateLimitWindowMs: this.limiter.windowMs,
      faults: this.faults.settings,
      webhooks: this.webhookSettings(),
    };
  }

  webhookSettings(): Record<string, unknown> {
    const c = this.webhooks.config;
    return { url: c.url, duplicateRate: c.duplicateRate, redeliver: c.redeliver, retryDelaysMs: c.retryDelaysMs, timeoutMs: c.timeoutMs };
  }

  /** Base for lead_url in payloads: the CRM's web root, i.e. this instance without /api/v1. */
  private get crmBase(): string {
    return this.publicBase;
  }

  // ---------------------------------------------------------------- control actions

  async modifyMerchants(input: { count?: unknown; mids?: unknown }): Promise<{ changed: ModifyResult[]; webhooks: DeliveryRecord[] }> {
    const ds = this.dataset;
    let targets;
    if (input.mids !== undefined) {
      if (!Array.isArray(input.mids) || input.mids.some((m) => typeof m !== "string" && typeof m !== "number")) {
        throw new ControlError(400, "mids must be an array of merchant numbers");
      }
      const mids = input.mids.map(String);
      const unknown = mids.filter((mid) => !ds.merchantByMid(mid));
      if (unknown.length > 0) throw new ControlError(404, `unknown mids: ${unknown.join(", ")}`);
      targets = mids.map((mid) => ds.merchantByMid(mid)!);
    } else {
      const count = input.count ?? 1;
      if (!Number.isInteger(count) || (count as number) < 1) throw new ControlError(400, "count must be an integer >= 1");
      targets = ds.pickMerchants(count as number);
    }
    const changed = targets.map((m) => ds.modify(m));
    const webhooks: DeliveryRecord[] = [];
    for (const m of targets) {
      for (const leadId of m.leads) webhooks.push(await this.webhooks.send("lead.updated", leadUpdatedData(ds, m, leadId, this.crmBase)));
    }
    return { changed, webhooks };
  }

  async restate(input: { year?: unknown; month?: unknown; processorId?: unknown }): Promise<{ reports: RestateResult[]; webhook: DeliveryRecord }> {
    const ds = this.dataset;
    const year = input.year;
    const month = input.month;
    if (!Number.isInteger(year) || !Number.isInteger(month) || (month as number) < 1 || (month as number) > 12) {
      throw new ControlError(400, "year and month (1-12) are required integers");
    }
    const key = monthKey(year as number, month as number);
    if (!ds.residualMonths.includes(key)) throw new ControlError(404, `no residual reports for ${year}-${month}`);
    let processors = ds.processors;
    if (input.processorId !== undefined) {
      const p = ds.processorById(Number(input.processorId));
      if (!p) throw new ControlError(404, `unknown processor ${String(input.processorId)}`);
      processors = [p];
    }
    const reports = processors.map((p) => ds.report(p.id, key)!);
    const results = reports.map((r) => ds.restate(r));
    const webhook = await this.webhooks.send("residuals.report.published", {
      reports: reports.map((r, i) => publishedReport(ds, r, results[i])),
    });
    return { reports: results, webhook };
  }

  addBatches(input: { mid?: unknown; date?: unknown; count?: unknown }): { mid: string; batches: Batch[] } {
    const ds = this.dataset;
    let merchant;
    if (input.mid !== undefined) {
      merchant = ds.merchantByMid(String(input.mid));
      if (!merchant) throw new ControlError(404, `unknown mid ${String(input.mid)}`);
    } else {
      merchant = ds.pickOpenMerchant();
    }
    let day = localDay(ds.now(), ds.offset);
    if (input.date !== undefined) {
      const parsed = typeof input.date === "string" ? parseYmd(input.date) : null;
      if (parsed === null) throw new ControlError(400, "date must be YYYY-MM-DD");
      day = parsed;
    }
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 100) throw new ControlError(400, "count must be 1..100");
    return { mid: merchant.mid, batches: ds.addBatches(merchant, day, count as number) };
  }

  async sendWebhook(input: { event?: unknown; data?: unknown; mid?: unknown }): Promise<DeliveryRecord> {
    if (typeof input.event !== "string" || !/^[a-z_]+(\.[a-z_]+)+$/.test(input.event)) {
      throw new ControlError(400, "event must be an IRIS event name such as lead.updated");
    }
    const data = input.data !== undefined ? input.data : sampleData(this.dataset, input.event, this.crmBase, input.mid === undefined ? undefined : String(input.mid));
    return this.webhooks.send(input.event, data);
  }

  close(): void {
    this.webhooks.close();
  }
}
