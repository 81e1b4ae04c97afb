// The sync's writes, set-based: every statement carries thousands of rows as one array parameter per column
// (INSERT ... SELECT FROM unnest(...)), never a round trip per row. Money travels as decimal strings into numeric
// columns; no amount ever becomes a binary float on the way.
import { type SQL, sql } from "drizzle-orm";
import type { NeonQueryResultHKT } from "drizzle-orm/neon-serverless";
import type { PgDatabase } from "drizzle-orm/pg-core";
import type { NewMerchant, NewMerchantBatch, NewProcessor, NewResidual, NewResidualSummary } from "./schema.ts";

/** A database or a transaction: anything that runs SQL through the Neon driver (the schema does not matter here). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SqlRunner = Pick<PgDatabase<NeonQueryResultHKT, any>, "execute">;

/** Rows per statement: large enough to amortise the round trip, small enough to keep a statement's memory low. */
export const WRITE_BATCH_ROWS = 5000;

/** One array parameter; drizzle would otherwise spread a JS array into a list of parameters. */
const arr = (values: readonly unknown[]): SQL => sql`${sql.param(values)}`;

function batches<T>(rows: readonly T[], size = WRITE_BATCH_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Last one wins: a statement's ON CONFLICT may not touch the same row twice, and later pages are newer. */
function dedupe<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    byKey.delete(k);
    byKey.set(k, row);
  }
  return [...byKey.values()];
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const orNull = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

async function rowCount(runner: SqlRunner, query: SQL): Promise<number> {
  const result = await runner.execute(query);
  return result.rowCount ?? 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Merchants and processors.

/**
 * Inserts or updates merchants by mid. A row never replaces a stored one with an older `modified`, so a page read
 * before a concurrent change cannot undo it, and an unchanged row is not rewritten. Returns the rows written.
 */
export async function upsertMerchants(runner: SqlRunner, rows: readonly NewMerchant[]): Promise<number> {
  const unique = dedupe(
    [...rows].sort((a, b) => (a.modified?.getTime() ?? -Infinity) - (b.modified?.getTime() ?? -Infinity)),
    (r) => r.mid,
  );
  let written = 0;
  for (const part of batches(unique)) {
    written += await rowCount(
      runner,
      sql`
      insert into merchants (mid, name, status, active, processor, group_name, datasource, sic_code, vim, opened, closed,
        first_batch, last_batch, deactivated, created, modified, lead_ids, synced_at)
      select t.mid, t.name, t.status, t.active, t.processor, t.group_name, t.datasource, t.sic_code, t.vim, t.opened,
        t.closed, t.first_batch, t.last_batch, t.deactivated, t.created, t.modified,
        string_to_array(t.lead_ids, ','), now()
      from unnest(${arr(part.map((r) => r.mid))}::text[], ${arr(part.map((r) => orNull(r.name)))}::text[],
        ${arr(part.map((r) => orNull(r.status)))}::text[], ${arr(part.map((r) => orNull(r.active)))}::boolean[],
        ${arr(part.map((r) => orNull(r.processor)))}::text[], ${arr(part.map((r) => orNull(r.groupName)))}::text[],
        ${arr(part.map((r) => orNull(r.datasource)))}::text[], ${arr(part.map((r) => orNull(r.sicCode)))}::text[],
        ${arr(part.map((r) => orNull(r.vim)))}::text[], ${arr(part.map((r) => orNull(r.opened)))}::date[],
        ${arr(part.map((r) => orNull(r.closed)))}::date[], ${arr(part.map((r) => orNull(r.firstBatch)))}::date[],
        ${arr(part.map((r) => orNull(r.lastBatch)))}::date[], ${arr(part.map((r) => orNull(r.deactivated)))}::date[],
        ${arr(part.map((r) => iso(r.created)))}::timestamptz[], ${arr(part.map((r) => iso(r.modified)))}::timestamptz[],
        ${arr(part.map((r) => (r.leadIds ?? []).join(",")))}::text[])
        as t(mid, name, status, active, processor, group_name, datasource, sic_code, vim, opened, closed, first_batch,
          last_batch, deactivated, created, modified, lead_ids)
      on conflict (mid) do update set
        name = excluded.name, status = excluded.status, active = excluded.active, processor = excluded.processor,
        group_name = excluded.group_name, datasource = excluded.datasource, sic_code = excluded.sic_code,
        vim = excluded.vim, opened = excluded.opened, closed = excluded.closed, first_batch = excluded.first_batch,
        last_batch = excluded.last_batch, deactivated = excluded.deactivated, created = excluded.created,
        modified = excluded.modified, lead_ids = excluded.lead_ids, synced_at = excluded.synced_at
      where (merchants.modified is null or excluded.modified >= merchants.modified)
        and (merchants.name, merchants.status, merchants.active, merchants.processor, merchants.group_name,
          merchants.datasource, merchants.sic_code, merchants.vim, merchants.opened, merchants.closed,
          merchants.first_batch, merchants.last_batch, merchants.deactivated, merchants.created, merchants.modified,
          merchants.lead_ids)
        is distinct from (excluded.name, excluded.status, excluded.active, excluded.processor, excluded.group_name,
          excluded.datasource, excluded.sic_code, excluded.vim, excluded.opened, excluded.closed, excluded.first_batch,
          excluded.last_batch, excluded.deactivated, excluded.created, excluded.modified, excluded.lead_ids)`,
    );
  }
  return written;
}

/** Processors by name, with their data sources; an IRIS id is kept unless the row brings one. */
export async function upsertProcessors(runner: SqlRunner, rows: readonly NewProcessor[]): Promise<number> {
  const unique = dedupe(rows, (r) => r.name);
  if (unique.length === 0) return 0;
  const withIds = unique.filter((r) => r.processorId !== undefined && r.processorId !== null);
  if (withIds.length > 0) await clearProcessorIds(runner, withIds.map((r) => r.name), withIds.map((r) => r.processorId!));
  return rowCount(
    runner,
    sql`
    insert into processors (name, processor_id, datasources, synced_at)
    select t.name, t.processor_id, t.datasources::jsonb, now()
    from unnest(${arr(unique.map((r) => r.name))}::text[], ${arr(unique.map((r) => orNull(r.processorId)))}::integer[],
      ${arr(unique.map((r) => JSON.stringify(r.datasources ?? [])))}::text[]) as t(name, processor_id, datasources)
    on conflict (name) do update set
      processor_id = coalesce(excluded.processor_id, processors.processor_id),
      datasources = excluded.datasources, synced_at = excluded.synced_at
    where (coalesce(excluded.processor_id, processors.processor_id), excluded.datasources)
      is distinct from (processors.processor_id, processors.datasources)`,
  );
}

/**
 * Records which IRIS id a processor name has (residual reports reveal it). An id or name seen again moves to its
 * new partner, so the unique id never blocks a rename.
 */
export async function recordProcessorIds(runner: SqlRunner, pairs: readonly { name: string; processorId: number }[]): Promise<void> {
  const unique = dedupe(pairs, (p) => p.name);
  if (unique.length === 0) return;
  const names = unique.map((p) => p.name);
  const ids = unique.map((p) => p.processorId);
  await clearProcessorIds(runner, names, ids);
  await runner.execute(sql`
    insert into processors (name, processor_id)
    select * from unnest(${arr(names)}::text[], ${arr(ids)}::integer[])
    on conflict (name) do update set processor_id = excluded.processor_id`);
}

async function clearProcessorIds(runner: SqlRunner, names: string[], ids: number[]): Promise<void> {
  await runner.execute(sql`
    update processors set processor_id = null
    where processor_id = any(${arr(ids)}::integer[]) or name = any(${arr(names)}::text[])`);
}

// ---------------------------------------------------------------------------------------------------------------
// Residuals.

/**
 * Makes a month's summaries equal to `rows`: upserts them and deletes the processors the answer no longer lists,
 * together with those processors' merchant rows for the month. Returns rows written and deleted.
 */
export async function replaceResidualSummaries(
  runner: SqlRunner,
  year: number,
  month: number,
  rows: readonly NewResidualSummary[],
): Promise<{ upserted: number; deleted: number }> {
  const unique = dedupe(rows, (r) => String(r.processorId));
  const ids = unique.map((r) => r.processorId);
  let deleted = await rowCount(
    runner,
    sql`delete from residual_summaries where year = ${year} and month = ${month} and processor_id <> all(${arr(ids)}::integer[])`,
  );
  deleted += await rowCount(
    runner,
    sql`delete from residuals where year = ${year} and month = ${month} and processor_id <> all(${arr(ids)}::integer[])`,
  );
  if (unique.length === 0) return { upserted: 0, deleted };
  const upserted = await rowCount(
    runner,
    sql`
    insert into residual_summaries (processor_id, year, month, processor_name, merchants_count, sum_transactions,
      sum_sales_amount, sum_income, sum_expense, sum_net, sum_bps, sum_agent_net, modified, synced_at)
    select t.processor_id, ${year}, ${month}, t.processor_name, t.merchants_count, t.sum_transactions, t.sum_sales_amount,
      t.sum_income, t.sum_expense, t.sum_net, t.sum_bps, t.sum_agent_net, t.modified, now()
    from unnest(${arr(ids)}::integer[], ${arr(unique.map((r) => orNull(r.processorName)))}::text[],
      ${arr(unique.map((r) => orNull(r.merchantsCount)))}::integer[], ${arr(unique.map((r) => orNull(r.sumTransactions)))}::bigint[],
      ${arr(unique.map((r) => orNull(r.sumSalesAmount)))}::numeric[], ${arr(unique.map((r) => orNull(r.sumIncome)))}::numeric[],
      ${arr(unique.map((r) => orNull(r.sumExpense)))}::numeric[], ${arr(unique.map((r) => orNull(r.sumNet)))}::numeric[],
      ${arr(unique.map((r) => orNull(r.sumBps)))}::numeric[], ${arr(unique.map((r) => orNull(r.sumAgentNet)))}::numeric[],
      ${arr(unique.map((r) => iso(r.modified)))}::timestamptz[])
      as t(processor_id, processor_name, merchants_count, sum_transactions, sum_sales_amount, sum_income, sum_expense,
        sum_net, sum_bps, sum_agent_net, modified)
    on conflict (processor_id, year, month) do update set
      processor_name = excluded.processor_name, merchants_count = excluded.merchants_count,
      sum_transactions = excluded.sum_transactions, sum_sales_amount = excluded.sum_sales_amount,
      sum_income = excluded.sum_income, sum_expense = excluded.sum_expense, sum_net = excluded.sum_net,
      sum_bps = excluded.sum_bps, sum_agent_net = excluded.sum_agent_net, modified = excluded.modified,
      synced_at = excluded.synced_at
    where (residual_summaries.processor_name, residual_summaries.merchants_count, residual_summaries.sum_transactions,
        residual_summaries.sum_sales_amount, residual_summaries.sum_income, residual_summaries.sum_expense,
        residual_summaries.sum_net, residual_summaries.sum_bps, residual_summaries.sum_agent_net,
        residual_summaries.modified)
      is distinct from (excluded.processor_name, excluded.merchants_count, excluded.sum_transactions,
        excluded.sum_sales_amount, excluded.sum_income, excluded.sum_expense, excluded.sum_net, excluded.sum_bps,
        excluded.sum_agent_net, excluded.modified)`,
  );
  return { upserted, deleted };
}

const RESIDUAL_COLUMNS = sql.raw(`mid text, "merchantName" text, transactions integer, "salesAmount" numeric,
  income numeric, expense numeric, net numeric, bps numeric, percentage numeric, "agentNet" numeric`);

const RESIDUAL_UPSERT = sql.raw(`on conflict (mid, processor_id, year, month) do update set
  merchant_name = excluded.merchant_name, transactions = excluded.transactions, sales_amount = excluded.sales_amount,
  income = excluded.income, expense = excluded.expense, net = excluded.net, bps = excluded.bps,
  percentage = excluded.percentage, agent_net = excluded.agent_net, synced_at = excluded.synced_at
where (residuals.merchant_name, residuals.transactions, residuals.sales_amount, residuals.income, residuals.expense,
    residuals.net, residuals.bps, residuals.percentage, residuals.agent_net)
  is distinct from (excluded.merchant_name, excluded.transactions, excluded.sales_amount, excluded.income,
    excluded.expense, excluded.net, excluded.bps, excluded.percentage, excluded.agent_net)`);

/**
 * Makes one processor-month's merchant rows exactly the report's rows: the staged pages of `unitId` (fetched by
 * earlier invocations) plus `rows` (the last pages, which win over staged ones for the same mid). Rows the report
 * no longer has are deleted, changed ones rewritten, unchanged ones left alone, and the staging is cleared. Run
 * it inside the transaction that finishes the unit, so nobody ever sees the month half replaced.
 */
export async function replaceResidualMonth(
  runner: SqlRunner,
  target: { processorId: number; year: number; month: number; summaryModified: string | null; unitId?: number },
  rows: readonly NewResidual[],
): Promise<{ deleted: number; upserted: number }> {
  const { processorId, year, month, unitId } = target;
  const unique = dedupe(rows, (r) => r.mid);
  const mids = unique.map((r) => r.mid);
  const staged =
    unitId === undefined
      ? sql`false`
      : sql`exists (select 1 from sync_unit_pages p cross join lateral jsonb_to_recordset(p.rows) as r(${RESIDUAL_COLUMNS})
          where p.unit_id = ${unitId} and r.mid = residuals.mid)`;
  const deleted = await rowCount(
    runner,
    sql`
    delete from residuals
    where processor_id = ${processorId} and year = ${year} and month = ${month}
      and mid <> all(${arr(mids)}::text[]) and not ${staged}`,
  );
  let upserted = 0;
  if (unitId !== undefined) {
    upserted += await rowCount(
      runner,
      sql`
      insert into residuals (mid, processor_id, year, month, merchant_name, transactions, sales_amount, income, expense,
        net, bps, percentage, agent_net, synced_at)
      select distinct on (r.mid) r.mid, ${processorId}, ${year}, ${month}, r."merchantName", r.transactions,
        r."salesAmount", r.income, r.expense, r.net, r.bps, r.percentage, r."agentNet", now()
      from sync_unit_pages p cross join lateral jsonb_to_recordset(p.rows) as r(${RESIDUAL_COLUMNS})
      where p.unit_id = ${unitId} and r.mid <> all(${arr(mids)}::text[])
      order by r.mid, p.page desc
      ${RESIDUAL_UPSERT}`,
    );
    await clearStagedPages(runner, unitId);
  }
  for (const part of batches(unique)) {
    upserted += await rowCount(
      runner,
      sql`
      insert into residuals (mid, processor_id, year, month, merchant_name, transactions, sales_amount, income, expense,
        net, bps, percentage, agent_net, synced_at)
      select t.mid, ${processorId}, ${year}, ${month}, t.merchant_name, t.transactions, t.sales_amount, t.income,
        t.expense, t.net, t.bps, t.percentage, t.agent_net, now()
      from unnest(${arr(part.map((r) => r.mid))}::text[], ${arr(part.map((r) => orNull(r.merchantName)))}::text[],
        ${arr(part.map((r) => orNull(r.transactions)))}::integer[], ${arr(part.map((r) => orNull(r.salesAmount)))}::numeric[],
        ${arr(part.map((r) => orNull(r.income)))}::numeric[], ${arr(part.map((r) => orNull(r.expense)))}::numeric[],
        ${arr(part.map((r) => orNull(r.net)))}::numeric[], ${arr(part.map((r) => orNull(r.bps)))}::numeric[],
        ${arr(part.map((r) => orNull(r.percentage)))}::numeric[], ${arr(part.map((r) => orNull(r.agentNet)))}::numeric[])
        as t(mid, merchant_name, transactions, sales_amount, income, expense, net, bps, percentage, agent_net)
      ${RESIDUAL_UPSERT}`,
    );
  }
  await runner.execute(sql`
    update residual_summaries set rows_synced_for = ${target.summaryModified}::timestamptz
    where processor_id = ${processorId} and year = ${year} and month = ${month}`);
  return { deleted, upserted };
}

// ---------------------------------------------------------------------------------------------------------------
// Batches.

const BATCH_COLUMNS = sql.raw(`mid text, "batchDate" date, "referenceNumber" text, amount numeric, count integer,
  "terminalNumber" text`);

const BATCH_UPSERT = sql.raw(`on conflict (mid, batch_date, reference_number) do update set
  amount = excluded.amount, count = excluded.count, terminal_number = excluded.terminal_number,
  synced_at = excluded.synced_at
where (merchant_batches.amount, merchant_batches.count, merchant_batches.terminal_number)
  is distinct from (excluded.amount, excluded.count, excluded.terminal_number)`);

/**
 * Makes the batches of `mids` between `start` and `end` (inclusive days) exactly `rows` plus the staged pages of
 * `unitId`: batches IRIS no longer lists in the window are deleted, the rest upserted, unchanged ones untouched.
 */
export async function replaceMerchantBatches(
  runner: SqlRunner,
  target: { mids: readonly string[]; start: string; end: string; unitId?: number },
  rows: readonly NewMerchantBatch[],
): Promise<{ deleted: number; upserted: number }> {
  if (target.mids.length === 0) return { deleted: 0, upserted: 0 };
  const { unitId } = target;
  const unique = dedupe(rows, (r) => `${r.mid}\u0000${r.batchDate}\u0000${r.referenceNumber}`);
  const staged =
    unitId === undefined
      ? sql`false`
      : sql`exists (select 1 from sync_unit_pages p cross join lateral jsonb_to_recordset(p.rows) as r(${BATCH_COLUMNS})
          where p.unit_id = ${unitId} and r.mid = b.mid and r."batchDate" = b.batch_date
            and r."referenceNumber" = b.reference_number)`;
  const deleted = await rowCount(
    runner,
    sql`
    delete from merchant_batches b
    where b.mid = any(${arr(target.mids)}::text[]) and b.batch_date between ${target.start}::date and ${target.end}::date
      and not exists (
        select 1 from unnest(${arr(unique.map((r) => r.mid))}::text[], ${arr(unique.map((r) => r.batchDate))}::date[],
          ${arr(unique.map((r) => r.referenceNumber))}::text[]) as k(mid, batch_date, reference_number)
        where k.mid = b.mid and k.batch_date = b.batch_date and k.reference_number = b.reference_number)
      and not ${staged}`,
  );
  let upserted = 0;
  if (unitId !== undefined) {
    upserted += await rowCount(
      runner,
      sql`
      insert into merchant_batches (mid, batch_date, reference_number, amount, count, terminal_number, synced_at)
      select distinct on (r.mid, r."batchDate", r."referenceNumber") r.mid, r."batchDate", r."referenceNumber",
        r.amount, r.count, r."terminalNumber", now()
      from sync_unit_pages p cross join lateral jsonb_to_recordset(p.rows) as r(${BATCH_COLUMNS})
      where p.unit_id = ${unitId}
      order by r.mid, r."batchDate", r."referenceNumber", p.page desc
      ${BATCH_UPSERT}`,
    );
    await clearStagedPages(runner, unitId);
  }
  for (const part of batches(unique)) {
    upserted += await rowCount(
      runner,
      sql`
      insert into merchant_batches (mid, batch_date, reference_number, amount, count, terminal_number, synced_at)
      select t.mid, t.batch_date, t.reference_number, t.amount, t.count, t.terminal_number, now()
      from unnest(${arr(part.map((r) => r.mid))}::text[], ${arr(part.map((r) => r.batchDate))}::date[],
        ${arr(part.map((r) => r.referenceNumber))}::text[], ${arr(part.map((r) => orNull(r.amount)))}::numeric[],
        ${arr(part.map((r) => orNull(r.count)))}::integer[], ${arr(part.map((r) => orNull(r.terminalNumber)))}::text[])
        as t(mid, batch_date, reference_number, amount, count, terminal_number)
      ${BATCH_UPSERT}`,
    );
  }
  return { deleted, upserted };
}

// ---------------------------------------------------------------------------------------------------------------
// Staging.

/** Holds one fetched page of a unit until the unit's last page arrives; re-staging the same page replaces it. */
export async function stagePage(runner: SqlRunner, unitId: number, page: number, rows: readonly object[]): Promise<void> {
  await runner.execute(sql`
    insert into sync_unit_pages (unit_id, page, rows) values (${unitId}, ${page}, ${JSON.stringify(rows)}::jsonb)
    on conflict (unit_id, page) do update set rows = excluded.rows, created_at = now()`);
}

export async function clearStagedPages(runner: SqlRunner, unitId: number): Promise<void> {
  await runner.execute(sql`delete from sync_unit_pages where unit_id = ${unitId}`);
}
