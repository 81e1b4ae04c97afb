// Drives sync runs deterministically in a test: a fresh database and a fresh sandbox instance per fixture, and a
// driver that claims and executes pending units one invocation at a time (the queue consumer's code path, minus
// the queue) until none remain.
import { sql } from "drizzle-orm";
import { type Config, configFor } from "../../src/config.ts";
import { createDb } from "../../src/db/client.ts";
import type { SyncMode } from "../../src/db/schema.ts";
import type { Clock, SleepPurpose } from "../../src/resilience/clock.ts";
import { systemClock } from "../../src/resilience/clock.ts";
import type { Logger } from "../../src/resilience/log.ts";
import type { SyncHooks } from "../../src/sync/context.ts";
import { type UnitQueue, type UnitRunResult, executeUnit } from "../../src/sync/execute.ts";
import type { SyncDb } from "../../src/sync/runs.ts";
import { type SyncDataType, streamsFor } from "../../src/sync/streams.ts";
import { startRun } from "../../src/sync/triggers.ts";
import { createTestDatabase } from "./database.ts";
import { FakeClock } from "./fake-clock.ts";
import { type SandboxInstance, createSandboxInstance } from "./sandbox.ts";
import { type Dataset, SNAPSHOT_QUERIES, type Snapshot, type SnapshotRows, expectedSnapshot, snapshotFromRows } from "./snapshot.ts";

export { type Snapshot, dec } from "./snapshot.ts";

// Set to true to see the sync's log lines while debugging a test.
const verbose = false;

/** The instant both the sandbox's generated data and the test clock start from. */
export const SYNC_TEST_NOW = "2026-11-20T15:00:00.000Z";

export class RecordingQueue implements UnitQueue {
  readonly sent: number[] = [];
  async sendBatch(messages: Iterable<MessageSendRequest<{ type: "unit"; unitId: number }>>): Promise<void> {
    for (const m of messages) this.sent.push(m.body.unitId);
  }
}

/**
 * A clock for fault tests: time is fake (backoff and Retry-After waits pass at once, the driver moves time past
 * an open circuit), but attempt timeouts are real and short, so a hung request is abandoned without the test
 * having to guess when to advance time.
 */
export class RealTimeoutClock implements Clock {
  readonly fake: FakeClock;
  constructor(fake: FakeClock) {
    this.fake = fake;
  }
  now(): number {
    return this.fake.now();
  }
  sleep(ms: number, options?: { signal?: AbortSignal; purpose?: SleepPurpose }): Promise<void> {
    return options?.purpose === "timeout" ? systemClock.sleep(ms, options) : this.fake.sleep(ms, options);
  }
}

export interface SyncFixtureOptions {
  /** Sandbox instance options (size, seed, faults ...); `now` and a generous rate limit are set by default. */
  sandbox?: Record<string, unknown>;
  /** Env overrides for the Worker (sync settings, IRIS timeouts ...). */
  env?: Record<string, string>;
  /** Real short timeouts for hung requests (see RealTimeoutClock). */
  realTimeouts?: boolean;
  /** The instant the sandbox's data and the fake clock start from (default SYNC_TEST_NOW). */
  now?: string;
}

export interface DrainOptions {
  hooks?: SyncHooks;
  /** Give up (throw) after this many invocations. */
  maxInvocations?: number;
}

export interface DrainReport {
  results: UnitRunResult[];
  invocationIds: string[];
}

export class SyncFixture {
  readonly sandbox: SandboxInstance;
  readonly env: Env;
  readonly config: Config;
  readonly fake: FakeClock;
  readonly clock: Clock;
  readonly queue = new RecordingQueue();
  readonly database: ReturnType<typeof createDb>;
  readonly db: SyncDb;
  readonly log: Logger;
  readonly invocationIds: string[] = [];

  private constructor(sandbox: SandboxInstance, env: Env, realTimeouts: boolean, now: string) {
    this.sandbox = sandbox;
    this.env = env;
    this.config = configFor(env);
    this.fake = new FakeClock({ start: Date.parse(now) });
    this.clock = realTimeouts ? new RealTimeoutClock(this.fake) : this.fake;
    this.database = createDb(env, { maxConnections: 1 });
    this.db = this.database.db as unknown as SyncDb;
    this.log = verbose ? (event, fields) => console.log(event, JSON.stringify(fields)) : () => undefined;
  }

  static async create(options: SyncFixtureOptions = {}): Promise<SyncFixture> {
    const [sandbox, databaseUrl] = await Promise.all([
      createSandboxInstance({ now: options.now ?? SYNC_TEST_NOW, rateLimitPerMinute: 1_000_000, ...options.sandbox }),
      createTestDatabase(),
    ]);
    const env = sandbox.env({
      DATABASE_URL: databaseUrl,
      IRIS_BACKOFF_BASE_MS: "10",
      // The first month of the small size is 2025-10: a full run also reads a month without reports.
      SYNC_RESIDUAL_FIRST_MONTH: "2025-09",
      ...options.env,
    });
    return new SyncFixture(sandbox, env, options.realTimeouts ?? false, options.now ?? SYNC_TEST_NOW);
  }

  async close(): Promise<void> {
    await this.database.end();
  }

  /** Records a run the way POST /api/sync-iriscrm does and returns its id. */
  async start(
    request: { dataType?: SyncDataType; mode?: SyncMode; year?: number; month?: number; force?: boolean } = {},
  ): Promise<string> {
    const { runId } = await startRun(
      { db: this.db, queue: this.queue, config: this.config, clock: this.clock, log: this.log },
      {
        trigger: "manual",
        request: {
          streams: streamsFor(request.dataType ?? "all"),
          mode: request.mode ?? "incremental",
          ...(request.year === undefined ? {} : { year: request.year }),
          ...(request.month === undefined ? {} : { month: request.month }),
        },
        force: request.force ?? false,
      },
    );
    return runId;
  }

  /** One invocation of the consumer for one unit, with a fresh invocation id and budget. */
  async execute(unitId: number, hooks?: SyncHooks): Promise<UnitRunResult> {
    const invocationId = crypto.randomUUID();
    this.invocationIds.push(invocationId);
    return executeUnit(
      {
        db: this.db,
        config: this.config,
        queue: this.queue,
        clock: this.clock,
        random: () => 0.5,
        log: this.log,
        namespace: this.env.CIRCUIT_BREAKER,
        invocationId,
        ...(hooks ? { hooks } : {}),
      },
      unitId,
    );
  }

  /** Pending units that may start now, oldest first. */
  async claimable(): Promise<number[]> {
    const result = await this.db.execute<{ id: string }>(sql`
      select u.id from sync_units u
      where u.status = 'pending' and (u.after_stream is null or exists (
        select 1 from sync_run_streams s
        where s.run_id = u.run_id and s.stream = u.after_stream and s.status not in ('queued', 'running')))
      order by u.id`);
    return result.rows.map((r) => Number(r.id));
  }

  /** Executes units until none is pending; an open circuit is waited out by moving the fake clock. */
  async drain(options: DrainOptions = {}): Promise<DrainReport> {
    const max = options.maxInvocations ?? 2000;
    const results: UnitRunResult[] = [];
    const firstInvocation = this.invocationIds.length;
    while (results.length < max) {
      const [next] = await this.claimable();
      if (next === undefined) {
        const running = await this.db.execute<{ n: string }>(sql`select count(*)::text as n from sync_units where status = 'running'`);
        if (running.rows[0]?.n !== "0") throw new Error(`${running.rows[0]?.n} units are still running and nothing is pending`);
        return { results, invocationIds: this.invocationIds.slice(firstInvocation) };
      }
      const result = await this.execute(next, options.hooks);
      results.push(result);
      if (result.outcome === "circuit-open") this.fake.advance(result.retryAfterSeconds * 1000);
      if (result.outcome === "not-claimed") throw new Error(`unit ${next} was pending but could not be claimed`);
    }
    throw new Error(`the run did not finish within ${max} invocations`);
  }

  async run(request: Parameters<SyncFixture["start"]>[0] = {}, options: DrainOptions = {}): Promise<{ runId: string; report: DrainReport; status: string }> {
    const runId = await this.start(request);
    const report = await this.drain(options);
    return { runId, report, status: await this.runStatus(runId) };
  }

  async runStatus(runId: string): Promise<string> {
    const result = await this.db.execute<{ status: string }>(sql`select status from sync_runs where id = ${runId}`);
    return result.rows[0]?.status ?? "missing";
  }

  async streams(runId: string): Promise<Record<string, Record<string, unknown>>> {
    const result = await this.db.execute<Record<string, unknown>>(sql`select * from sync_run_streams where run_id = ${runId}`);
    return Object.fromEntries(result.rows.map((r) => [String(r.stream), r]));
  }

  async select<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]> {
    return (await this.db.execute(query)).rows as T[];
  }

  // -----------------------------------------------------------------------------------------------------------
  // Comparing the database with the sandbox's dataset.

  async dataset(): Promise<Dataset> {
    const res = await fetch(`${this.sandbox.controlUrl}/dataset?parts=processors,merchants,residualSummaries,residualRows,batches`);
    if (!res.ok) throw new Error(`dataset: ${res.status} ${await res.text()}`);
    return res.json<Dataset>();
  }

  /** The dataset and the database in one normalized form, sorted, ready for toEqual. */
  async snapshots(): Promise<{ expected: Snapshot; actual: Snapshot }> {
    const ds = await this.dataset();
    return { expected: expectedSnapshot(ds), actual: await this.actualSnapshot() };
  }

  async actualSnapshot(): Promise<Snapshot> {
    const tables: SnapshotRows = {
      processors: [],
      merchants: [],
      summaries: [],
      residuals: [],
      batches: [],
    };
    for (const table of Object.keys(SNAPSHOT_QUERIES) as Array<keyof SnapshotRows>) {
      tables[table] = await this.select<Record<string, unknown>>(sql.raw(SNAPSHOT_QUERIES[table]));
    }
    return snapshotFromRows(tables);
  }
}

/** How many entries appear more than once (a duplicate row would break "exact"). */
export function duplicates(values: readonly string[]): number {
  return values.length - new Set(values).size;
}
