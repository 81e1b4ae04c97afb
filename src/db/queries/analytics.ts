// Portfolio analytics, all arithmetic in Postgres numeric: a month's figures against the month before and the
// same month a year before, the month-end projection, trends by month, quarter or year, and merchant rankings.
import { type SQL, sql } from "drizzle-orm";
import type { PeriodGranularity, ProjectionWindow } from "../../read/periods.ts";
import { GRANULARITY_MONTHS, firstDay, lastDay, monthAt, periodLabel } from "../../read/periods.ts";
import { type Change, FIGURES, type ReadDb, bps, bpsRaw, changeColumns, count, money, readChanges, rows } from "./common.ts";

export interface Figures {
  volume: string;
  transactions: number;
  income: string;
  expense: string;
  net: string;
  bps: string | null;
}

export interface MonthMerchants {
  /** Distinct merchants with residual rows in the month. */
  reporting: number;
  /** Merchants whose opened date falls in the month. */
  opened: number;
  /** Merchants whose closed date falls in the month. */
  closed: number;
}

export interface MonthSummary {
  figures: Figures;
  merchants: MonthMerchants;
}

export interface ComparedMonth extends MonthSummary {
  change: Record<string, Change>;
}

export interface PortfolioSummary {
  current: MonthSummary;
  previousMonth: ComparedMonth;
  previousYear: ComparedMonth;
  /** Every merchant known now, whatever its status. */
  merchantsTotal: number;
}

const CHANGE_FIGURES = [...FIGURES, "merchants"] as const;

function figuresOf(row: Record<string, unknown>, prefix: string): MonthSummary {
  const v = (name: string) => row[`${prefix}_${name}`];
  return {
    figures: {
      volume: v("volume") as string,
      transactions: v("transactions") as number,
      income: v("income") as string,
      expense: v("expense") as string,
      net: v("net") as string,
      bps: v("bps") as string | null,
    },
    merchants: { reporting: v("merchants") as number, opened: v("opened") as number, closed: v("closed") as number },
  };
}

function formatted(alias: string): SQL {
  const col = (name: string) => sql.raw(`${alias}.${name}`);
  const as = (name: string) => sql.identifier(`${alias}_${name}`);
  return sql`${money(col("volume"))} as ${as("volume")}, ${count(col("transactions"))} as ${as("transactions")},
    ${money(col("income"))} as ${as("income")}, ${money(col("expense"))} as ${as("expense")},
    ${money(col("net"))} as ${as("net")}, ${bps(col("net"), col("volume"))} as ${as("bps")},
    ${count(col("merchants"))} as ${as("merchants")}, ${count(col("opened"))} as ${as("opened")}, ${count(col("closed"))} as ${as("closed")}`;
}

/** Figures of month index `k` (year × 12 + month − 1), of k − 1 and of k − 12, with the changes between them. */
export async function portfolioSummary(db: ReadDb, k: number): Promise<PortfolioSummary> {
  const field = (alias: string) => (f: string) => sql.raw(`${alias}.${f}`);
  const [row] = await rows<Record<string, unknown>>(
    db,
    sql`with months(label, k) as (values ('c', ${k}::int), ('p', ${k - 1}::int), ('y', ${k - 12}::int)),
        agg as (
          select m.label, coalesce(sum(r.sales_amount), 0) as volume, coalesce(sum(r.transactions), 0) as transactions,
            coalesce(sum(r.income), 0) as income, coalesce(sum(r.expense), 0) as expense, coalesce(sum(r.net), 0) as net,
            count(distinct r.mid) as merchants
          from months m left join residuals r on r.year = m.k / 12 and r.month = m.k % 12 + 1
          group by m.label
        ),
        f as (
          select a.*, ${bpsRaw(sql`a.net`, sql`a.volume`)} as bps,
            (select count(*) from merchants x
              where x.opened >= make_date(m.k / 12, m.k % 12 + 1, 1) and x.opened < make_date(m.k / 12, m.k % 12 + 1, 1) + interval '1 month') as opened,
            (select count(*) from merchants x
              where x.closed >= make_date(m.k / 12, m.k % 12 + 1, 1) and x.closed < make_date(m.k / 12, m.k % 12 + 1, 1) + interval '1 month') as closed
          from agg a join months m on m.label = a.label
        )
        select ${formatted("c")}, ${formatted("p")}, ${formatted("y")},
          ${changeColumns("mom", CHANGE_FIGURES, field("c"), field("p"))},
          ${changeColumns("yoy", CHANGE_FIGURES, field("c"), field("y"))},
          (select count(*) from merchants)::float8 as merchants_total
        from f c, f p, f y
        where c.label = 'c' and p.label = 'p' and y.label = 'y'`,
  );
  if (!row) throw new Error("portfolio summary returned no row");
  return {
    current: figuresOf(row, "c"),
    previousMonth: { ...figuresOf(row, "p"), change: readChanges(row, "mom", CHANGE_FIGURES) },
    previousYear: { ...figuresOf(row, "y"), change: readChanges(row, "yoy", CHANGE_FIGURES) },
    merchantsTotal: row.merchants_total as number,
  };
}

export interface Projection {
  through: string;
  daysElapsed: number;
  daysInMonth: number;
  monthToDate: { volume: string; transactions: number };
  dailyAverage: { volume: string };
  projected: { volume: string; transactions: number; net: string | null };
  /** The month whose BPS turns projected volume into projected net: the newest one before this with residuals. */
  netBasis: { period: string; bps: string | null } | null;
}

/**
 * Month-end projection from the month's batches. Let V and T be the batch volume and transaction count from the
 * 1st through yesterday (d complete days) and D the days in the month: projected volume = V × D ÷ d, projected
 * transactions = T × D ÷ d rounded to a whole number, projected net = projected volume × B ÷ 10,000 where B is
 * the portfolio BPS (net ÷ volume × 10,000, unrounded) of the newest earlier month that has residual rows.
 */
export async function monthEndProjection(db: ReadDb, k: number, window: ProjectionWindow): Promise<Projection> {
  const start = firstDay(monthAt(k));
  const { year, month } = monthAt(k);
  const d = sql`${window.daysElapsed}::int`;
  const D = sql`${window.daysInMonth}::int`;
  const [row] = await rows<{
    mtd_volume: string;
    mtd_transactions: number;
    daily_volume: string;
    projected_volume: string;
    projected_transactions: number;
    projected_net: string | null;
    basis_year: number | null;
    basis_month: number | null;
    basis_bps: string | null;
  }>(
    db,
    sql`with mtd as (
          select coalesce(sum(b.amount), 0) as v, coalesce(sum(b.count), 0)::numeric as t
          from merchant_batches b
          where b.batch_date between ${start}::date and ${window.through}::date
        ),
        basis_month as (
          select year, month from residuals where (year, month) < (${year}::int, ${month}::int)
          order by year desc, month desc limit 1
        ),
        basis as (
          select bm.year, bm.month, sum(r.net) as net, sum(r.sales_amount) as volume
          from basis_month bm join residuals r on r.year = bm.year and r.month = bm.month
          group by bm.year, bm.month
        )
        select ${money(sql`mtd.v`)} as mtd_volume, ${count(sql`mtd.t`)} as mtd_transactions,
          round(mtd.v / ${d}, 2)::text as daily_volume,
          round(mtd.v * ${D} / ${d}, 2)::text as projected_volume,
          round(mtd.t * ${D} / ${d})::float8 as projected_transactions,
          round(mtd.v * ${D} * basis.net / (${d} * nullif(basis.volume, 0)), 2)::text as projected_net,
          basis.year::int as basis_year, basis.month::int as basis_month,
          ${bps(sql`basis.net`, sql`basis.volume`)} as basis_bps
        from mtd left join basis on true`,
  );
  if (!row) throw new Error("projection returned no row");
  return {
    through: window.through,
    daysElapsed: window.daysElapsed,
    daysInMonth: window.daysInMonth,
    monthToDate: { volume: row.mtd_volume, transactions: row.mtd_transactions },
    dailyAverage: { volume: row.daily_volume },
    projected: { volume: row.projected_volume, transactions: row.projected_transactions, net: row.projected_net },
    netBasis:
      row.basis_year === null || row.basis_month === null
        ? null
        : { period: `${row.basis_year}-${String(row.basis_month).padStart(2, "0")}`, bps: row.basis_bps },
  };
}

export interface TrendPoint extends Figures {
  period: string;
  start: string;
  end: string;
  merchants: MonthMerchants;
}

/**
 * Figures per period from month index `from` to `to`, both already aligned to the granularity (from at a period's
 * first month, to at a period's last). Every period is present; `merchants.reporting` counts distinct merchants
 * over the whole period.
 */
export async function portfolioTrend(db: ReadDb, range: { from: number; to: number; granularity: PeriodGranularity }): Promise<TrendPoint[]> {
  const size = GRANULARITY_MONTHS[range.granularity];
  const p = sql`${size}::int`;
  const from = monthAt(range.from);
  const to = monthAt(range.to);
  const dateIndex = (col: string) => sql`((extract(year from ${sql.raw(col)})::int * 12 + extract(month from ${sql.raw(col)})::int - 1) / ${p})`;
  const found = await rows<Record<string, unknown> & { i: number }>(
    db,
    sql`with periods as (select i from generate_series(${Math.floor(range.from / size)}::int, ${Math.floor(range.to / size)}::int) as i),
        agg as (
          select (r.year * 12 + r.month - 1) / ${p} as i, sum(r.sales_amount) as volume, sum(r.transactions) as transactions,
            sum(r.income) as income, sum(r.expense) as expense, sum(r.net) as net, count(distinct r.mid) as merchants
          from residuals r
          where (r.year, r.month) between (${from.year}::int, ${from.month}::int) and (${to.year}::int, ${to.month}::int)
          group by 1
        ),
        opened as (
          select ${dateIndex("opened")} as i, count(*) as n from merchants
          where opened >= ${firstDay(from)}::date and opened < ${firstDay(from)}::date + make_interval(months => ${range.to - range.from + 1}::int)
          group by 1
        ),
        closed as (
          select ${dateIndex("closed")} as i, count(*) as n from merchants
          where closed >= ${firstDay(from)}::date and closed < ${firstDay(from)}::date + make_interval(months => ${range.to - range.from + 1}::int)
          group by 1
        )
        select periods.i, ${money(sql`a.volume`)} as volume, ${count(sql`a.transactions`)} as transactions,
          ${money(sql`a.income`)} as income, ${money(sql`a.expense`)} as expense, ${money(sql`a.net`)} as net,
          ${bps(sql`a.net`, sql`a.volume`)} as bps,
          ${count(sql`a.merchants`)} as merchants, ${count(sql`o.n`)} as opened, ${count(sql`c.n`)} as closed
        from periods
        left join agg a on a.i = periods.i
        left join opened o on o.i = periods.i
        left join closed c on c.i = periods.i
        order by periods.i`,
  );
  return found.map((row) => {
    const startIndex = row.i * size;
    return {
      period: periodLabel(startIndex, range.granularity),
      start: firstDay(monthAt(startIndex)),
      end: lastDay(monthAt(startIndex + size - 1)),
      volume: row.volume as string,
      transactions: row.transactions as number,
      income: row.income as string,
      expense: row.expense as string,
      net: row.net as string,
      bps: row.bps as string | null,
      merchants: { reporting: row.merchants as number, opened: row.opened as number, closed: row.closed as number },
    };
  });
}

export const TOP_BY = ["volume", "net", "bps"] as const;
export type TopBy = (typeof TOP_BY)[number];

export interface TopMerchant {
  rank: number;
  mid: string;
  name: string | null;
  volume: string;
  transactions: number;
  net: string;
  bps: string | null;
}

/**
 * Merchants ranked by their month's volume, net or BPS (highest first; ties by mid), summed over processors.
 * `minVolume` drops merchants below that volume, which keeps tiny merchants from topping a BPS ranking.
 * Merchants without volume have no BPS and rank last by it.
 */
export async function topMerchants(
  db: ReadDb,
  q: { year: number; month: number; by: TopBy; limit: number; minVolume?: string | undefined },
): Promise<TopMerchant[]> {
  const metric: Record<TopBy, SQL> = {
    volume: sql`t.volume`,
    net: sql`t.net`,
    bps: bpsRaw(sql`t.net`, sql`t.volume`),
  };
  const order = sql`${metric[q.by]} desc nulls last, t.mid asc`;
  const minVolume = q.minVolume === undefined ? sql`` : sql`where t.volume >= ${q.minVolume}::numeric`;
  return rows<TopMerchant>(
    db,
    sql`with t as (
          select r.mid, sum(r.sales_amount) as volume, sum(r.net) as net, sum(r.transactions) as transactions,
            max(r.merchant_name) as reported_name
          from residuals r where r.year = ${q.year} and r.month = ${q.month}
          group by r.mid
        )
        select (row_number() over (order by ${order}))::int as rank, t.mid, coalesce(m.name, t.reported_name) as name,
          ${money(sql`t.volume`)} as volume, ${count(sql`t.transactions`)} as transactions, ${money(sql`t.net`)} as net,
          ${bps(sql`t.net`, sql`t.volume`)} as bps
        from t left join merchants m on m.mid = t.mid
        ${minVolume}
        order by ${order}
        limit ${q.limit}`,
  );
}
