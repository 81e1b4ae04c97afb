// The IRIS sandbox's dataset (its control API's normalized form) as rows of our tables, and the two ways of writing
// them that the sync benchmark compares the sync with: set-based upserts (INSERT ... SELECT FROM unnest(...) ON
// CONFLICT ... DO UPDATE, thousands of rows a statement) and one upsert statement per row. Both go through the same
// driver path as the Worker: createDb from src/db/client.ts, i.e. the Neon driver's Pool in WebSocket mode through
// the local WebSocket-to-TCP proxy. The read-api benchmark loads its dataset the same way.
import { neonConfig } from "@neondatabase/serverless";
import ws from "ws";
import { type Database, createDb } from "../src/db/client.ts";

/** A value as it travels in a text array parameter: Postgres casts it to the column's type. */
type Cell = string | null;
type Item = Record<string, unknown>;

interface ColumnSpec {
  name: string;
  /** Element type of the unnest parameter. */
  type: string;
  /** Expression over `t.<name>` that the SELECT writes into the column, when it is not `t.<name>` itself. */
  select?: string;
  value: (item: Item) => Cell;
}

export interface TableSpec {
  table: string;
  key: string[];
  columns: ColumnSpec[];
}

export const TABLE_NAMES = ["processors", "merchants", "residual_summaries", "residuals", "merchant_batches"] as const;
export type TableName = (typeof TABLE_NAMES)[number];

const text = (value: unknown): Cell => (value === null || value === undefined ? null : String(value));
const yesNo = (value: unknown): Cell => (value === "Yes" || value === true ? "t" : value === "No" || value === false ? "f" : null);
const col = (name: string, type: string, value: (item: Item) => Cell, select?: string): ColumnSpec =>
  select === undefined ? { name, type, value } : { name, type, value, select };
const field = (key: string) => (item: Item) => text(item[key]);

/** Column mapping from the dataset's normalized items, as the sync stores them (see test/support/snapshot.ts). */
export const TABLES: Readonly<Record<TableName, TableSpec>> = {
  processors: {
    table: "processors",
    key: ["name"],
    columns: [
      col("name", "text", field("name")),
      col("processor_id", "integer", field("id")),
      col("datasources", "text", (p) => JSON.stringify(p.datasources ?? []), "t.datasources::jsonb"),
    ],
  },
  merchants: {
    table: "merchants",
    key: ["mid"],
    columns: [
      col("mid", "text", field("mid")),
      col("name", "text", field("name")),
      col("status", "text", field("status")),
      col("active", "boolean", (m) => yesNo(m.active)),
      col("processor", "text", field("processor")),
      col("group_name", "text", field("group")),
      col("datasource", "text", field("datasource")),
      col("sic_code", "text", field("sicCode")),
      col("vim", "text", field("vim")),
      col("opened", "date", field("opened")),
      col("closed", "date", field("closed")),
      col("first_batch", "date", field("firstBatch")),
      col("last_batch", "date", field("lastBatch")),
      col("deactivated", "date", field("deactivated")),
      col("created", "timestamptz", field("created")),
      col("modified", "timestamptz", field("modified")),
      // A text[] per row cannot travel inside a 2-D array parameter (unnest would flatten it): joined, then split.
      col("lead_ids", "text", (m) => (Array.isArray(m.leads) ? m.leads.join(",") : ""), "string_to_array(t.lead_ids, ',')"),
    ],
  },
  residual_summaries: {
    table: "residual_summaries",
    key: ["processor_id", "year", "month"],
    columns: [
      col("processor_id", "integer", field("processorId")),
      col("year", "smallint", field("year")),
      col("month", "smallint", field("month")),
      col("processor_name", "text", field("processorName")),
      col("merchants_count", "integer", field("merchantsCount")),
      col("sum_transactions", "bigint", field("sumTransactions")),
      col("sum_sales_amount", "numeric", field("sumSalesAmount")),
      col("sum_income", "numeric", field("sumIncome")),
      col("sum_expense", "numeric", field("sumExpense")),
      col("sum_net", "numeric", field("sumNet")),
      col("sum_bps", "numeric", field("sumBps")),
      col("sum_agent_net", "numeric", field("sumAgentNet")),
      col("modified", "timestamptz", field("modified")),
    ],
  },
  residuals: {
    table: "residuals",
    key: ["mid", "processor_id", "year", "month"],
    columns: [
      col("mid", "text", field("mid")),
      col("processor_id", "integer", field("processorId")),
      col("year", "smallint", field("year")),
      col("month", "smallint", field("month")),
      col("merchant_name", "text", field("merchant")),
      col("transactions", "integer", field("transactions")),
      col("sales_amount", "numeric", field("salesAmount")),
      col("income", "numeric", field("income")),
      col("expense", "numeric", field("expense")),
      col("net", "numeric", field("net")),
      col("bps", "numeric", field("bps")),
      col("percentage", "numeric", field("percentage")),
      col("agent_net", "numeric", field("agentNet")),
    ],
  },
  merchant_batches: {
    table: "merchant_batches",
    key: ["mid", "batch_date", "reference_number"],
    columns: [
      col("mid", "text", field("mid")),
      col("batch_date", "date", field("date")),
      col("reference_number", "text", field("referenceNumber")),
      col("amount", "numeric", field("amount")),
      col("count", "integer", field("count")),
      col("terminal_number", "text", field("terminalNumber")),
    ],
  },
};

/** `INSERT ... SELECT FROM unnest($1::t1[], $2::t2[], ...) ON CONFLICT (key) DO UPDATE SET every other column`. */
export function unnestUpsertSql(spec: TableSpec): string {
  const names = spec.columns.map((c) => c.name);
  const params = spec.columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ");
  const selects = spec.columns.map((c) => c.select ?? `t.${c.name}`).join(", ");
  return (
    `insert into ${spec.table} (${names.join(", ")}) select ${selects} from unnest(${params}) as t(${names.join(", ")}) ` +
    `on conflict (${spec.key.join(", ")}) do update set ${updates(spec)}`
  );
}

/** The same upsert for one row: `INSERT ... VALUES ($1::t1, ...) ON CONFLICT (key) DO UPDATE SET ...`. */
export function singleRowUpsertSql(spec: TableSpec): string {
  const names = spec.columns.map((c) => c.name);
  const values = spec.columns.map((c, i) => {
    const param = `$${i + 1}::${c.type}`;
    return c.select === undefined ? param : c.select.replace(`t.${c.name}`, param);
  });
  return `insert into ${spec.table} (${names.join(", ")}) values (${values.join(", ")}) on conflict (${spec.key.join(", ")}) do update set ${updates(spec)}`;
}

function updates(spec: TableSpec): string {
  return spec.columns
    .filter((c) => !spec.key.includes(c.name))
    .map((c) => `${c.name} = excluded.${c.name}`)
    .join(", ");
}

/** One array of cells per column, for the unnest parameters. */
export function columnsOf(spec: TableSpec, items: readonly Item[]): Cell[][] {
  return spec.columns.map((c) => items.map((item) => c.value(item)));
}

export function rowOf(spec: TableSpec, item: Item): Cell[] {
  return spec.columns.map((c) => c.value(item));
}

/**
 * The Neon driver in Node: the Worker's createDb, with the `ws` package as the WebSocket implementation. The
 * connection is opened here (a `select 1`), so that timed statements never include connecting.
 */
export async function openDatabase(databaseUrl: string, wsProxy: string, maxConnections = 1): Promise<Database> {
  neonConfig.webSocketConstructor = ws;
  const database = createDb({ DATABASE_URL: databaseUrl, NEON_WS_PROXY: wsProxy }, { maxConnections });
  try {
    await database.pool.query("select 1");
  } catch (error) {
    await database.end().catch(() => {});
    throw error;
  }
  return database;
}

export interface WriteTiming {
  rows: number;
  statements: number;
  /** Time spent in the write statements only (building parameters, the round trip and the server's work). */
  ms: number;
}

/** Upserts `items` in statements of `batchRows` rows and returns the time spent in those statements. */
export async function unnestUpsert(database: Database, spec: TableSpec, items: readonly Item[], batchRows: number): Promise<WriteTiming> {
  const statement = unnestUpsertSql(spec);
  const timing: WriteTiming = { rows: 0, statements: 0, ms: 0 };
  for (let i = 0; i < items.length; i += batchRows) {
    const part = items.slice(i, i + batchRows);
    const t0 = performance.now();
    const result = await database.pool.query(statement, columnsOf(spec, part));
    timing.ms += performance.now() - t0;
    timing.rows += result.rowCount ?? 0;
    timing.statements += 1;
  }
  return timing;
}

/** One upsert statement per row, one after the other, until `items` or the time limit runs out. */
export async function rowAtATimeUpsert(database: Database, spec: TableSpec, items: readonly Item[], until: number): Promise<WriteTiming> {
  const statement = singleRowUpsertSql(spec);
  const timing: WriteTiming = { rows: 0, statements: 0, ms: 0 };
  const t0 = performance.now();
  for (const item of items) {
    if (performance.now() > until) break;
    const result = await database.pool.query(statement, rowOf(spec, item));
    timing.rows += result.rowCount ?? 0;
    timing.statements += 1;
  }
  timing.ms = performance.now() - t0;
  return timing;
}

export interface DatasetHead {
  now: string;
  today: string;
  batchWindow: { from: string; to: string };
  residualMonths: Array<{ year: number; month: number }>;
  size: { merchants: number; processors: number; residualMonths: number; batchDays: number; batchMerchantShare: number };
}

/**
 * GET <controlUrl>/dataset with the given parts (and ?year=&month=): the head fields plus each part's items.
 * `controlUrl` is the sandbox root's or an instance's `/_control`. Large parts take seconds, hence the long limit.
 */
export async function fetchDataset(
  controlUrl: string,
  parts: readonly string[],
  filter: { year?: number; month?: number } = {},
): Promise<DatasetHead & Record<string, Item[]>> {
  const query = new URLSearchParams({ parts: parts.join(",") });
  if (filter.year !== undefined && filter.month !== undefined) {
    query.set("year", String(filter.year));
    query.set("month", String(filter.month));
  }
  const res = await fetch(`${controlUrl}/dataset?${query}`, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`sandbox dataset: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as DatasetHead & Record<string, Item[]>;
}
