// Reads of sync runs for the admin routes and the progress display.
import { desc, eq, inArray } from "drizzle-orm";
import type { NeonQueryResultHKT } from "drizzle-orm/neon-serverless";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { type SyncRunRow, type SyncRunStreamRow, syncRunStreams, syncRuns } from "./schema.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = PgDatabase<NeonQueryResultHKT, any>;

export interface SyncStreamView {
  stream: string;
  status: string;
  pages: number;
  rowsRead: number;
  rowsUpserted: number;
  rowsDeleted: number;
  unitsTotal: number;
  unitsDone: number;
  unitsFailed: number;
  cursorBefore: string | null;
  cursorAfter: string | null;
  lastError: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SyncRunView {
  id: string;
  trigger: string;
  mode: string;
  status: string;
  /** The streams asked for, in order, each with its stats. */
  streams: SyncStreamView[];
  params: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function view(run: SyncRunRow, streams: SyncRunStreamRow[]): SyncRunView {
  const order = new Map(run.streams.map((s, i) => [s, i]));
  return {
    id: run.id,
    trigger: run.trigger,
    mode: run.mode,
    status: run.status,
    streams: streams
      .filter((s) => s.runId === run.id)
      .sort((a, b) => (order.get(a.stream) ?? 99) - (order.get(b.stream) ?? 99))
      .map((s) => ({
        stream: s.stream,
        status: s.status,
        pages: s.pages,
        rowsRead: s.rowsRead,
        rowsUpserted: s.rowsUpserted,
        rowsDeleted: s.rowsDeleted,
        unitsTotal: s.unitsTotal,
        unitsDone: s.unitsDone,
        unitsFailed: s.unitsFailed,
        cursorBefore: s.cursorBefore,
        cursorAfter: s.cursorAfter,
        lastError: s.lastError,
        startedAt: iso(s.startedAt),
        finishedAt: iso(s.finishedAt),
      })),
    params: run.params,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    error: run.error,
  };
}

/** The newest runs first, each with its per-stream stats. */
export async function listSyncRuns(db: Db, limit: number): Promise<SyncRunView[]> {
  const runs = await db.select().from(syncRuns).orderBy(desc(syncRuns.createdAt), desc(syncRuns.id)).limit(limit);
  if (runs.length === 0) return [];
  const streams = await db.select().from(syncRunStreams).where(inArray(syncRunStreams.runId, runs.map((r) => r.id)));
  return runs.map((r) => view(r, streams));
}

export async function getSyncRun(db: Db, id: string): Promise<SyncRunView | null> {
  const [run] = await db.select().from(syncRuns).where(eq(syncRuns.id, id));
  if (!run) return null;
  const streams = await db.select().from(syncRunStreams).where(eq(syncRunStreams.runId, id));
  return view(run, streams);
}

export async function latestSyncRun(db: Db): Promise<SyncRunView | null> {
  const [run] = await listSyncRuns(db, 1);
  return run ?? null;
}
