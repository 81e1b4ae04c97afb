// Portal read endpoints on the large dataset against a `SELECT 1` floor, side by side in interleaved rounds:
//   merchants  GET /api/merchants?perPage=100                    (the first page by name, with total and latest-month figures)
//   summary    GET /api/analytics/summary?year=Y&month=M          (Y-M: the newest residual month of the dataset)
//   select1    GET /bench/select1                                 (bench-worker.ts: SELECT 1 through createDb)
// All three go through the real app (createApp() in bench/bench-worker.ts) with the portal token, so they share the
// middleware, the per-request connection through the Neon WebSocket path and the answer; what differs is each
// route's own queries and shaping.
// The dataset is written straight into the Worker's database through the unnest path (bench/dataset-tables.ts):
// the same rows a full sync stores (the sync suite checks that count for count), in seconds instead of the minutes
// a sync takes, and without the queue, which this Worker config does not have.
import type { Database } from "../../src/db/client.ts";
import { TABLES, type TableName, fetchDataset, openDatabase, unnestUpsert } from "../dataset-tables.ts";
import { compare, fmt, interleave, type InterleavedResult, round, summaryTable, type Variant } from "../measure.ts";
import { defineSuite, type Ratio, type SuiteContext, type SuiteResult, type Table } from "../suite.ts";
import { workerSnapshot } from "../worker-snapshot.ts";

const LABELS: Record<string, string> = {
  merchants: "GET /api/merchants?perPage=100",
  summary: "GET /api/analytics/summary",
  select1: "GET /bench/select1 (floor)",
};
const LOAD_BATCH_ROWS = 5000;

export default defineSuite({
  name: "read-api",
  description: "rps and p99 of /api/merchants?perPage=100 and /api/analytics/summary on the large dataset vs a SELECT 1 route",
  needs: {
    postgres: true,
    sandbox: { size: "large" },
    worker: {
      // bench-worker.ts (the real app plus /bench/select1), bundled from a copy taken as the Worker starts.
      get config() {
        return workerSnapshot("bench/wrangler.bench.toml", ["src", "bench/bench-worker.ts"]);
      },
    },
  },
  // A summary answer takes most of a second here: rounds of 100 requests need more than the runner's 30 s default.
  defaults: { rounds: 6, requests: 100, concurrency: 4, warmup: 30, roundTimeoutMs: 120_000 },
  run,
});

interface Loaded {
  rows: Record<TableName, number>;
  ms: number;
  month: { year: number; month: number };
  merchants: number;
}

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const { worker, sandbox, postgres } = ctx.stack;
  if (!worker || !sandbox || !postgres) throw new Error("the read-api suite needs the worker, the sandbox and postgres");
  const loaded = await load(ctx, postgres.databaseUrl, postgres.wsProxy, `${sandbox.url}/_control`);
  const { year, month } = loaded.month;

  const auth = { Authorization: `Bearer ${worker.portalToken}` };
  const variants: Variant[] = [
    { name: "merchants", url: `${worker.url}/api/merchants?perPage=100`, headers: auth, expectStatus: 200 },
    { name: "summary", url: `${worker.url}/api/analytics/summary?year=${year}&month=${month}`, headers: auth, expectStatus: 200 },
    { name: "select1", url: `${worker.url}/bench/select1`, headers: auth, expectStatus: 200 },
  ];
  const checks = await checkAnswers(variants, loaded);
  const result = await interleave(ctx, variants);

  const ratios: Ratio[] = [
    compare(result, "merchants", "select1", "rps", "below 1.00 = fewer requests per second than SELECT 1"),
    compare(result, "merchants", "select1", "p99", "above 1.00 = slower tail"),
    compare(result, "merchants", "select1", "p50"),
    compare(result, "summary", "select1", "rps"),
    compare(result, "summary", "select1", "p99"),
    compare(result, "summary", "select1", "p50"),
  ];
  const tables: Table[] = [
    summaryTable(
      `latency and throughput — ${result.rounds.length} rounds × ${ctx.options.requests} requests per variant, concurrency ${ctx.options.concurrency}`,
      result,
      LABELS,
    ),
    perRoundTable(result),
    {
      title: `dataset written into the Worker's database (unnest upserts, ${LOAD_BATCH_ROWS} rows a statement, through the Neon WebSocket path)`,
      columns: ["table", "rows"],
      rows: Object.entries(loaded.rows).map(([t, n]) => [t, n]),
    },
  ];
  const total = Object.values(loaded.rows).reduce((n, v) => n + v, 0);
  const notes = [
    `dataset: the sandbox's large size, ${loaded.merchants} merchants; ${total} rows written in ${(loaded.ms / 1000).toFixed(1)}s of statements, then ANALYZE; ` +
      `one succeeded sync run recorded so every answer's freshness reads "fresh"`,
    `summary month: ${year}-${String(month).padStart(2, "0")} (the newest residual month); merchants: first page sorted by name`,
    ...checks.notes,
    "each request opens its own database connection through the WebSocket proxy (as production does per request): SELECT 1 includes that, so the ratios show what each route's queries and answer add to it",
  ];
  const problems = [
    ...checks.problems,
    ...Object.entries(result.errors).map(([name, entry]) => `${name}: ${entry.count} unexpected answers, first: ${entry.first ?? "?"}`),
  ];
  return {
    tables,
    ratios,
    notes,
    problems,
    data: { rounds: result.rounds, orders: result.orders, pooled: result.pooled, loaded },
  };
}

/** Writes the sandbox's dataset into the Worker's database and records a succeeded sync of every stream. */
async function load(ctx: SuiteContext, databaseUrl: string, wsProxy: string, controlUrl: string): Promise<Loaded> {
  const database = await openDatabase(databaseUrl, wsProxy);
  const rows = Object.fromEntries(Object.keys(TABLES).map((t) => [t, 0])) as Record<TableName, number>;
  let ms = 0;
  const write = async (table: TableName, items: Array<Record<string, unknown>> | undefined) => {
    const timing = await unnestUpsert(database, TABLES[table], items ?? [], LOAD_BATCH_ROWS);
    rows[table] += timing.rows;
    ms += timing.ms;
  };
  try {
    const head = await fetchDataset(controlUrl, ["processors", "merchants", "batches"]);
    ctx.log(`loading the large dataset: ${head.size.merchants} merchants, ${head.residualMonths.length} residual months`);
    await write("processors", head.processors);
    await write("merchants", head.merchants);
    await write("merchant_batches", head.batches);
    for (const ym of head.residualMonths) {
      ctx.signal.throwIfAborted();
      const part = await fetchDataset(controlUrl, ["residualSummaries", "residualRows"], ym);
      await write("residual_summaries", part.residualSummaries);
      await write("residuals", part.residualRows);
    }
    await recordSync(database);
    // A freshly bulk-loaded table has no planner statistics until autovacuum gets to it; a synced one has them.
    await database.pool.query("analyze");
    const newest = head.residualMonths[head.residualMonths.length - 1];
    if (!newest) throw new Error("the sandbox has no residual months");
    ctx.log(`loaded ${Object.values(rows).reduce((n, v) => n + v, 0)} rows in ${(ms / 1000).toFixed(1)}s of statements`);
    return { rows, ms, month: newest, merchants: head.size.merchants };
  } finally {
    await database.end();
  }
}

async function recordSync(database: Database): Promise<void> {
  const streams = ["merchants", "residuals", "volumes"];
  const run = await database.pool.query<{ id: string }>(
    `insert into sync_runs (trigger, mode, status, streams, started_at, finished_at)
     values ('backfill', 'full', 'succeeded', $1::text[], now(), now()) returning id`,
    [streams],
  );
  await database.pool.query(
    `insert into sync_run_streams (run_id, stream, status, started_at, finished_at)
     select $1::uuid, s, 'succeeded', now(), now() from unnest($2::text[]) as s`,
    [run.rows[0]?.id, streams],
  );
}

/** One request of each variant, checked for what it must contain, before anything is measured. */
async function checkAnswers(variants: Variant[], loaded: Loaded): Promise<{ notes: string[]; problems: string[] }> {
  const notes: string[] = [];
  const problems: string[] = [];
  const body = async (variant: Variant): Promise<Record<string, unknown>> => {
    const res = await fetch(variant.url, { headers: variant.headers ?? {}, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${variant.name} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const [merchants, summary, select1] = await Promise.all(variants.map(body));
  const data = (merchants?.data ?? []) as unknown[];
  if (data.length !== 100 || merchants?.total !== loaded.rows.merchants) {
    problems.push(`merchants answered ${data.length} rows of ${String(merchants?.total)}; expected 100 of ${loaded.rows.merchants}`);
  }
  const freshness = (merchants?.freshness as { verdict?: string } | undefined)?.verdict;
  if (freshness !== "fresh") problems.push(`merchants' freshness is ${String(freshness)}, expected fresh`);
  const figures = (summary?.figures ?? {}) as { volume?: string; transactions?: number };
  if (!(Number(figures.volume) > 0 && Number(figures.transactions) > 0)) problems.push(`the summary has no volume: ${JSON.stringify(summary).slice(0, 300)}`);
  notes.push(`summary answer (checked once): ${JSON.stringify(summary).slice(0, 240)}…`);
  if (select1?.one !== 1) problems.push(`/bench/select1 answered ${JSON.stringify(select1)}`);
  return { notes, problems };
}

function perRoundTable(result: InterleavedResult): Table {
  return {
    title: "per round rps (order rotates; the ratios' per-round spread comes from these)",
    columns: ["round", "order", "merchants", "summary", "select1", "merchants/select1", "summary/select1"],
    rows: result.rounds.map((r, i) => [
      i + 1,
      (result.orders[i] ?? []).map((name) => name.slice(0, 4)).join(">"),
      round(r.merchants?.rps ?? NaN, 1),
      round(r.summary?.rps ?? NaN, 1),
      round(r.select1?.rps ?? NaN, 1),
      fmt((r.merchants?.rps ?? NaN) / (r.select1?.rps ?? NaN)),
      fmt((r.summary?.rps ?? NaN) / (r.select1?.rps ?? NaN)),
    ]),
  };
}
