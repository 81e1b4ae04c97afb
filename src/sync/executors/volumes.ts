import { sql } from "drizzle-orm";
import type { NewMerchantBatch } from "../../db/schema.ts";
import { replaceMerchantBatches, stagePage } from "../../db/writes.ts";
import { batchToRow } from "../../iris/mapping.ts";
import { irisBatchesPageSchema } from "../../iris/schemas.ts";
import { IrisRejectedError } from "../../resilience/errors.ts";
import { QUEUE_BATCH_SIZE } from "../budget.ts";
import { type ExecutorOutcome, type UnitContext, collectPages } from "../context.ts";
import type { StreamStats } from "../runs.ts";
import { type VolumesWindow, volumesChunkSize, volumesChunkUnits } from "../planner.ts";

const BATCHES_PER_PAGE = 100;
/** Rows held in memory before they are written, so a long unit's memory stays flat. */
const FLUSH_ROWS = 5000;

function windowOf(params: Record<string, unknown>): VolumesWindow {
  const w = params.window as Partial<VolumesWindow> | undefined;
  if (!w || typeof w.start !== "string" || typeof w.end !== "string") throw new Error("volumes unit without a window");
  return { start: w.start, end: w.end };
}

/**
 * Splits the merchants that batched in the window (by `last_batch` in our merchants table, which an "all" run
 * has just refreshed: this unit waits for the merchants stream) into units of a few dozen merchants each.
 */
export async function runVolumesPlan(ctx: UnitContext): Promise<ExecutorOutcome> {
  const window = windowOf(ctx.unit.params);
  const result = await ctx.db.execute<{ mid: string }>(
    sql`select mid from merchants where last_batch >= ${window.start}::date order by mid`,
  );
  const mids = result.rows.map((r) => r.mid);
  // Every unit needs a message; keep the number of units within the queue sends this invocation can still make.
  const sends = Math.max(1, ctx.budget.remaining - 1);
  const size = volumesChunkSize(mids.length, ctx.config.sync.volumeMidsPerUnit, sends * QUEUE_BATCH_SIZE);
  const followUps = volumesChunkUnits(mids, window, size);
  return ctx.done({}, async () => ({ followUps }));
}

interface Position {
  index: number;
  page: number;
}

function positionOf(checkpoint: Record<string, unknown> | null): Position {
  if (checkpoint && typeof checkpoint.index === "number" && typeof checkpoint.page === "number") {
    return { index: checkpoint.index, page: checkpoint.page };
  }
  return { index: 0, page: 1 };
}

/**
 * The batches of a chunk of merchants in the window. Each merchant's batches in the window are replaced as a
 * whole (what IRIS no longer lists disappears); a merchant whose pages span invocations has its earlier pages
 * staged. Writes commit with the checkpoint (index of the next merchant, page of the current one).
 */
export async function runVolumesChunk(ctx: UnitContext): Promise<ExecutorOutcome> {
  const window = windowOf(ctx.unit.params);
  const mids = Array.isArray(ctx.unit.params.mids) ? ctx.unit.params.mids.map(String) : [];
  const start = positionOf(ctx.unit.checkpoint);
  // Staged pages, if any, belong to the merchant the unit stopped in; it is the first one completed below.
  const hasStaged = start.page > 1;

  let buffer: { mids: string[]; rows: NewMerchantBatch[]; pages: number; rowsRead: number } = { mids: [], rows: [], pages: 0, rowsRead: 0 };
  let bufferHasStaged = false;
  const write = async (tx: Parameters<typeof replaceMerchantBatches>[0]) => {
    const written = await replaceMerchantBatches(
      tx,
      { mids: buffer.mids, start: window.start, end: window.end, ...(bufferHasStaged ? { unitId: ctx.unit.id } : {}) },
      buffer.rows,
    );
    return { pages: buffer.pages, rowsRead: buffer.rowsRead, rowsUpserted: written.upserted, rowsDeleted: written.deleted };
  };

  let index = start.index;
  let page = start.page;
  while (index < mids.length) {
    const mid = mids[index]!;
    let fetched;
    try {
      fetched = await collectPages(ctx, page, (p) =>
        ctx.get(
          `/merchants/${encodeURIComponent(mid)}/transactions`,
          { start_date: window.start, end_date: window.end, per_page: BATCHES_PER_PAGE, page: p },
          irisBatchesPageSchema,
        ),
      );
    } catch (error) {
      // A merchant IRIS no longer knows has no batches: its stored ones in the window go.
      if (!(error instanceof IrisRejectedError && error.status === 404)) throw error;
      fetched = { complete: true, pages: [], nextPage: page };
    }
    const pages = fetched.pages.map((p) => ({ page: p.page, rows: p.items.map((b) => batchToRow(mid, b)) }));
    const read = pages.reduce((n, p) => n + p.rows.length, 0);
    if (!fetched.complete) {
      // Out of budget inside this merchant: write the merchants completed so far, stage this one's pages.
      const stopAt = { index, page: fetched.nextPage };
      await ctx.commit("checkpoint", async (tx) => {
        const stats: StreamStats = buffer.mids.length > 0 ? await write(tx) : {};
        for (const p of pages) await stagePage(tx, ctx.unit.id, p.page, p.rows);
        await ctx.checkpoint(tx, stopAt, { ...stats, pages: (stats.pages ?? 0) + pages.length, rowsRead: (stats.rowsRead ?? 0) + read });
      });
      return { status: "paused" };
    }
    if (hasStaged && index === start.index) bufferHasStaged = true;
    buffer.mids.push(mid);
    buffer.rows.push(...pages.flatMap((p) => p.rows));
    buffer.pages += pages.length;
    buffer.rowsRead += read;
    index += 1;
    page = 1;
    if (index < mids.length && buffer.rows.length >= FLUSH_ROWS) {
      const next = { index, page: 1 };
      await ctx.commit("checkpoint", async (tx) => ctx.checkpoint(tx, next, await write(tx)));
      buffer = { mids: [], rows: [], pages: 0, rowsRead: 0 };
      bufferHasStaged = false;
    }
  }
  return ctx.done({}, async (tx) => ({ stats: buffer.mids.length > 0 ? await write(tx) : {} }));
}
