import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

// Money is numeric so cents survive exactly; drizzle hands numeric values around as strings.
const money = (name: string) => numeric(name, { precision: 14, scale: 2 });
// Basis points and percentages carry more scale than cents (IRIS sends e.g. bps 0.29).
const ratio = (name: string) => numeric(name, { precision: 12, scale: 4 });
const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const SYNC_TRIGGERS = ["cron", "manual", "webhook", "backfill"] as const;
export const SYNC_MODES = ["incremental", "full"] as const;
export const SYNC_RUN_STATUSES = ["queued", "running", "succeeded", "partial", "failed", "skipped"] as const;
export const SYNC_UNIT_STATUSES = ["pending", "running", "done", "failed"] as const;
export const WEBHOOK_EVENT_STATUSES = ["received", "queued", "processed", "ignored", "failed"] as const;

export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];
export type SyncMode = (typeof SYNC_MODES)[number];
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];
export type SyncUnitStatus = (typeof SYNC_UNIT_STATUSES)[number];
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

// Check constraints instead of pg enums: adding a value later is a plain constraint swap, not ALTER TYPE.
const oneOf = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(", ")})`);

export const merchants = pgTable(
  "merchants",
  {
    // Text because IRIS sends it as a string on merchant endpoints and as an integer in residual rows.
    mid: text("mid").primaryKey(),
    name: text("name"),
    status: text("status"),
    active: boolean("active"),
    processor: text("processor"),
    groupName: text("group_name"),
    datasource: text("datasource"),
    sicCode: text("sic_code"),
    vim: text("vim"),
    opened: date("opened", { mode: "string" }),
    closed: date("closed", { mode: "string" }),
    firstBatch: date("first_batch", { mode: "string" }),
    lastBatch: date("last_batch", { mode: "string" }),
    deactivated: date("deactivated", { mode: "string" }),
    created: timestamptz("created"),
    modified: timestamptz("modified"),
    leadIds: text("lead_ids").array().notNull().default(sql`'{}'::text[]`),
    syncedAt: timestamptz("synced_at").notNull().defaultNow(),
  },
  (t) => [
    index("merchants_modified_idx").on(t.modified),
    index("merchants_status_idx").on(t.status),
    index("merchants_processor_idx").on(t.processor),
    // text_pattern_ops lets `lower(name) like 'abc%'` use the index whatever the database collation.
    index("merchants_lower_name_idx").on(sql`lower(${t.name}) text_pattern_ops`),
  ],
);

// GET /processors returns names and data sources but no id; residual reports carry the id. The name is the
// key both sources share, so it is the primary key and the IRIS id is filled in once a residual report names it.
export const processors = pgTable("processors", {
  name: text("name").primaryKey(),
  processorId: integer("processor_id").unique("processors_processor_id_key"),
  datasources: jsonb("datasources").$type<{ id: number | null; name: string | null }[]>().notNull().default([]),
  syncedAt: timestamptz("synced_at").notNull().defaultNow(),
});

export const residualSummaries = pgTable(
  "residual_summaries",
  {
    processorId: integer("processor_id").notNull(),
    year: smallint("year").notNull(),
    month: smallint("month").notNull(),
    processorName: text("processor_name"),
    merchantsCount: integer("merchants_count"),
    sumTransactions: bigint("sum_transactions", { mode: "number" }),
    sumSalesAmount: money("sum_sales_amount"),
    sumIncome: money("sum_income"),
    sumExpense: money("sum_expense"),
    sumNet: money("sum_net"),
    sumBps: ratio("sum_bps"),
    sumAgentNet: money("sum_agent_net"),
    modified: timestamptz("modified"),
    // The report version (`modified`) whose merchant rows were last replaced in full: tells a reader whether
    // the stored rows already reflect the latest restatement.
    rowsSyncedFor: timestamptz("rows_synced_for"),
    syncedAt: timestamptz("synced_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "residual_summaries_pkey", columns: [t.processorId, t.year, t.month] }),
    index("residual_summaries_year_month_idx").on(t.year, t.month),
    check("residual_summaries_month_check", sql`${t.month} between 1 and 12`),
  ],
);

export const residuals = pgTable(
  "residuals",
  {
    mid: text("mid").notNull(),
    processorId: integer("processor_id").notNull(),
    year: smallint("year").notNull(),
    month: smallint("month").notNull(),
    merchantName: text("merchant_name"),
    transactions: integer("transactions"),
    salesAmount: money("sales_amount"),
    income: money("income"),
    expense: money("expense"),
    net: money("net"),
    bps: ratio("bps"),
    percentage: ratio("percentage"),
    agentNet: money("agent_net"),
    syncedAt: timestamptz("synced_at").notNull().defaultNow(),
  },
  (t) => [
    // mid leads the key, so the key also serves lookups by merchant.
    primaryKey({ name: "residuals_pkey", columns: [t.mid, t.processorId, t.year, t.month] }),
    // Serves month listings and the delete that replaces one processor-month when a report is restated.
    index("residuals_year_month_processor_idx").on(t.year, t.month, t.processorId),
    check("residuals_month_check", sql`${t.month} between 1 and 12`),
  ],
);

// One row per settled batch. The card transactions nested in IRIS batches are never stored.
export const merchantBatches = pgTable(
  "merchant_batches",
  {
    mid: text("mid").notNull(),
    batchDate: date("batch_date", { mode: "string" }).notNull(),
    referenceNumber: text("reference_number").notNull(),
    amount: money("amount"),
    count: integer("count"),
    terminalNumber: text("terminal_number"),
    syncedAt: timestamptz("synced_at").notNull().defaultNow(),
  },
  (t) => [
    // Leads with (mid, batch_date), so it serves a merchant's batches by date range.
    primaryKey({ name: "merchant_batches_pkey", columns: [t.mid, t.batchDate, t.referenceNumber] }),
    index("merchant_batches_batch_date_idx").on(t.batchDate),
  ],
);

export const syncRuns = pgTable(
  "sync_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    trigger: text("trigger").$type<SyncTrigger>().notNull(),
    mode: text("mode").$type<SyncMode>().notNull(),
    status: text("status").$type<SyncRunStatus>().notNull().default("queued"),
    streams: text("streams").array().notNull(),
    params: jsonb("params").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    startedAt: timestamptz("started_at"),
    finishedAt: timestamptz("finished_at"),
    error: text("error"),
  },
  (t) => [
    index("sync_runs_created_at_idx").on(t.createdAt.desc()),
    check("sync_runs_trigger_check", oneOf("trigger", SYNC_TRIGGERS)),
    check("sync_runs_mode_check", oneOf("mode", SYNC_MODES)),
    check("sync_runs_status_check", oneOf("status", SYNC_RUN_STATUSES)),
  ],
);

export const syncRunStreams = pgTable(
  "sync_run_streams",
  {
    runId: uuid("run_id")
      .notNull()
      .references(() => syncRuns.id, { onDelete: "cascade" }),
    stream: text("stream").notNull(),
    status: text("status").$type<SyncRunStatus>().notNull().default("queued"),
    pages: integer("pages").notNull().default(0),
    rowsRead: integer("rows_read").notNull().default(0),
    rowsUpserted: integer("rows_upserted").notNull().default(0),
    rowsDeleted: integer("rows_deleted").notNull().default(0),
    unitsTotal: integer("units_total").notNull().default(0),
    unitsDone: integer("units_done").notNull().default(0),
    unitsFailed: integer("units_failed").notNull().default(0),
    cursorBefore: text("cursor_before"),
    cursorAfter: text("cursor_after"),
    lastError: text("last_error"),
    startedAt: timestamptz("started_at"),
    finishedAt: timestamptz("finished_at"),
  },
  (t) => [
    primaryKey({ name: "sync_run_streams_pkey", columns: [t.runId, t.stream] }),
    // The stream lock. A run may cover several streams, so a per-run index on sync_runs cannot express
    // "one active run per stream"; this one can, and it is released by the same update that ends the
    // stream, so no separate lock table can drift out of step with the runs.
    uniqueIndex("sync_run_streams_one_active_per_stream")
      .on(t.stream)
      .where(sql.raw(`status in ('queued', 'running')`)),
    check("sync_run_streams_status_check", oneOf("status", SYNC_RUN_STATUSES)),
  ],
);

export const syncUnits = pgTable(
  "sync_units",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    runId: uuid("run_id")
      .notNull()
      .references(() => syncRuns.id, { onDelete: "cascade" }),
    stream: text("stream").notNull(),
    kind: text("kind").notNull(),
    // Identifies the unit within its run (e.g. "residual-rows:12:2024-05") so enqueuing it twice is a no-op.
    unitKey: text("unit_key").notNull(),
    params: jsonb("params").$type<Record<string, unknown>>().notNull().default({}),
    status: text("status").$type<SyncUnitStatus>().notNull().default("pending"),
    // Bumped by every claim; it is the claim's fencing token, so a holder whose lease expired cannot commit.
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    // Where a unit interrupted between invocations resumes; written in the transaction of the rows it covers.
    checkpoint: jsonb("checkpoint").$type<Record<string, unknown>>(),
    // A running unit whose lease has passed is presumed dead (its worker was killed) and may be claimed again.
    leaseUntil: timestamptz("lease_until"),
    // When a queue message was last sent for the unit; null while it waits for `after_stream`.
    enqueuedAt: timestamptz("enqueued_at"),
    // The unit may start only after this stream of the same run has finished.
    afterStream: text("after_stream"),
    startedAt: timestamptz("started_at"),
    finishedAt: timestamptz("finished_at"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("sync_units_run_unit_key_idx").on(t.runId, t.unitKey),
    index("sync_units_run_status_idx").on(t.runId, t.status),
    // The sweep's search for lost messages and dead workers.
    index("sync_units_open_idx")
      .on(t.status, t.enqueuedAt)
      .where(sql.raw(`status in ('pending', 'running')`)),
    check("sync_units_status_check", oneOf("status", SYNC_UNIT_STATUSES)),
  ],
);

// Pages a unit fetched in earlier invocations, held until its last page arrives so that the rows they belong to
// (a processor-month, a merchant's batches) are replaced in one transaction, never half.
export const syncUnitPages = pgTable(
  "sync_unit_pages",
  {
    unitId: bigint("unit_id", { mode: "number" })
      .notNull()
      .references(() => syncUnits.id, { onDelete: "cascade" }),
    page: integer("page").notNull(),
    rows: jsonb("rows").$type<Record<string, unknown>[]>().notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "sync_unit_pages_pkey", columns: [t.unitId, t.page] })],
);

export const syncState = pgTable("sync_state", {
  stream: text("stream").primaryKey(),
  cursor: text("cursor"),
  updatedAt: timestamptz("updated_at").notNull().defaultNow(),
});

export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    // IRIS's hook.requestId: the idempotency key of a delivery.
    requestId: bigint("request_id", { mode: "number" }).notNull().unique("webhook_events_request_id_key"),
    event: text("event").notNull(),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
    payload: jsonb("payload").$type<unknown>(),
    status: text("status").$type<WebhookEventStatus>().notNull().default("received"),
    processedAt: timestamptz("processed_at"),
    error: text("error"),
    // Bumped by every claim; it fences the claim's final write, so a holder whose lock passed cannot overwrite.
    attempts: integer("attempts").notNull().default(0),
    // The sync run that covers the event (the one it started, or a later one that already re-reads its data).
    runId: uuid("run_id").references(() => syncRuns.id, { onDelete: "set null" }),
    // What processing did: months and runs, leads and merchants refreshed, or why the event was ignored.
    result: jsonb("result").$type<Record<string, unknown>>(),
    // When the event's queue message is due; a queued event long past it lost its message and is sent again.
    nextAttemptAt: timestamptz("next_attempt_at"),
    // Held by the invocation processing the event; a duplicate message finds it taken.
    lockedUntil: timestamptz("locked_until"),
  },
  (t) => [
    index("webhook_events_status_received_at_idx").on(t.status, t.receivedAt),
    // Coalescing asks which events refreshed something after a given receipt.
    index("webhook_events_processed_at_idx").on(t.processedAt),
    check("webhook_events_status_check", oneOf("status", WEBHOOK_EVENT_STATUSES)),
  ],
);

export type MerchantRow = typeof merchants.$inferSelect;
export type NewMerchant = typeof merchants.$inferInsert;
export type ProcessorRow = typeof processors.$inferSelect;
export type NewProcessor = typeof processors.$inferInsert;
export type ResidualSummaryRow = typeof residualSummaries.$inferSelect;
export type NewResidualSummary = typeof residualSummaries.$inferInsert;
export type ResidualRow = typeof residuals.$inferSelect;
export type NewResidual = typeof residuals.$inferInsert;
export type MerchantBatchRow = typeof merchantBatches.$inferSelect;
export type NewMerchantBatch = typeof merchantBatches.$inferInsert;
export type SyncRunRow = typeof syncRuns.$inferSelect;
export type NewSyncRun = typeof syncRuns.$inferInsert;
export type SyncRunStreamRow = typeof syncRunStreams.$inferSelect;
export type NewSyncRunStream = typeof syncRunStreams.$inferInsert;
export type SyncUnitRow = typeof syncUnits.$inferSelect;
export type NewSyncUnit = typeof syncUnits.$inferInsert;
export type SyncUnitPageRow = typeof syncUnitPages.$inferSelect;
export type SyncStateRow = typeof syncState.$inferSelect;
export type NewSyncState = typeof syncState.$inferInsert;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type NewWebhookEvent = typeof webhookEvents.$inferInsert;
