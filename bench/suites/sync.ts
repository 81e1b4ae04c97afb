// Full-sync throughput of the real Worker (wrangler.toml: the queue, the breaker, the database through the Neon
// WebSocket path) against floors measured in the same run:
//   sync           POST /api/sync-iriscrm {dataType: "all", mode: "full"}, polled until the run ends; rows = rowsRead
//   fetch          a plain Node client reading the same pages (same endpoints, per_page, filters, page sequence), no database
//   unnest         the same rows upserted with INSERT ... SELECT FROM unnest(...) in batches of 5,000, fresh database
//   row-at-a-time  one upsert statement per residual row, fresh database
// The floors run in worker threads (bench/floor-thread.ts) through createDb, the Worker's own driver path.
// Settings beyond the runner's options come from the environment (the runner's command line is shared by every
// suite): BENCH_SYNC_MONTHS, BENCH_SYNC_MERCHANTS, BENCH_SYNC_TIMEOUT_S, BENCH_SYNC_ROW_AT_A_TIME_ROWS.
import pg from "pg";
import { quoteIdentifier } from "../../dev/postgres.ts";
import { SIZE_PRESETS } from "../../dev/sandbox/index.ts";
import { type Config, parseConfig } from "../../src/config.ts";
import { BREAKER_RPCS_PER_CALL, DATABASE_CONNECTIONS, QUEUE_SEND_RESERVE, irisCallsPerInvocation } from "../../src/sync/budget.ts";
import { MERCHANTS_EPOCH, type VolumesWindow, type YearMonth, monthLabel, residualMonths, volumesWindow } from "../../src/sync/planner.ts";
import { fetchDataset, TABLE_NAMES, type TableName } from "../dataset-tables.ts";
import { type FetchResult, type RowAtATimeResult, type UnnestResult, runFloor } from "../floor-thread.ts";
import { fmt, percentile, round } from "../measure.ts";
import type { StackPostgres, StackSandbox, StackWorker } from "../stack.ts";
import { defineSuite, type Ratio, type SuiteContext, type SuiteResult, type Table } from "../suite.ts";
import { workerSnapshot } from "../worker-snapshot.ts";

const VARIANTS = ["sync", "fetch", "unnest", "row-at-a-time"] as const;
type VariantName = (typeof VARIANTS)[number];
const STREAMS = ["merchants", "residuals", "volumes"] as const;

/** What runMerchantsPages allows for per_page; the sync picks the largest not above SYNC_MERCHANTS_PER_PAGE. */
const MERCHANT_PAGE_SIZES = [10, 25, 50, 100, 500, 1000];
// src/sync/context.ts's allowedPerPage, repeated: that module brings Worker-only types into the Node typecheck.
const allowedPerPage = (configured: number, allowed: readonly number[]): number => {
  const fitting = allowed.filter((n) => n <= configured);
  return fitting.length > 0 ? Math.max(...fitting) : Math.min(...allowed);
};
/** Rows per unnest statement: src/db/writes.ts's WRITE_BATCH_ROWS. */
const UNNEST_BATCH_ROWS = 5000;
const POLL_MS = 1000;
/** No unit finished and no page was recorded for this long: the run is stuck, not slow (a unit takes seconds). */
const STALL_MS = 180_000;
const LARGE = SIZE_PRESETS.large;

interface Settings {
  /** Residual months synced, counting back from the last complete month (the sandbox publishes 24). */
  months: number;
  merchants: number;
  timeoutMs: number;
  rowAtATimeRows: number;
}

function settings(): Settings {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const text = process.env[name];
    if (text === undefined || text.trim() === "") return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${text}`);
    return n;
  };
  return {
    months: read("BENCH_SYNC_MONTHS", LARGE.residualMonths, 1, LARGE.residualMonths),
    merchants: read("BENCH_SYNC_MERCHANTS", LARGE.merchants, 100, 500_000),
    timeoutMs: read("BENCH_SYNC_TIMEOUT_S", 3600, 10, 86_400) * 1000,
    rowAtATimeRows: read("BENCH_SYNC_ROW_AT_A_TIME_ROWS", 2000, 10, 100_000),
  };
}

/** The sandbox's /_control beside an IRIS base URL (the root's or an instance's). */
const controlUrlOf = (irisBaseUrl: string): string => irisBaseUrl.replace(/\/api\/v1\/?$/, "/_control");

export default defineSuite({
  name: "sync",
  description: "full-sync rows/s of the real Worker and queue at the large size vs fetch-only, unnest-upsert and row-at-a-time floors",
  needs: {
    postgres: true,
    // The stack lifts the sandbox's rate limit (100,000,000 a minute): the benchmark measures the sync, not IRIS's throttle.
    sandbox: { size: "large" },
    worker: {
      // The production config and entry, bundled from a copy taken as the Worker starts (see worker-snapshot.ts).
      get config() {
        return workerSnapshot("wrangler.toml", ["src"]);
      },
      vars: async ({ sandbox }) => {
        if (!sandbox) throw new Error("the sync suite needs the sandbox");
        const s = settings();
        let irisBaseUrl = sandbox.irisBaseUrl;
        if (s.merchants !== LARGE.merchants) {
          // The large size with another merchant count: an instance of its own, same seed and "now".
          const instance = await sandbox.control<{ baseUrl: string }>("POST", "/instances", { size: { ...LARGE, merchants: s.merchants } });
          irisBaseUrl = instance.baseUrl;
        }
        const head = await fetchDataset(controlUrlOf(irisBaseUrl), ["processors"]);
        const first = head.residualMonths[head.residualMonths.length - s.months];
        if (!first) throw new Error(`the sandbox publishes ${head.residualMonths.length} residual months, fewer than ${s.months}`);
        // Everything else stays at its default (IRIS_BACKOFF_BASE_MS 1000, SYNC_SUBREQUEST_BUDGET 50, ...): no faults
        // are injected, so backoff never runs, and the budget is the production one.
        return { IRIS_BASE_URL: irisBaseUrl, SYNC_RESIDUAL_FIRST_MONTH: monthLabel(first) };
      },
    },
  },
  // One round is one full sync plus one of each floor; a run of the whole large size takes minutes.
  defaults: { rounds: 1, concurrency: 1, warmup: 0 },
  run,
});

interface StreamView {
  stream: string;
  status: string;
  pages: number;
  rowsRead: number;
  rowsUpserted: number;
  rowsDeleted: number;
  unitsTotal: number;
  unitsDone: number;
  unitsFailed: number;
  lastError: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

interface RunView {
  id: string;
  status: string;
  streams: StreamView[];
  params: { residualMonths?: string[]; volumesWindow?: VolumesWindow; merchantsFrom?: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

interface SandboxStats {
  total: number;
  byStatus: Record<string, number>;
  byInvocation: Record<string, number>;
  withoutInvocation: number;
  maxPerInvocation: number;
}

interface SyncRound {
  run: RunView;
  rows: number;
  upserted: number;
  /** Run created → run finished, by the database's clock. */
  seconds: number;
  /** POST sent → end seen by polling (at most POLL_MS late). */
  wallSeconds: number;
  stats: SandboxStats;
  counts: Record<TableName, number>;
}

interface UnnestRound extends UnnestResult {
  counts: Record<TableName, number>;
}

interface Round {
  order: VariantName[];
  sync?: SyncRound;
  fetch?: FetchResult;
  unnest?: UnnestRound;
  rowAtATime?: RowAtATimeResult;
}

interface Plan {
  config: Config;
  controlUrl: string;
  months: YearMonth[];
  window: VolumesWindow;
  merchantsPerPage: number;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const { worker, sandbox, postgres } = ctx.stack;
  if (!worker || !sandbox || !postgres) throw new Error("the sync suite needs the worker, the sandbox and postgres");
  const s = settings();
  const config = parseConfig(worker.vars);
  // The floors read what the sync will read: its months and window, computed by the planner from the same settings
  // (and checked against the run's own record afterwards).
  const now = new Date();
  const plan: Plan = {
    config,
    controlUrl: controlUrlOf(config.irisBaseUrl),
    months: residualMonths({ mode: "full", now, windowMonths: config.sync.residualWindowMonths, firstMonth: config.sync.residualFirstMonth }),
    window: volumesWindow({ mode: "full", cursor: null, now, windowDays: config.sync.volumeWindowDays, overlapDays: config.sync.volumeOverlapDays }),
    merchantsPerPage: allowedPerPage(config.sync.merchantsPerPage, MERCHANT_PAGE_SIZES),
  };
  const head = await fetchDataset(plan.controlUrl, ["processors"]);
  ctx.log(
    `dataset: ${head.size.merchants} merchants, ${head.size.processors} processors, residual months ${plan.months.map(monthLabel).join(", ")} ` +
      `(${plan.months.length} of ${head.residualMonths.length}), volumes window ${plan.window.start}..${plan.window.end}`,
  );

  const admin = adminDb(postgres);
  const problems: string[] = [];
  const rounds: Round[] = [];
  for (let r = 0; r < ctx.options.rounds; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(r + i) % VARIANTS.length] as VariantName);
    const round: Round = { order };
    for (const variant of order) {
      ctx.signal.throwIfAborted();
      switch (variant) {
        case "sync":
          round.sync = await syncVariant(ctx, worker, sandbox, postgres, admin, plan, s, r);
          break;
        case "fetch":
          round.fetch = await fetchVariant(ctx, worker, plan, s);
          break;
        case "unnest":
          round.unnest = await unnestVariant(ctx, postgres, admin, plan, s, r);
          break;
        case "row-at-a-time":
          round.rowAtATime = await rowVariant(ctx, postgres, admin, plan, s, r);
          break;
      }
    }
    rounds.push(round);
    problems.push(...roundProblems(round, r, plan, config));
  }
  return report(ctx, rounds, plan, s, head.residualMonths.length, problems);
}

// ---------------------------------------------------------------------------------------------------------------
// Variants.

async function syncVariant(
  ctx: SuiteContext,
  worker: StackWorker,
  sandbox: StackSandbox,
  postgres: StackPostgres,
  admin: AdminDb,
  plan: Plan,
  s: Settings,
  r: number,
): Promise<SyncRound> {
  // Every round's sync starts from an empty database, as the first one does.
  await admin.query(postgres.databaseUrl, `truncate ${[...TABLE_NAMES, "sync_runs", "sync_run_streams", "sync_units", "sync_unit_pages", "sync_state"].join(", ")} cascade`);
  const statsPath = statsPathOf(plan.controlUrl, sandbox);
  await sandbox.control("POST", `${statsPath}/reset`);
  const headers = { Authorization: `Bearer ${worker.adminToken}`, "Content-Type": "application/json" };
  const t0 = performance.now();
  const started = await fetch(`${worker.url}/api/sync-iriscrm`, {
    method: "POST",
    headers,
    body: JSON.stringify({ dataType: "all", mode: "full" }),
    signal: AbortSignal.timeout(30_000),
  });
  const startText = await started.text();
  if (started.status !== 202) throw new Error(`POST /api/sync-iriscrm answered ${started.status}: ${startText.slice(0, 300)}`);
  const runId = (JSON.parse(startText) as { runId: string }).runId;
  ctx.log(`round ${r + 1}: sync run ${runId} started`);
  const until = performance.now() + s.timeoutMs;
  let lastLog = performance.now();
  let lastState = "";
  let lastChange = performance.now();
  let view: RunView;
  for (;;) {
    ctx.signal.throwIfAborted();
    const res = await fetch(`${worker.url}/api/sync/runs/${runId}`, { headers, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /api/sync/runs/${runId} answered ${res.status}: ${text.slice(0, 300)}`);
    view = JSON.parse(text) as RunView;
    if (view.finishedAt !== null && !["queued", "running"].includes(view.status)) break;
    if (performance.now() > until) throw new Error(`the sync did not finish within ${s.timeoutMs / 1000}s (BENCH_SYNC_TIMEOUT_S); last state: ${progress(view)}`);
    const state = progress(view);
    if (state !== lastState) {
      lastState = state;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) {
      throw new Error(`the sync made no progress for ${STALL_MS / 1000}s (${state}); see .data/logs/bench-worker.log`);
    }
    if (performance.now() - lastLog > 15_000) {
      ctx.log(`  ${Math.round((performance.now() - t0) / 1000)}s: ${progress(view)}`);
      lastLog = performance.now();
    }
    await sleep(POLL_MS, ctx.signal);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const stats = await sandbox.control<SandboxStats>("GET", statsPath);
  const counts = await admin.counts(postgres.databaseUrl);
  const rows = view.streams.reduce((n, st) => n + st.rowsRead, 0);
  const seconds = (Date.parse(view.finishedAt as string) - Date.parse(view.createdAt)) / 1000;
  ctx.log(`round ${r + 1}: sync ${view.status}: ${rows} rows read in ${seconds.toFixed(1)}s = ${Math.round(rows / seconds)} rows/s`);
  return { run: view, rows, upserted: view.streams.reduce((n, st) => n + st.rowsUpserted, 0), seconds, wallSeconds, stats, counts };
}

async function fetchVariant(ctx: SuiteContext, worker: StackWorker, plan: Plan, s: Settings): Promise<FetchResult> {
  const result = await runFloor<FetchResult>(
    {
      kind: "fetch",
      irisBaseUrl: plan.config.irisBaseUrl,
      apiKey: worker.vars.IRIS_API_KEY ?? "",
      merchantsPerPage: plan.merchantsPerPage,
      merchantsFrom: MERCHANTS_EPOCH,
      months: plan.months,
      window: plan.window,
      concurrency: ctx.options.concurrency,
      timeLimitMs: s.timeoutMs,
    },
    ctx.signal,
  );
  ctx.log(`fetch floor: ${result.rows} rows in ${result.pages} pages, ${(result.ms / 1000).toFixed(1)}s = ${Math.round((result.rows * 1000) / result.ms)} rows/s`);
  return result;
}

async function unnestVariant(ctx: SuiteContext, postgres: StackPostgres, admin: AdminDb, plan: Plan, s: Settings, r: number): Promise<UnnestRound> {
  const name = `bench_unnest_${r + 1}`;
  const databaseUrl = await postgres.createDatabase(name);
  try {
    const result = await runFloor<UnnestResult>(
      { kind: "unnest", databaseUrl, wsProxy: postgres.wsProxy, controlUrl: plan.controlUrl, months: plan.months, batchRows: UNNEST_BATCH_ROWS, timeLimitMs: s.timeoutMs },
      ctx.signal,
    );
    ctx.log(`unnest floor: ${result.rows} rows upserted in ${(result.ms / 1000).toFixed(1)}s of statements = ${Math.round((result.rows * 1000) / result.ms)} rows/s`);
    return { ...result, counts: await admin.counts(databaseUrl) };
  } finally {
    await admin.drop(name);
  }
}

async function rowVariant(ctx: SuiteContext, postgres: StackPostgres, admin: AdminDb, plan: Plan, s: Settings, r: number): Promise<RowAtATimeResult> {
  const name = `bench_rows_${r + 1}`;
  const databaseUrl = await postgres.createDatabase(name);
  try {
    const month = plan.months[plan.months.length - 1] as YearMonth;
    const result = await runFloor<RowAtATimeResult>(
      { kind: "row-at-a-time", databaseUrl, wsProxy: postgres.wsProxy, controlUrl: plan.controlUrl, month, rows: s.rowAtATimeRows, timeLimitMs: ctx.options.roundTimeoutMs },
      ctx.signal,
    );
    ctx.log(`row-at-a-time: ${result.rows} rows in ${(result.ms / 1000).toFixed(1)}s = ${Math.round((result.rows * 1000) / result.ms)} rows/s`);
    return result;
  } finally {
    await admin.drop(name);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks and report.

function roundProblems(round: Round, r: number, plan: Plan, config: Config): string[] {
  const problems: string[] = [];
  const at = `round ${r + 1}`;
  const { sync, fetch: floor, unnest, rowAtATime } = round;
  if (sync) {
    if (sync.run.status !== "succeeded") {
      const errors = sync.run.streams.filter((st) => st.lastError).map((st) => `${st.stream}: ${st.lastError}`);
      problems.push(`${at}: the sync ended ${sync.run.status}${errors.length > 0 ? ` (${errors.join("; ")})` : ""}`);
    }
    const months = (sync.run.params.residualMonths ?? []).join(",");
    if (months !== plan.months.map(monthLabel).join(",")) problems.push(`${at}: the sync read residual months ${months}, the floors ${plan.months.map(monthLabel).join(",")}`);
    if (sync.run.params.merchantsFrom !== MERCHANTS_EPOCH) problems.push(`${at}: the sync read merchants from ${sync.run.params.merchantsFrom}, the floor from ${MERCHANTS_EPOCH}`);
    const w = sync.run.params.volumesWindow;
    if (!w || w.start !== plan.window.start || w.end !== plan.window.end) problems.push(`${at}: the sync's volumes window ${w?.start}..${w?.end} is not the floors' ${plan.window.start}..${plan.window.end}`);
    const spent = busiestInvocationSubrequests(sync.stats.maxPerInvocation);
    if (spent > config.sync.subrequestBudget) {
      problems.push(`${at}: an invocation made ${sync.stats.maxPerInvocation} IRIS requests: up to ${spent} subrequests, over the budget of ${config.sync.subrequestBudget}`);
    }
    if (sync.stats.withoutInvocation > 0) problems.push(`${at}: ${sync.stats.withoutInvocation} IRIS requests during the sync carried no X-Invocation-Id`);
  }
  if (sync && floor && !floor.stoppedEarly) {
    for (const stream of STREAMS) {
      const st = sync.run.streams.find((x) => x.stream === stream);
      if (st && (st.rowsRead !== floor.streams[stream].rows || st.pages !== floor.streams[stream].pages)) {
        problems.push(
          `${at}: ${stream}: the sync read ${st.rowsRead} rows in ${st.pages} pages, the fetch floor ${floor.streams[stream].rows} in ${floor.streams[stream].pages}: not the same pages`,
        );
      }
    }
  }
  if (sync && unnest && !unnest.stoppedEarly) {
    const differ = TABLE_NAMES.filter((t) => sync.counts[t] !== unnest.counts[t]);
    if (differ.length > 0) problems.push(`${at}: rows stored differ between the sync and the unnest floor in ${differ.join(", ")}`);
  }
  if (floor?.stoppedEarly) problems.push(`${at}: the fetch floor hit its time limit`);
  if (unnest?.stoppedEarly) problems.push(`${at}: the unnest floor hit its time limit`);
  if (rowAtATime?.stoppedEarly) problems.push(`${at}: row-at-a-time hit --round-timeout after ${rowAtATime.rows} rows (figure kept: it is a rate)`);
  return problems;
}

/**
 * Upper bound on the subrequests of an invocation that made `requests` IRIS requests: each IRIS call makes at least
 * one request and two breaker calls, plus the database connection and the queue sends that end the invocation.
 */
function busiestInvocationSubrequests(requests: number): number {
  return requests * (1 + BREAKER_RPCS_PER_CALL) + DATABASE_CONNECTIONS + QUEUE_SEND_RESERVE;
}

const rate = (rows: number, ms: number): number => (ms > 0 ? (rows * 1000) / ms : NaN);
const combined = (a: number, b: number): number => 1 / (1 / a + 1 / b);

interface Rates {
  sync: number;
  fetch: number;
  unnest: number;
  unnestResiduals: number;
  rowAtATime: number;
  combined: number;
}

function ratesOf(round: Round): Rates {
  const sync = round.sync ? rate(round.sync.rows, round.sync.seconds * 1000) : NaN;
  const fetchRate = round.fetch ? rate(round.fetch.rows, round.fetch.ms) : NaN;
  const unnest = round.unnest ? rate(round.unnest.rows, round.unnest.ms) : NaN;
  const unnestResiduals = round.unnest ? rate(round.unnest.tables.residuals.rows, round.unnest.tables.residuals.ms) : NaN;
  const rowAtATime = round.rowAtATime ? rate(round.rowAtATime.rows, round.rowAtATime.ms) : NaN;
  return { sync, fetch: fetchRate, unnest, unnestResiduals, rowAtATime, combined: combined(fetchRate, unnest) };
}

function pooledRates(rounds: Round[]): Rates {
  const sum = (f: (r: Round) => number | undefined) => rounds.reduce((n, r) => n + (f(r) ?? 0), 0);
  const sync = rate(sum((r) => r.sync?.rows), sum((r) => (r.sync ? r.sync.seconds * 1000 : 0)));
  const fetchRate = rate(sum((r) => r.fetch?.rows), sum((r) => r.fetch?.ms));
  const unnest = rate(sum((r) => r.unnest?.rows), sum((r) => r.unnest?.ms));
  const unnestResiduals = rate(sum((r) => r.unnest?.tables.residuals.rows), sum((r) => r.unnest?.tables.residuals.ms));
  const rowAtATime = rate(sum((r) => r.rowAtATime?.rows), sum((r) => r.rowAtATime?.ms));
  return { sync, fetch: fetchRate, unnest, unnestResiduals, rowAtATime, combined: combined(fetchRate, unnest) };
}

function ratio(name: string, perRound: number[], pooled: number, note: string): Ratio {
  const sorted = perRound.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { name, value: pooled, basis: "pooled", pooled, note };
  return {
    name,
    value: percentile(sorted, 0.5),
    basis: "per-round median",
    pooled,
    perRound: { median: percentile(sorted, 0.5), min: sorted[0] as number, max: sorted[sorted.length - 1] as number },
    note,
  };
}

function report(ctx: SuiteContext, rounds: Round[], plan: Plan, s: Settings, monthsPublished: number, problems: string[]): SuiteResult {
  const perRound = rounds.map(ratesOf);
  const pooled = pooledRates(rounds);
  const of = (f: (r: Rates) => number) => perRound.map(f);
  const ratios: Ratio[] = [
    ratio("sync / fetch floor rows/s", of((r) => r.sync / r.fetch), pooled.sync / pooled.fetch, "1.00 = the sync reads as fast as a plain client fetching the same pages"),
    ratio(
      "sync / combined floor rows/s",
      of((r) => r.sync / r.combined),
      pooled.sync / pooled.combined,
      "combined = 1/(1/fetch + 1/unnest): fetching, then upserting the fastest way; 1.00 = no overhead",
    ),
    ratio("sync / unnest floor rows/s", of((r) => r.sync / r.unnest), pooled.sync / pooled.unnest, "the sync's end-to-end rate against the write floor alone"),
    ratio(
      "unnest / row-at-a-time rows/s",
      of((r) => r.unnestResiduals / r.rowAtATime),
      pooled.unnestResiduals / pooled.rowAtATime,
      "residuals table both sides: what set-based writes buy",
    ),
  ];

  const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((n, t) => n + f(t), 0);
  const syncs = rounds.flatMap((r) => (r.sync ? [r.sync] : []));
  const fetches = rounds.flatMap((r) => (r.fetch ? [r.fetch] : []));
  const unnests = rounds.flatMap((r) => (r.unnest ? [r.unnest] : []));
  const rowRuns = rounds.flatMap((r) => (r.rowAtATime ? [r.rowAtATime] : []));
  const n = rounds.length;
  const throughput: Table = {
    title: `throughput — ${n} round${n === 1 ? "" : "s"} (figures pooled over rounds)`,
    columns: ["variant", "rows", "seconds", "rows/s", "what"],
    rows: [
      ["sync (Worker + queue)", sum(syncs, (x) => x.rows), round(sum(syncs, (x) => x.seconds), 1), round(pooled.sync, 0), "rowsRead summed over streams; run created → finished"],
      ["fetch floor", sum(fetches, (x) => x.rows), round(sum(fetches, (x) => x.ms) / 1000, 1), round(pooled.fetch, 0), `same pages, ${ctx.options.concurrency} in flight, no database`],
      ["unnest upsert floor", sum(unnests, (x) => x.rows), round(sum(unnests, (x) => x.ms) / 1000, 1), round(pooled.unnest, 0), `${UNNEST_BATCH_ROWS} rows a statement, 1 connection, statements timed`],
      ["combined floor", null, null, round(pooled.combined, 0), "1/(1/fetch + 1/unnest)"],
      ["row-at-a-time upsert", sum(rowRuns, (x) => x.rows), round(sum(rowRuns, (x) => x.ms) / 1000, 1), round(pooled.rowAtATime, 0), "residual rows, one statement each, 1 connection"],
    ],
  };

  const streamTable: Table = {
    title: "per stream (sync: from the stream's start to its end, windows that overlap — one queue serves all three; floor: one stream after the other)",
    columns: ["stream", "sync read", "upserted", "pages", "sync s", "sync rows/s", "sync pages/s", "floor rows", "floor pages", "floor s", "floor rows/s", "floor pages/s", "rows/s sync/floor"],
    rows: STREAMS.map((stream) => {
      const views = syncs.map((x) => x.run.streams.find((st) => st.stream === stream)).filter((v): v is StreamView => v !== undefined);
      const read = sum(views, (v) => v.rowsRead);
      const secs = sum(views, (v) => (v.startedAt && v.finishedAt ? (Date.parse(v.finishedAt) - Date.parse(v.startedAt)) / 1000 : 0));
      const floorRows = sum(fetches, (f) => f.streams[stream].rows);
      const floorMs = sum(fetches, (f) => f.streams[stream].ms);
      const syncPages = sum(views, (v) => v.pages);
      const floorPages = sum(fetches, (f) => f.streams[stream].pages);
      const syncRate = rate(read, secs * 1000);
      const floorRate = rate(floorRows, floorMs);
      return [
        stream,
        read,
        sum(views, (v) => v.rowsUpserted),
        syncPages,
        round(secs, 1),
        round(syncRate, 0),
        round(rate(syncPages, secs * 1000), 1),
        floorRows,
        floorPages,
        round(floorMs / 1000, 1),
        round(floorRate, 0),
        round(rate(floorPages, floorMs), 1),
        round(syncRate / floorRate, 2),
      ];
    }),
  };

  const tableRows: Table = {
    title: "unnest floor per table, and rows stored (sync database vs unnest floor database, last round)",
    columns: ["table", "upserted", "statements", "statement s", "rows/s", "stored by sync", "stored by floor"],
    rows: TABLE_NAMES.map((t) => {
      const rowsUp = sum(unnests, (u) => u.tables[t].rows);
      const ms = sum(unnests, (u) => u.tables[t].ms);
      return [t, rowsUp, sum(unnests, (u) => u.tables[t].statements), round(ms / 1000, 2), round(rate(rowsUp, ms), 0), syncs.at(-1)?.counts[t] ?? null, unnests.at(-1)?.counts[t] ?? null];
    }),
  };

  const budget = plan.config.sync.subrequestBudget;
  const worstCase = irisCallsPerInvocation(budget, plan.config.maxRetries);
  const budgetTable: Table = {
    title:
      `subrequest budget: IRIS requests per queue invocation, counted by the sandbox per X-Invocation-Id (SYNC_SUBREQUEST_BUDGET ${budget}; ` +
      `an invocation starts a call only while the call's worst case, ${1 + plan.config.maxRetries} attempts + ${BREAKER_RPCS_PER_CALL} breaker calls, still fits: ` +
      `${worstCase} calls when every one needs every retry, more when they succeed at once)`,
    columns: ["round", "IRIS requests", "invocations calling IRIS", "max per invocation", "its subrequests at most", "mean per invocation", "without invocation id", "statuses"],
    rows: syncs.map((x, i) => {
      const perInvocation = Object.values(x.stats.byInvocation);
      return [
        i + 1,
        x.stats.total,
        perInvocation.length,
        x.stats.maxPerInvocation,
        `${busiestInvocationSubrequests(x.stats.maxPerInvocation)} of ${budget}`,
        round(x.stats.total / Math.max(1, perInvocation.length), 2),
        x.stats.withoutInvocation,
        Object.entries(x.stats.byStatus).map(([k, v]) => `${k}×${v}`).join(" "),
      ];
    }),
  };

  const tables = [throughput, streamTable, tableRows, budgetTable];
  if (n > 1) {
    tables.push({
      title: "per round rows/s",
      columns: ["round", "order", "sync", "fetch", "unnest", "row-at-a-time", "sync/fetch", "sync/combined"],
      rows: perRound.map((r, i) => [
        i + 1,
        (rounds[i]?.order ?? []).join(">"),
        round(r.sync, 0),
        round(r.fetch, 0),
        round(r.unnest, 0),
        round(r.rowAtATime, 0),
        round(r.sync / r.fetch, 2),
        round(r.sync / r.combined, 2),
      ]),
    });
  }

  const scaled = s.months !== monthsPublished || s.merchants !== LARGE.merchants;
  const notes = [
    `measured: ${s.merchants} merchants, ${plan.months.length} of ${monthsPublished} residual months (${plan.months.map(monthLabel)[0]}..${plan.months.map(monthLabel).at(-1)}), ` +
      `batches ${plan.window.start}..${plan.window.end}${scaled ? " — scaled down from the full large size (BENCH_SYNC_MONTHS / BENCH_SYNC_MERCHANTS)" : " — the full large size"}`,
    "sync rows = rowsRead (every row of every page the sync fetched, as the fetch floor counts them); upserted counts rows the sync actually wrote",
    `Worker settings: defaults (SYNC_SUBREQUEST_BUDGET ${plan.config.sync.subrequestBudget}, IRIS_BACKOFF_BASE_MS ${plan.config.backoffBaseMs}, SYNC_MERCHANTS_PER_PAGE ${plan.config.sync.merchantsPerPage}) ` +
      `except SYNC_RESIDUAL_FIRST_MONTH=${plan.config.sync.residualFirstMonth}; sandbox rate limit lifted, no faults`,
    "the queue under wrangler dev delivers one batch (one message) at a time, so the sync makes its IRIS calls one after the other: compare with --concurrency 1 (the default) for the fetch floor",
    `time per IRIS request: sync ${fmt((sum(syncs, (x) => x.seconds) * 1000) / sum(syncs, (x) => x.stats.total))} ms (queue delivery, breaker calls, ` +
      `database work and checkpoints included), fetch floor ${fmt(sum(fetches, (x) => x.ms) / sum(fetches, (x) => x.pages))} ms`,
    `sync wall clock seen by the bench: ${syncs.map((x) => x.wallSeconds.toFixed(1)).join(", ")} s (polling every ${POLL_MS} ms)`,
  ];
  return {
    tables,
    ratios,
    notes,
    problems,
    data: {
      settings: s,
      plan: { months: plan.months.map(monthLabel), window: plan.window, merchantsPerPage: plan.merchantsPerPage },
      rates: { perRound, pooled },
      rounds: rounds.map((r) => ({ ...r, sync: r.sync ? { ...r.sync, stats: { ...r.sync.stats, byInvocation: undefined } } : undefined })),
    },
  };
}

function progress(view: RunView): string {
  return view.streams.map((st) => `${st.stream} ${st.status} ${st.unitsDone + st.unitsFailed}/${st.unitsTotal} units ${st.rowsRead} rows`).join("; ");
}

/** The stats path as StackSandbox.control takes it: "/stats" for the root, "/i/<id>/_control/stats" for an instance. */
function statsPathOf(controlUrl: string, sandbox: StackSandbox): string {
  const instance = controlUrl.slice(sandbox.url.length).replace(/\/_control$/, "");
  return instance === "" ? "/stats" : `${instance}/_control/stats`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Administration of the benchmark's databases (never timed): plain pg, straight to Postgres.

interface AdminDb {
  query(databaseUrl: string, text: string): Promise<void>;
  counts(databaseUrl: string): Promise<Record<TableName, number>>;
  drop(name: string): Promise<void>;
}

function adminDb(postgres: StackPostgres): AdminDb {
  const withClient = async <T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const serverUrl = (database: string) => {
    const url = new URL(postgres.databaseUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  };
  return {
    query: (databaseUrl, text) => withClient(databaseUrl, async (c) => void (await c.query(text))),
    counts: (databaseUrl) =>
      withClient(databaseUrl, async (c) => {
        const result = await c.query<{ t: TableName; n: string }>(TABLE_NAMES.map((t) => `select '${t}' as t, count(*) as n from ${t}`).join(" union all "));
        return Object.fromEntries(result.rows.map((row) => [row.t, Number(row.n)])) as Record<TableName, number>;
      }),
    drop: (name) => withClient(serverUrl("postgres"), async (c) => void (await c.query(`drop database if exists ${quoteIdentifier(name)} with (force)`))),
  };
}
