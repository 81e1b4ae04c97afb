import { sql } from "drizzle-orm";
import {
  type SqlRunner,
  clearStagedPages,
  recordProcessorIds,
  replaceResidualMonth,
  replaceResidualSummaries,
  stagePage,
} from "../../db/writes.ts";
import { processorIdFromSummary, residualRowToRow, residualSummaryToRow } from "../../iris/mapping.ts";
import {
  type IrisResidualSummary,
  irisResidualRowsPageSchema,
  irisResidualSummaryPageSchema,
  irisResidualSummarySchema,
} from "../../iris/schemas.ts";
import { type ExecutorOutcome, type UnitContext, collectPages, numberParam } from "../context.ts";
import { residualRowsUnit } from "../planner.ts";

const SUMMARY_PER_PAGE = 100;
const ROWS_PER_PAGE = 1000;

function nextPageOf(checkpoint: Record<string, unknown> | null): number {
  return checkpoint && typeof checkpoint.page === "number" && checkpoint.page > 1 ? checkpoint.page : 1;
}

async function stagedItems(runner: SqlRunner, unitId: number): Promise<unknown[]> {
  const result = await runner.execute<{ rows: unknown[] }>(sql`select rows from sync_unit_pages where unit_id = ${unitId} order by page`);
  return result.rows.flatMap((r) => r.rows);
}

/**
 * One month's residual summary, one row per processor: the month's summaries become exactly IRIS's (processors
 * no longer listed are removed with their rows), and one residual-rows unit is planned per processor, in the same
 * transaction that ends this unit.
 */
export async function runResidualSummary(ctx: UnitContext): Promise<ExecutorOutcome> {
  const year = numberParam(ctx.unit.params, "year");
  const month = numberParam(ctx.unit.params, "month");
  const firstPage = nextPageOf(ctx.unit.checkpoint);
  const fetched = await collectPages(ctx, firstPage, (page) =>
    ctx.get(`/residuals/reports/summary/${year}/${month}`, { per_page: SUMMARY_PER_PAGE, page }, irisResidualSummaryPageSchema),
  );
  const stats = { pages: fetched.pages.length, rowsRead: fetched.pages.reduce((n, p) => n + p.items.length, 0) };
  if (!fetched.complete) {
    if (fetched.pages.length === 0) return { status: "paused" };
    await ctx.commit("checkpoint", async (tx) => {
      for (const p of fetched.pages) await stagePage(tx, ctx.unit.id, p.page, p.items);
      await ctx.checkpoint(tx, { page: fetched.nextPage }, stats);
    });
    return { status: "paused" };
  }
  return ctx.done(stats, async (tx) => {
    const staged: IrisResidualSummary[] =
      firstPage > 1 ? (await stagedItems(tx, ctx.unit.id)).map((item) => irisResidualSummarySchema.parse(item)) : [];
    if (firstPage > 1) await clearStagedPages(tx, ctx.unit.id);
    const items = [...staged, ...fetched.pages.flatMap((p) => p.items)];
    const rows = items.map((item) => residualSummaryToRow(item.processor_id, year, month, item));
    const written = await replaceResidualSummaries(tx, year, month, rows);
    await recordProcessorIds(
      tx,
      items.map(processorIdFromSummary).filter((p): p is { name: string; processorId: number } => p !== null),
    );
    // Every processor-month is read again, also when its report's version is unchanged: a report's rows carry
    // merchant names, which change without the report being republished.
    const followUps = rows.map((r) =>
      residualRowsUnit({ processorId: r.processorId, year, month, summaryModified: r.modified ? r.modified.toISOString() : null }),
    );
    return { stats: { rowsUpserted: written.upserted, rowsDeleted: written.deleted }, followUps };
  });
}

/**
 * Every merchant row of one processor-month. Pages fetched by earlier invocations wait in the staging table; the
 * invocation that reads the last page replaces the processor-month in one transaction, so rows a restated report
 * dropped disappear and nobody ever sees a month half replaced.
 */
export async function runResidualRows(ctx: UnitContext): Promise<ExecutorOutcome> {
  const processorId = numberParam(ctx.unit.params, "processorId");
  const year = numberParam(ctx.unit.params, "year");
  const month = numberParam(ctx.unit.params, "month");
  const summaryModified = typeof ctx.unit.params.summaryModified === "string" ? ctx.unit.params.summaryModified : null;
  const firstPage = nextPageOf(ctx.unit.checkpoint);
  const fetched = await collectPages(ctx, firstPage, (page) =>
    ctx.get(`/residuals/reports/summary/rows/${processorId}/${year}/${month}`, { per_page: ROWS_PER_PAGE, page }, irisResidualRowsPageSchema),
  );
  const pages = fetched.pages.map((p) => ({ page: p.page, rows: p.items.map((item) => residualRowToRow(processorId, year, month, item)) }));
  const stats = { pages: pages.length, rowsRead: pages.reduce((n, p) => n + p.rows.length, 0) };
  if (!fetched.complete) {
    if (pages.length === 0) return { status: "paused" };
    await ctx.commit("checkpoint", async (tx) => {
      for (const p of pages) await stagePage(tx, ctx.unit.id, p.page, p.rows);
      await ctx.checkpoint(tx, { page: fetched.nextPage }, stats);
    });
    return { status: "paused" };
  }
  return ctx.done(stats, async (tx) => {
    const written = await replaceResidualMonth(
      tx,
      { processorId, year, month, summaryModified, ...(firstPage > 1 ? { unitId: ctx.unit.id } : {}) },
      pages.flatMap((p) => p.rows),
    );
    return { stats: { rowsUpserted: written.upserted, rowsDeleted: written.deleted } };
  });
}
