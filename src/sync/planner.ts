// Pure planning: what a run asks for, turned into units of work, and the cursor and window arithmetic the
// executors rely on. No clock, network or database here; callers pass `now` and the stored cursors.
import type { SyncMode } from "../db/schema.ts";
import { formatIrisDateTime, formatIrisDay, parseIrisDateTime } from "../iris/mapping.ts";
import type { SyncStream } from "./streams.ts";

export interface YearMonth {
  year: number;
  month: number;
}

export const UNIT_KINDS = [
  "merchants-pages",
  "processors",
  "residual-summary",
  "residual-rows",
  "volumes-plan",
  "volumes-chunk",
] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

export interface MerchantsPosition {
  /** Inclusive lower bound on `modified`, as IRIS wants it in the filter (ISO 8601 with offset). */
  startDate: string;
  page: number;
}

export interface VolumesWindow {
  /** Inclusive first and last day, Y-m-d. */
  start: string;
  end: string;
}

export type UnitParams =
  | { kind: "merchants-pages"; startDate: string }
  | { kind: "processors" }
  | { kind: "residual-summary"; year: number; month: number }
  | { kind: "residual-rows"; processorId: number; year: number; month: number; summaryModified: string | null }
  | { kind: "volumes-plan"; window: VolumesWindow }
  | { kind: "volumes-chunk"; window: VolumesWindow; mids: string[] };

export interface UnitSpec {
  stream: SyncStream;
  kind: UnitKind;
  /** Unique within a run, so planning the same unit twice is a no-op. */
  key: string;
  params: UnitParams;
  /** The unit may start only once this stream of the same run has finished. */
  afterStream?: SyncStream;
}

export interface RunRequest {
  streams: SyncStream[];
  mode: SyncMode;
  /** A residual period: a year alone means every month of that year (up to the last complete month). */
  year?: number;
  month?: number;
}

export interface PlanSettings {
  residualWindowMonths: number;
  residualFirstMonth: string;
  merchantLagMinutes: number;
  volumeWindowDays: number;
  /** Days the incremental volumes window reaches back before the last completed window's end. */
  volumeOverlapDays: number;
}

export interface StoredCursors {
  /** Greatest `modified` of the merchants synced so far (ISO 8601). */
  merchants: string | null;
  /** End day (Y-m-d) of the last volumes window that completed. */
  volumes: string | null;
}

export interface RunPlan {
  units: UnitSpec[];
  cursorsBefore: Partial<Record<SyncStream, string | null>>;
  /** What the run decided up front, kept on the run for anyone reading it later. */
  params: {
    mode: SyncMode;
    merchantsFrom?: string;
    residualMonths?: string[];
    volumesWindow?: VolumesWindow;
  };
}

/** The filter value that means "from the beginning": IRIS needs a start date for a date_filter. */
export const MERCHANTS_EPOCH = "1970-01-01T00:00:00+00:00";

export function monthLabel({ year, month }: YearMonth): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}`;
}

function monthIndex({ year, month }: YearMonth): number {
  return year * 12 + (month - 1);
}

function fromMonthIndex(index: number): YearMonth {
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

export function parseMonthLabel(label: string): YearMonth {
  const m = /^(\d{4})-(\d{2})$/.exec(label);
  if (!m) throw new RangeError(`bad month ${JSON.stringify(label)}`);
  const month = Number(m[2]);
  if (month < 1 || month > 12) throw new RangeError(`bad month ${JSON.stringify(label)}`);
  return { year: Number(m[1]), month };
}

/**
 * The residual months a run reads, oldest first. Reports are published after a month ends, so windows end with
 * the last complete month (by UTC): incremental is the last `windowMonths` of them, full goes back to
 * `firstMonth`. An explicit year (and month) overrides both.
 */
export function residualMonths(input: {
  mode: SyncMode;
  now: Date;
  windowMonths: number;
  firstMonth: string;
  year?: number;
  month?: number;
}): YearMonth[] {
  const lastComplete = monthIndex({ year: input.now.getUTCFullYear(), month: input.now.getUTCMonth() + 1 }) - 1;
  if (input.year !== undefined && input.month !== undefined) return [{ year: input.year, month: input.month }];
  let from: number;
  let to = lastComplete;
  if (input.year !== undefined) {
    from = monthIndex({ year: input.year, month: 1 });
    to = Math.min(lastComplete, monthIndex({ year: input.year, month: 12 }));
  } else if (input.mode === "full") {
    from = monthIndex(parseMonthLabel(input.firstMonth));
  } else {
    from = lastComplete - input.windowMonths + 1;
  }
  const months: YearMonth[] = [];
  for (let i = from; i <= to; i++) months.push(fromMonthIndex(i));
  return months;
}

/**
 * Where the merchants stream starts. Incremental reads from the stored cursor minus a lag, because IRIS may
 * commit a change with a `modified` a little older than rows we have already seen; full reads everything.
 */
export function merchantsStartDate(input: { mode: SyncMode; cursor: string | null; lagMinutes: number }): string {
  if (input.mode === "full" || input.cursor === null) return MERCHANTS_EPOCH;
  const cursor = parseIrisDateTime(input.cursor);
  if (cursor === null) return MERCHANTS_EPOCH;
  const start = new Date(Math.max(0, cursor.getTime() - input.lagMinutes * 60_000));
  return formatIrisDateTime(start);
}

/**
 * The keyset step after one page of merchants sorted by `modified` ascending. Restarting from the page's greatest
 * `modified` (inclusive) instead of asking for page + 1 stays correct while merchants change during the sync: a
 * changed merchant moves to the end of the order, which would shift later pages under a plain page counter. Only
 * when a whole page shares one `modified` does the page number advance. Rows at the boundary are read twice;
 * the upsert makes that harmless.
 */
export function nextMerchantsPosition(
  position: MerchantsPosition,
  page: { maxModified: Date | null; currentPage: number; lastPage: number; rows: number },
): { done: true } | { done: false; next: MerchantsPosition } {
  if (page.rows === 0 || page.currentPage >= page.lastPage) return { done: true };
  const start = parseIrisDateTime(position.startDate);
  const maxSecond = page.maxModified === null ? null : Math.floor(page.maxModified.getTime() / 1000) * 1000;
  if (maxSecond !== null && (start === null || maxSecond > start.getTime())) {
    return { done: false, next: { startDate: formatIrisDateTime(new Date(maxSecond)), page: 1 } };
  }
  return { done: false, next: { startDate: position.startDate, page: position.page + 1 } };
}

function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return formatIrisDay(date);
}

/**
 * The batch days a volumes run covers. Its end is today (UTC): batches settle at the end of IRIS's local day, and
 * whatever IRIS's offset, its yesterday is never after our today. Incremental starts a little before the end of the
 * last completed window, so late-settling batches are picked up; full (or a first run) covers `windowDays`.
 */
export function volumesWindow(input: {
  mode: SyncMode;
  cursor: string | null;
  now: Date;
  windowDays: number;
  overlapDays: number;
}): VolumesWindow {
  const end = formatIrisDay(input.now);
  const fullStart = addDays(end, -input.windowDays);
  if (input.mode === "full" || input.cursor === null || !/^\d{4}-\d{2}-\d{2}$/.test(input.cursor)) {
    return { start: fullStart, end };
  }
  const start = addDays(input.cursor, -input.overlapDays);
  return { start: start > end ? addDays(end, -input.overlapDays) : start, end };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`bad chunk size ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Chunk size for volumes units: the configured size, grown when needed so the plan's follow-up messages fit in
 * the queue sends one invocation can still make.
 */
export function volumesChunkSize(mids: number, preferred: number, maxUnits: number): number {
  if (maxUnits < 1) throw new RangeError("no room for a single unit");
  return Math.max(preferred, Math.ceil(mids / maxUnits));
}

export function volumesChunkUnits(mids: readonly string[], window: VolumesWindow, size: number): UnitSpec[] {
  return chunk(mids, size).map((part, i) => ({
    stream: "volumes" as const,
    kind: "volumes-chunk" as const,
    key: `volumes-chunk:${window.start}:${window.end}:${i}`,
    params: { kind: "volumes-chunk" as const, window, mids: part },
  }));
}

export function residualRowsUnit(input: {
  processorId: number;
  year: number;
  month: number;
  summaryModified: string | null;
}): UnitSpec {
  return {
    stream: "residuals",
    kind: "residual-rows",
    key: `residual-rows:${input.processorId}:${monthLabel(input)}`,
    params: { kind: "residual-rows", ...input },
  };
}

/** The units a new run starts with, and the cursors it starts from. */
export function planRun(request: RunRequest, now: Date, cursors: StoredCursors, settings: PlanSettings): RunPlan {
  const units: UnitSpec[] = [];
  const plan: RunPlan = { units, cursorsBefore: {}, params: { mode: request.mode } };
  const wants = new Set(request.streams);

  if (wants.has("merchants")) {
    const startDate = merchantsStartDate({ mode: request.mode, cursor: cursors.merchants, lagMinutes: settings.merchantLagMinutes });
    plan.cursorsBefore.merchants = cursors.merchants;
    plan.params.merchantsFrom = startDate;
    units.push({ stream: "merchants", kind: "merchants-pages", key: "merchants-pages", params: { kind: "merchants-pages", startDate } });
  }
  if (wants.has("residuals")) {
    const months = residualMonths({
      mode: request.mode,
      now,
      windowMonths: settings.residualWindowMonths,
      firstMonth: settings.residualFirstMonth,
      ...(request.year === undefined ? {} : { year: request.year }),
      ...(request.month === undefined ? {} : { month: request.month }),
    });
    plan.cursorsBefore.residuals = null;
    plan.params.residualMonths = months.map(monthLabel);
    // Residual reports name processors by id; the names and data sources come from GET /processors.
    units.push({ stream: "residuals", kind: "processors", key: "processors", params: { kind: "processors" } });
    for (const ym of months) {
      units.push({
        stream: "residuals",
        kind: "residual-summary",
        key: `residual-summary:${monthLabel(ym)}`,
        params: { kind: "residual-summary", year: ym.year, month: ym.month },
      });
    }
  } else if (request.mode === "full" && wants.has("merchants")) {
    units.push({ stream: "merchants", kind: "processors", key: "processors", params: { kind: "processors" } });
  }
  if (wants.has("volumes")) {
    const window = volumesWindow({
      mode: request.mode,
      cursor: cursors.volumes,
      now,
      windowDays: settings.volumeWindowDays,
      overlapDays: settings.volumeOverlapDays,
    });
    plan.cursorsBefore.volumes = cursors.volumes;
    plan.params.volumesWindow = window;
    // Which merchants batch in the window is read from our merchants table, so in a run that also syncs
    // merchants the volumes plan waits for that stream: on a first sync the table is empty until then.
    units.push({
      stream: "volumes",
      kind: "volumes-plan",
      key: `volumes-plan:${window.start}:${window.end}`,
      params: { kind: "volumes-plan", window },
      ...(wants.has("merchants") ? { afterStream: "merchants" as const } : {}),
    });
  }
  return plan;
}
