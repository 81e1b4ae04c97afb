// Merchant reads: the filtered, sorted list with each merchant's figures in the latest residual month, one
// merchant's record, and monthly histories with month-over-month and year-over-year change.
import { type SQL, sql } from "drizzle-orm";
import {
  type Change,
  FIGURES,
  type ReadDb,
  bps,
  bpsRaw,
  changeColumns,
  count,
  isoDate,
  isoTimestamp,
  likeContains,
  money,
  readChanges,
  rows,
  textArray,
} from "./common.ts";

export const MERCHANT_SORTS = ["name", "mid", "modified", "opened", "volume", "net"] as const;
export type MerchantSort = (typeof MERCHANT_SORTS)[number];

export interface MerchantListQuery {
  status?: string | undefined;
  processor?: string | undefined;
  group?: string | undefined;
  q?: string | undefined;
  sort: MerchantSort;
  dir: "asc" | "desc";
  page: number;
  perPage: number;
}

export interface MerchantListRow {
  mid: string;
  name: string | null;
  status: string | null;
  active: boolean | null;
  processor: string | null;
  group: string | null;
  opened: string | null;
  closed: string | null;
  modified: string | null;
  /** Sums over the merchant's residual rows in the latest month; null when it has none that month. */
  volume: string | null;
  transactions: number | null;
  net: string | null;
}

export interface MerchantList {
  rows: MerchantListRow[];
  total: number;
  /** The newest month that has residual rows, which `volume` and `net` describe; null before any. */
  latestMonth: { year: number; month: number } | null;
}

function merchantFilter(q: Omit<MerchantListQuery, "sort" | "dir" | "page" | "perPage">): SQL {
  const conditions: SQL[] = [sql`true`];
  if (q.status !== undefined) conditions.push(sql`lower(m.status) = lower(${q.status})`);
  if (q.processor !== undefined) conditions.push(sql`lower(m.processor) = lower(${q.processor})`);
  if (q.group !== undefined) conditions.push(sql`lower(m.group_name) = lower(${q.group})`);
  if (q.q !== undefined) {
    const pattern = likeContains(q.q);
    conditions.push(sql`(lower(m.name) like ${pattern} escape '\\' or lower(m.mid) like ${pattern} escape '\\')`);
  }
  return sql.join(conditions, sql` and `);
}

const SORT_COLUMNS: Record<MerchantSort, SQL> = {
  name: sql`lower(m.name)`,
  mid: sql`m.mid`,
  modified: sql`m.modified`,
  opened: sql`m.opened`,
  volume: sql`t.volume`,
  net: sql`t.net`,
};

/** Sort order: the chosen column (missing values last either way), then mid, so pages never overlap. */
export function merchantOrder(sort: MerchantSort, dir: "asc" | "desc"): SQL {
  const direction = dir === "desc" ? sql`desc` : sql`asc`;
  const primary = sql`${SORT_COLUMNS[sort]} ${direction} nulls last`;
  return sort === "mid" ? primary : sql`${primary}, m.mid asc`;
}

const LATEST_TOTALS = sql`
  latest as (select year, month from residuals order by year desc, month desc limit 1),
  totals as (
    select r.mid, sum(r.sales_amount) as volume, sum(r.net) as net, sum(r.transactions) as transactions
    from residuals r join latest l on r.year = l.year and r.month = l.month
    group by r.mid
  )`;

export async function listMerchants(db: ReadDb, q: MerchantListQuery): Promise<MerchantList> {
  const where = merchantFilter(q);
  const found = await rows<MerchantListRow & { total: string; latest_year: number | null; latest_month: number | null }>(
    db,
    sql`with ${LATEST_TOTALS}
        select m.mid, m.name, m.status, m.active, m.processor, m.group_name as "group",
          ${isoDate(sql`m.opened`)} as opened, ${isoDate(sql`m.closed`)} as closed,
          ${isoTimestamp(sql`m.modified`)} as modified,
          round(t.volume, 2)::text as volume, t.transactions::float8 as transactions, round(t.net, 2)::text as net,
          count(*) over () as total,
          (select year from latest)::int as latest_year, (select month from latest)::int as latest_month
        from merchants m left join totals t on t.mid = m.mid
        where ${where}
        order by ${merchantOrder(q.sort, q.dir)}
        limit ${q.perPage} offset ${(q.page - 1) * q.perPage}`,
  );
  let total: number;
  let latestMonth: MerchantList["latestMonth"];
  const first = found[0];
  if (first) {
    total = Number(first.total);
    latestMonth = first.latest_year === null || first.latest_month === null ? null : { year: first.latest_year, month: first.latest_month };
  } else {
    // A page past the end has no rows to carry the count, so it is asked for on its own.
    const [counted] = await rows<{ total: number; latest_year: number | null; latest_month: number | null }>(
      db,
      sql`with latest as (select year, month from residuals order by year desc, month desc limit 1)
          select (select count(*) from merchants m where ${where})::float8 as total,
            (select year from latest)::int as latest_year, (select month from latest)::int as latest_month`,
    );
    total = counted?.total ?? 0;
    latestMonth =
      counted && counted.latest_year !== null && counted.latest_month !== null ? { year: counted.latest_year, month: counted.latest_month } : null;
  }
  return {
    rows: found.map(({ total: _t, latest_year: _y, latest_month: _m, ...row }) => row),
    total,
    latestMonth,
  };
}

export interface MerchantDetail {
  mid: string;
  name: string | null;
  status: string | null;
  active: boolean | null;
  processor: string | null;
  group: string | null;
  datasource: string | null;
  sicCode: string | null;
  vim: string | null;
  opened: string | null;
  closed: string | null;
  firstBatch: string | null;
  lastBatch: string | null;
  deactivated: string | null;
  created: string | null;
  modified: string | null;
  leadIds: string[];
  syncedAt: string;
}

export async function getMerchant(db: ReadDb, mid: string): Promise<MerchantDetail | undefined> {
  const [row] = await rows<MerchantDetail>(
    db,
    sql`select mid, name, status, active, processor, group_name as "group", datasource, sic_code as "sicCode", vim,
          ${isoDate(sql`opened`)} as opened, ${isoDate(sql`closed`)} as closed,
          ${isoDate(sql`first_batch`)} as "firstBatch", ${isoDate(sql`last_batch`)} as "lastBatch",
          ${isoDate(sql`deactivated`)} as deactivated,
          ${isoTimestamp(sql`created`)} as created, ${isoTimestamp(sql`modified`)} as modified,
          lead_ids as "leadIds", ${isoTimestamp(sql`synced_at`)} as "syncedAt"
        from merchants where mid = ${mid}`,
  );
  return row;
}

/** Which of `mids` exist, with their names. */
export async function merchantNames(db: ReadDb, mids: readonly string[]): Promise<Map<string, string | null>> {
  const found = await rows<{ mid: string; name: string | null }>(db, sql`select mid, name from merchants where mid = any(${textArray(mids)})`);
  return new Map(found.map((r) => [r.mid, r.name]));
}

export interface MonthFigures {
  volume: string;
  transactions: number;
  income: string;
  expense: string;
  net: string;
  bps: string | null;
}

export interface HistoryMonth extends MonthFigures {
  month: string;
  change: { mom: Record<string, Change>; yoy: Record<string, Change> };
}

export const HISTORY_MONTHS = 24;

/**
 * Monthly figures per merchant, summed over processors, for up to 24 months ending at the newest month that has
 * residual rows (so a merchant that stopped reporting shows its empty months). The series starts at the first of
 * those months in which any of the merchants has rows; months without rows count as zero. Month-over-month
 * compares with the calendar month before, year-over-year with the same month a year before, both read from the
 * database even when they fall before the first month shown.
 */
export async function merchantHistories(db: ReadDb, mids: readonly string[]): Promise<Map<string, HistoryMonth[]>> {
  const raw = (f: string) => sql`l.${sql.identifier(f)}`;
  const lagged = (prefix: string) => (f: string) => sql`l.${sql.identifier(`${prefix}_${f}`)}`;
  const lags = (prefix: string, offset: number) =>
    sql.join(
      FIGURES.map((f) => sql`lag(f.${sql.identifier(f)}, ${sql.raw(String(offset))}) over w as ${sql.identifier(`${prefix}_${f}`)}`),
      sql`, `,
    );
  const found = await rows<Record<string, unknown> & { mid: string; k: number }>(
    db,
    sql`with latest as (select year * 12 + month - 1 as k from residuals order by year desc, month desc limit 1),
        monthly as (
          select r.mid, r.year * 12 + r.month - 1 as k, sum(r.sales_amount) as volume, sum(r.transactions) as transactions,
            sum(r.income) as income, sum(r.expense) as expense, sum(r.net) as net
          from residuals r cross join latest l
          where r.mid = any(${textArray(mids)}) and r.year * 12 + r.month - 1 between l.k - ${HISTORY_MONTHS + 11} and l.k
          group by r.mid, r.year, r.month
        ),
        bounds as (
          select greatest(min(m.k), l.k - ${HISTORY_MONTHS - 1}) as first_k, l.k as last_k
          from monthly m cross join latest l where m.k > l.k - ${HISTORY_MONTHS} group by l.k
        ),
        grid as (
          select ids.mid, g.k
          from unnest(${textArray(mids)}) as ids(mid) cross join bounds b
          cross join lateral generate_series(b.first_k - 12, b.last_k) as g(k)
        ),
        filled as (
          select g.mid, g.k, coalesce(m.volume, 0) as volume, coalesce(m.transactions, 0) as transactions,
            coalesce(m.income, 0) as income, coalesce(m.expense, 0) as expense, coalesce(m.net, 0) as net,
            ${bpsRaw(sql`coalesce(m.net, 0)`, sql`coalesce(m.volume, 0)`)} as bps
          from grid g left join monthly m on m.mid = g.mid and m.k = g.k
        ),
        lagged as (
          select f.*, ${lags("p1", 1)}, ${lags("p12", 12)}
          from filled f window w as (partition by f.mid order by f.k)
        )
        select l.mid, l.k, ${money(sql`l.volume`)} as volume, ${count(sql`l.transactions`)} as transactions,
          ${money(sql`l.income`)} as income, ${money(sql`l.expense`)} as expense, ${money(sql`l.net`)} as net,
          ${bps(sql`l.net`, sql`l.volume`)} as bps,
          ${changeColumns("mom", FIGURES, raw, lagged("p1"))},
          ${changeColumns("yoy", FIGURES, raw, lagged("p12"))}
        from lagged l cross join bounds b
        where l.k >= b.first_k
        order by l.mid, l.k`,
  );
  const byMid = new Map<string, HistoryMonth[]>(mids.map((m) => [m, []]));
  for (const row of found) {
    const year = Math.floor(row.k / 12);
    const month = (row.k % 12) + 1;
    byMid.get(row.mid)?.push({
      month: `${year}-${String(month).padStart(2, "0")}`,
      volume: row.volume as string,
      transactions: row.transactions as number,
      income: row.income as string,
      expense: row.expense as string,
      net: row.net as string,
      bps: row.bps as string | null,
      change: { mom: readChanges(row, "mom", FIGURES), yoy: readChanges(row, "yoy", FIGURES) },
    });
  }
  return byMid;
}
