import { upsertMerchants, upsertProcessors } from "../../db/writes.ts";
import { merchantToRow, processorToRow } from "../../iris/mapping.ts";
import { irisMerchantsPageSchema, irisProcessorsSchema } from "../../iris/schemas.ts";
import { type UnitContext, type ExecutorOutcome, allowedPerPage, stringParam } from "../context.ts";
import { type MerchantsPosition, nextMerchantsPosition } from "../planner.ts";
import { advanceMerchantsCursor } from "../runs.ts";

const MERCHANT_PAGE_SIZES = [10, 25, 50, 100, 500, 1000] as const;

function positionOf(checkpoint: Record<string, unknown> | null, startDate: string): MerchantsPosition {
  if (checkpoint && typeof checkpoint.startDate === "string" && typeof checkpoint.page === "number") {
    return { startDate: checkpoint.startDate, page: checkpoint.page };
  }
  return { startDate, page: 1 };
}

/**
 * Merchants modified since the unit's start, oldest first, a page per transaction: the page's rows, the stream
 * cursor (the greatest `modified` read so far) and the unit's position commit together, so a worker killed
 * anywhere resumes at the first page not committed.
 */
export async function runMerchantsPages(ctx: UnitContext): Promise<ExecutorOutcome> {
  let position = positionOf(ctx.unit.checkpoint, stringParam(ctx.unit.params, "startDate"));
  const perPage = allowedPerPage(ctx.config.sync.merchantsPerPage, MERCHANT_PAGE_SIZES);
  for (;;) {
    if (!ctx.canCall()) return { status: "paused" };
    const body = await ctx.get(
      "/merchants",
      {
        date_filter: "modified",
        start_date: position.startDate,
        sort_by: "modified",
        sort_dir: "asc",
        per_page: perPage,
        page: position.page,
      },
      irisMerchantsPageSchema,
    );
    const rows = body.data.map(merchantToRow);
    let maxModified: Date | null = null;
    for (const row of rows) if (row.modified && (!maxModified || row.modified > maxModified)) maxModified = row.modified;
    const step = nextMerchantsPosition(position, {
      maxModified,
      currentPage: body.meta.current_page,
      lastPage: body.meta.last_page,
      rows: rows.length,
    });
    const stats = { pages: 1, rowsRead: rows.length };
    const write = async (tx: Parameters<typeof upsertMerchants>[0]) => {
      const upserted = await upsertMerchants(tx, rows);
      if (maxModified) await advanceMerchantsCursor(tx, maxModified);
      return upserted;
    };
    if (step.done) {
      return ctx.done(stats, async (tx) => ({ stats: { rowsUpserted: await write(tx) } }));
    }
    const next = step.next;
    await ctx.commit("checkpoint", async (tx) => {
      const upserted = await write(tx);
      await ctx.checkpoint(tx, { ...next }, { ...stats, rowsUpserted: upserted });
    });
    position = next;
  }
}

/** GET /processors: names and data sources (residual reports later add each processor's id). */
export async function runProcessors(ctx: UnitContext): Promise<ExecutorOutcome> {
  if (!ctx.canCall()) return { status: "paused" };
  const body = await ctx.get("/processors", {}, irisProcessorsSchema);
  const rows = body.processors.map(processorToRow);
  return ctx.done({ pages: 1, rowsRead: rows.length }, async (tx) => ({ stats: { rowsUpserted: await upsertProcessors(tx, rows) } }));
}
