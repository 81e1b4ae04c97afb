// Processing volume series: by day from settled batches, by month from residual rows (sales amount and
// transactions). Every period in the range is present; a period without data shows zero.
import { type SQL, sql } from "drizzle-orm";
import { type ReadDb, count, money, rows } from "./common.ts";

export interface VolumePoint {
  period: string;
  volume: string;
  transactions: number;
}

export interface VolumeSeries {
  data: VolumePoint[];
  totals: { volume: string; transactions: number };
}

function series(found: Array<VolumePoint & { total_volume: string; total_transactions: number }>): VolumeSeries {
  const first = found[0];
  return {
    data: found.map(({ period, volume, transactions }) => ({ period, volume, transactions })),
    totals: { volume: first?.total_volume ?? "0.00", transactions: first?.total_transactions ?? 0 },
  };
}

/** Daily batch totals from `from` to `to` inclusive (YYYY-MM-DD), for one merchant or the whole portfolio. */
export async function dailyVolumes(db: ReadDb, range: { from: string; to: string; mid?: string | undefined }): Promise<VolumeSeries> {
  const byMid: SQL = range.mid === undefined ? sql`` : sql`and b.mid = ${range.mid}`;
  const found = await rows<VolumePoint & { total_volume: string; total_transactions: number }>(
    db,
    sql`with days as (
          select d::date as day from generate_series(${range.from}::date, ${range.to}::date, interval '1 day') as d
        ),
        sums as (
          select b.batch_date as day, sum(b.amount) as volume, sum(b.count) as transactions
          from merchant_batches b
          where b.batch_date between ${range.from}::date and ${range.to}::date ${byMid}
          group by b.batch_date
        )
        select to_char(days.day, 'YYYY-MM-DD') as period, ${money(sql`s.volume`)} as volume,
          ${count(sql`s.transactions`)} as transactions,
          ${money(sql`sum(s.volume) over ()`)} as total_volume, ${count(sql`sum(s.transactions) over ()`)} as total_transactions
        from days left join sums s on s.day = days.day
        order by days.day`,
  );
  return series(found);
}

/** Monthly residual totals for month indexes `from`..`to` inclusive (year × 12 + month − 1). */
export async function monthlyVolumes(db: ReadDb, range: { from: number; to: number; mid?: string | undefined }): Promise<VolumeSeries> {
  const byMid: SQL = range.mid === undefined ? sql`` : sql`and r.mid = ${range.mid}`;
  const found = await rows<VolumePoint & { total_volume: string; total_transactions: number }>(
    db,
    sql`with months as (select k from generate_series(${range.from}::int, ${range.to}::int) as k),
        sums as (
          select r.year * 12 + r.month - 1 as k, sum(r.sales_amount) as volume, sum(r.transactions) as transactions
          from residuals r
          where (r.year, r.month) between (${Math.floor(range.from / 12)}::int, ${(range.from % 12) + 1}::int)
            and (${Math.floor(range.to / 12)}::int, ${(range.to % 12) + 1}::int) ${byMid}
          group by r.year, r.month
        )
        select (months.k / 12)::text || '-' || lpad(((months.k % 12) + 1)::text, 2, '0') as period,
          ${money(sql`s.volume`)} as volume, ${count(sql`s.transactions`)} as transactions,
          ${money(sql`sum(s.volume) over ()`)} as total_volume, ${count(sql`sum(s.transactions) over ()`)} as total_transactions
        from months left join sums s on s.k = months.k
        order by months.k`,
  );
  return series(found);
}
