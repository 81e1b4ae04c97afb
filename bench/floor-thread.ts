// The sync benchmark's floors, each run in a worker thread of its own: the IRIS sandbox and the WebSocket proxy
// live on the runner's main thread, and the Worker under test runs in its own process (workerd), so a floor
// measured on the main thread would share one event loop with the server it talks to while the sync does not.
//   fetch          the pages the sync reads (same endpoints, per_page, filters and page sequence), parsed, counted, dropped
//   unnest         the dataset's rows upserted with INSERT ... SELECT FROM unnest(...) in batches, into a fresh database
//   row-at-a-time  one upsert statement per row, into another fresh database
// Started with runFloor(job, signal); the thread answers with one message and exits. Every loop is bounded by the
// data (last page, rows given) and by the job's time limit.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { parseIrisDate, parseIrisDateTime } from "../src/iris/mapping.ts";
import { type MerchantsPosition, type VolumesWindow, type YearMonth, nextMerchantsPosition } from "../src/sync/planner.ts";
import { TABLES, type TableName, type WriteTiming, fetchDataset, openDatabase, rowAtATimeUpsert, unnestUpsert } from "./dataset-tables.ts";

export interface FetchJob {
  kind: "fetch";
  irisBaseUrl: string;
  apiKey: string;
  /** per_page of GET /merchants, as the sync chooses it from SYNC_MERCHANTS_PER_PAGE. */
  merchantsPerPage: number;
  merchantsFrom: string;
  months: YearMonth[];
  window: VolumesWindow;
  /** Requests in flight at once (independent pages only: the merchants keyset is sequential by nature). */
  concurrency: number;
  timeLimitMs: number;
}

export interface UnnestJob {
  kind: "unnest";
  databaseUrl: string;
  wsProxy: string;
  /** The sandbox's /_control (root or instance): where the rows come from. */
  controlUrl: string;
  months: YearMonth[];
  batchRows: number;
  timeLimitMs: number;
}

export interface RowAtATimeJob {
  kind: "row-at-a-time";
  databaseUrl: string;
  wsProxy: string;
  controlUrl: string;
  /** Residual rows of this month are the ones written. */
  month: YearMonth;
  rows: number;
  timeLimitMs: number;
}

export type FloorJob = FetchJob | UnnestJob | RowAtATimeJob;

export interface StreamFetch {
  rows: number;
  pages: number;
  ms: number;
}

export interface FetchResult {
  kind: "fetch";
  streams: { merchants: StreamFetch; residuals: StreamFetch; volumes: StreamFetch };
  rows: number;
  pages: number;
  ms: number;
  /** Merchants whose batches were read (last_batch in the window). */
  volumeMids: number;
  stoppedEarly: boolean;
}

export interface UnnestResult {
  kind: "unnest";
  tables: Record<TableName, WriteTiming>;
  rows: number;
  ms: number;
  stoppedEarly: boolean;
}

export interface RowAtATimeResult extends WriteTiming {
  kind: "row-at-a-time";
  table: TableName;
  stoppedEarly: boolean;
}

export type FloorResult = FetchResult | UnnestResult | RowAtATimeResult;

// Page sizes the sync's executors use (src/sync/executors/*): residual summaries 100, residual rows 1000,
// batches 100; the merchants page size comes from the settings.
const SUMMARY_PER_PAGE = 100;
const ROWS_PER_PAGE = 1000;
const BATCHES_PER_PAGE = 100;

/** Runs `job` in a fresh thread; the thread is terminated when `signal` aborts. */
export function runFloor<R extends FloorResult>(job: FloorJob, signal: AbortSignal): Promise<R> {
  signal.throwIfAborted();
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    let settled = false;
    const onAbort = () => void worker.terminate();
    signal.addEventListener("abort", onAbort, { once: true });
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    worker.once("message", (message: { ok: true; result: R } | { ok: false; error: string }) =>
      settle(() => (message.ok ? resolve(message.result) : reject(new Error(`${job.kind} floor: ${message.error}`)))),
    );
    worker.once("error", (error) => settle(() => reject(error)));
    worker.once("exit", (code) => settle(() => reject(signal.aborted ? signal.reason : new Error(`${job.kind} floor thread exited (${code})`))));
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  run(workerData as FloorJob).then(
    (result) => port.postMessage({ ok: true, result }),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
}

async function run(job: FloorJob): Promise<FloorResult> {
  switch (job.kind) {
    case "fetch":
      return fetchFloor(job);
    case "unnest":
      return unnestFloor(job);
    case "row-at-a-time":
      return rowAtATimeFloor(job);
  }
}

class TimeLimit extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Fetching.

interface Page {
  data: Array<Record<string, unknown>>;
  meta: { current_page: number | string; last_page: number | string };
}

async function fetchFloor(job: FetchJob): Promise<FetchResult> {
  const until = performance.now() + job.timeLimitMs;
  const headers = { Accept: "application/json", "X-API-KEY": job.apiKey };
  let stoppedEarly = false;
  const get = async <T>(path: string, query: Record<string, string | number> = {}): Promise<T> => {
    if (performance.now() > until) throw new TimeLimit();
    const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    const url = `${job.irisBaseUrl}${path}${search.size > 0 ? `?${search}` : ""}`;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    return (await res.json()) as T;
  };
  const streams = { merchants: empty(), residuals: empty(), volumes: empty() };
  const count = (stream: StreamFetch, rows: number) => {
    stream.rows += rows;
    stream.pages += 1;
  };
  /** Every page of one paged endpoint, as the sync's collectPages reads them. */
  const allPages = async (stream: StreamFetch, path: string, perPage: number, query: Record<string, string | number> = {}): Promise<Page[]> => {
    const pages: Page[] = [];
    for (let page = 1; ; page++) {
      const body = await get<Page>(path, { ...query, per_page: perPage, page });
      count(stream, body.data.length);
      pages.push(body);
      if (body.data.length === 0 || Number(body.meta.current_page) >= Number(body.meta.last_page)) return pages;
    }
  };
  const pool = async <T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> => {
    let next = 0;
    const lane = async () => {
      while (next < items.length) await work(items[next++] as T);
    };
    await Promise.all(Array.from({ length: Math.max(1, job.concurrency) }, lane));
  };

  const volumeMids = new Set<string>();
  const t0 = performance.now();
  try {
    // Merchants: the keyset walk of runMerchantsPages, page after page.
    let t = performance.now();
    let position: MerchantsPosition = { startDate: job.merchantsFrom, page: 1 };
    for (;;) {
      const body = await get<Page>("/merchants", {
        date_filter: "modified",
        start_date: position.startDate,
        sort_by: "modified",
        sort_dir: "asc",
        per_page: job.merchantsPerPage,
        page: position.page,
      });
      count(streams.merchants, body.data.length);
      let maxModified: Date | null = null;
      for (const row of body.data) {
        const modified = parseIrisDateTime(row.modified as string | null);
        if (modified && (!maxModified || modified > maxModified)) maxModified = modified;
        const lastBatch = parseIrisDate(row.last_batch as string | null);
        if (lastBatch !== null && lastBatch >= job.window.start) volumeMids.add(String(row.mid));
      }
      const step = nextMerchantsPosition(position, {
        maxModified,
        currentPage: Number(body.meta.current_page),
        lastPage: Number(body.meta.last_page),
        rows: body.data.length,
      });
      if (step.done) break;
      position = step.next;
    }
    streams.merchants.ms = performance.now() - t;

    // Residuals: processors, each month's summary, then every page of each processor-month.
    t = performance.now();
    const processors = await get<{ processors: unknown[] }>("/processors");
    count(streams.residuals, processors.processors.length);
    const processorMonths: Array<YearMonth & { processorId: number }> = [];
    await pool(job.months, async ({ year, month }) => {
      const pages = await allPages(streams.residuals, `/residuals/reports/summary/${year}/${month}`, SUMMARY_PER_PAGE);
      for (const page of pages) for (const item of page.data) processorMonths.push({ processorId: Number(item.processor_id), year, month });
    });
    await pool(processorMonths, async ({ processorId, year, month }) => {
      await allPages(streams.residuals, `/residuals/reports/summary/rows/${processorId}/${year}/${month}`, ROWS_PER_PAGE);
    });
    streams.residuals.ms = performance.now() - t;

    // Volumes: every page of the window's batches for each merchant that batched in it.
    t = performance.now();
    await pool([...volumeMids].sort(), async (mid) => {
      await allPages(streams.volumes, `/merchants/${encodeURIComponent(mid)}/transactions`, BATCHES_PER_PAGE, {
        start_date: job.window.start,
        end_date: job.window.end,
      });
    });
    streams.volumes.ms = performance.now() - t;
  } catch (error) {
    if (!(error instanceof TimeLimit)) throw error;
    stoppedEarly = true;
  }
  const all = Object.values(streams);
  return {
    kind: "fetch",
    streams,
    rows: all.reduce((n, s) => n + s.rows, 0),
    pages: all.reduce((n, s) => n + s.pages, 0),
    ms: performance.now() - t0,
    volumeMids: volumeMids.size,
    stoppedEarly,
  };
}

function empty(): StreamFetch {
  return { rows: 0, pages: 0, ms: 0 };
}

// ---------------------------------------------------------------------------------------------------------------
// Writing.

async function unnestFloor(job: UnnestJob): Promise<UnnestResult> {
  const until = performance.now() + job.timeLimitMs;
  const database = await openDatabase(job.databaseUrl, job.wsProxy);
  const tables = Object.fromEntries(Object.keys(TABLES).map((name) => [name, { rows: 0, statements: 0, ms: 0 }])) as Record<TableName, WriteTiming>;
  let stoppedEarly = false;
  const write = async (name: TableName, items: Array<Record<string, unknown>>) => {
    const timing = await unnestUpsert(database, TABLES[name], items, job.batchRows);
    const total = tables[name];
    total.rows += timing.rows;
    total.statements += timing.statements;
    total.ms += timing.ms;
  };
  try {
    // Reading the dataset from the sandbox is not timed; only the write statements are.
    const head = await fetchDataset(job.controlUrl, ["processors", "merchants", "batches"]);
    await write("processors", head.processors ?? []);
    await write("merchants", head.merchants ?? []);
    await write("merchant_batches", head.batches ?? []);
    for (const ym of job.months) {
      if (performance.now() > until) {
        stoppedEarly = true;
        break;
      }
      const month = await fetchDataset(job.controlUrl, ["residualSummaries", "residualRows"], ym);
      await write("residual_summaries", month.residualSummaries ?? []);
      await write("residuals", month.residualRows ?? []);
    }
  } finally {
    await database.end();
  }
  const all = Object.values(tables);
  return { kind: "unnest", tables, rows: all.reduce((n, t) => n + t.rows, 0), ms: all.reduce((n, t) => n + t.ms, 0), stoppedEarly };
}

async function rowAtATimeFloor(job: RowAtATimeJob): Promise<RowAtATimeResult> {
  const source = await fetchDataset(job.controlUrl, ["residualRows"], job.month);
  const items = (source.residualRows ?? []).slice(0, job.rows);
  const database = await openDatabase(job.databaseUrl, job.wsProxy);
  try {
    const timing = await rowAtATimeUpsert(database, TABLES.residuals, items, performance.now() + job.timeLimitMs);
    return { kind: "row-at-a-time", table: "residuals", ...timing, stoppedEarly: timing.statements < items.length };
  } finally {
    await database.end();
  }
}
