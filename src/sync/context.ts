// What an executor sees of the world while it runs one unit: the claimed unit, IRIS through the subrequest
// budget, and transactions that carry the unit's checkpoint or completion together with the rows.
import type { z } from "zod";
import type { Config } from "../config.ts";
import type { IrisHttp, QueryValue } from "../iris/iris-http.ts";
import type { Clock } from "../resilience/clock.ts";
import type { Logger } from "../resilience/log.ts";
import type { SqlRunner } from "../db/writes.ts";
import type { SubrequestBudget } from "./budget.ts";
import type { UnitSpec } from "./planner.ts";
import {
  type ClaimedUnit,
  type FinishResult,
  type StreamStats,
  type SyncDb,
  checkpointUnit,
  finishUnit,
} from "./runs.ts";

export interface SyncHooks {
  /**
   * Runs after each transaction a unit commits, before the next IRIS call. Tests throw here to stand for a worker
   * killed between two checkpoints.
   */
  afterCommit?(unit: ClaimedUnit, what: "checkpoint" | "finish"): void | Promise<void>;
}

export type ExecutorOutcome = { status: "done"; finish: FinishResult } | { status: "paused" };

export type Transaction = Parameters<Parameters<SyncDb["transaction"]>[0]>[0];

export class UnitContext {
  readonly unit: ClaimedUnit;
  readonly db: SyncDb;
  readonly config: Config;
  readonly budget: SubrequestBudget;
  readonly clock: Clock;
  readonly log: Logger;
  private readonly iris: IrisHttp;
  private readonly hooks: SyncHooks;

  constructor(init: {
    unit: ClaimedUnit;
    db: SyncDb;
    iris: IrisHttp;
    config: Config;
    budget: SubrequestBudget;
    clock: Clock;
    log: Logger;
    hooks?: SyncHooks;
  }) {
    this.unit = init.unit;
    this.db = init.db;
    this.iris = init.iris;
    this.config = init.config;
    this.budget = init.budget;
    this.clock = init.clock;
    this.log = init.log;
    this.hooks = init.hooks ?? {};
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  get leaseMs(): number {
    return this.config.sync.unitLeaseSeconds * 1000;
  }

  /** Whether one more IRIS call surely fits in this invocation's subrequest budget. */
  canCall(): boolean {
    return this.budget.canAffordIrisCall();
  }

  /** One IRIS GET through the resilience layer, charged to the budget with every attempt it made. */
  async get<T>(path: string, query: Record<string, QueryValue>, schema: z.ZodType<T>): Promise<T> {
    if (!this.canCall()) throw new Error("IRIS call made without budget: check canCall() first");
    const before = this.iris.attempts;
    try {
      return await this.iris.get(path, { query, schema });
    } finally {
      this.budget.chargeIrisCall(this.iris.attempts - before);
    }
  }

  /** Commits `work` in one transaction, then lets the test hook run. */
  async commit<T>(what: "checkpoint" | "finish", work: (tx: Transaction) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(work);
    await this.hooks.afterCommit?.(this.unit, what);
    return result;
  }

  checkpoint(tx: SqlRunner, checkpoint: Record<string, unknown>, stats: StreamStats): Promise<void> {
    return checkpointUnit(tx, this.unit, checkpoint, stats, this.now(), this.leaseMs);
  }

  finish(tx: SqlRunner, stats: StreamStats, followUps: readonly UnitSpec[] = []): Promise<FinishResult> {
    return finishUnit(tx, this.unit, stats, followUps, this.now());
  }

  /** Commits the unit's last rows with its completion. */
  async done(stats: StreamStats, write: (tx: Transaction) => Promise<{ stats?: StreamStats; followUps?: UnitSpec[] } | void>): Promise<ExecutorOutcome> {
    const finish = await this.commit("finish", async (tx) => {
      const extra = (await write(tx)) ?? {};
      return this.finish(tx, addStats(stats, extra.stats ?? {}), extra.followUps ?? []);
    });
    return { status: "done", finish };
  }
}

export function addStats(a: StreamStats, b: StreamStats): StreamStats {
  return {
    pages: (a.pages ?? 0) + (b.pages ?? 0),
    rowsRead: (a.rowsRead ?? 0) + (b.rowsRead ?? 0),
    rowsUpserted: (a.rowsUpserted ?? 0) + (b.rowsUpserted ?? 0),
    rowsDeleted: (a.rowsDeleted ?? 0) + (b.rowsDeleted ?? 0),
  };
}

export interface FetchedPage<T> {
  page: number;
  items: T[];
}

/**
 * Fetches pages `firstPage`, `firstPage + 1`, ... until the last one or until the budget runs out. IRIS has no
 * cursors, only page numbers; `meta.last_page` says where to stop.
 */
export async function collectPages<T>(
  ctx: UnitContext,
  firstPage: number,
  fetchPage: (page: number) => Promise<{ data: T[]; meta: { current_page: number; last_page: number } }>,
): Promise<{ complete: boolean; pages: FetchedPage<T>[]; nextPage: number }> {
  const pages: FetchedPage<T>[] = [];
  let page = firstPage;
  for (;;) {
    if (!ctx.canCall()) return { complete: false, pages, nextPage: page };
    const body = await fetchPage(page);
    pages.push({ page, items: body.data });
    if (body.data.length === 0 || body.meta.current_page >= body.meta.last_page) return { complete: true, pages, nextPage: page + 1 };
    page += 1;
  }
}

/** The largest page size IRIS allows for an endpoint that is not above the configured one. */
export function allowedPerPage(configured: number, allowed: readonly number[]): number {
  const fitting = allowed.filter((n) => n <= configured);
  return fitting.length > 0 ? Math.max(...fitting) : Math.min(...allowed);
}

export function numberParam(params: Record<string, unknown>, key: string): number {
  const value = params[key];
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`unit parameter ${key} is not a number`);
  return value;
}

export function stringParam(params: Record<string, unknown>, key: string): string {
  const value = params[key];
  if (typeof value !== "string") throw new Error(`unit parameter ${key} is not a string`);
  return value;
}
