// Residual reads: merchant rows as IRIS reported them, and per-processor totals summed from those rows.
import { type SQL, sql } from "drizzle-orm";
import { type ReadDb, bps, count, money, rows } from "./common.ts";

export interface ResidualListQuery {
  year?: number | undefined;
  month?: number | undefined;
  processorId?: number | undefined;
  mid?: string | undefined;
  page: number;
  perPage: number;
}

export interface ResidualListRow {
  year: number;
  month: number;
  processorId: number;
  processorName: string | null;
  mid: string;
  merchantName: string | null;
  transactions: number | null;
  volume: string | null;
  income: string | null;
  expense: string | null;
  net: string | null;
  agentNet: string | null;
  /** net ÷ volume × 10,000 of this row. */
  bps: string | null;
  /** IRIS's split percentage for the row, as reported. */
  percentage: string | null;
}

function residualFilter(q: ResidualListQuery): SQL {
  const conditions: SQL[] = [sql`true`];
  if (q.year !== undefined) conditions.push(sql`r.year = ${q.year}`);
  if (q.month !== undefined) conditions.push(sql`r.month = ${q.month}`);
  if (q.processorId !== undefined) conditions.push(sql`r.processor_id = ${q.processorId}`);
  if (q.mid !== undefined) conditions.push(sql`r.mid = ${q.mid}`);
  return sql.join(conditions, sql` and `);
}

// Processor names: the processors table once a residual report has named the id, else the report's own name.
const PROCESSOR_NAME = sql`coalesce(p.name, rs.processor_name)`;
const PROCESSOR_JOINS = sql`
  left join processors p on p.processor_id = r.processor_id
  left join residual_summaries rs on rs.processor_id = r.processor_id and rs.year = r.year and rs.month = r.month`;

/** Rows newest month first, then by processor and mid. */
export async function listResiduals(db: ReadDb, q: ResidualListQuery): Promise<{ rows: ResidualListRow[]; total: number }> {
  const where = residualFilter(q);
  const found = await rows<ResidualListRow & { total: string }>(
    db,
    sql`select r.year::int as year, r.month::int as month, r.processor_id as "processorId", ${PROCESSOR_NAME} as "processorName",
          r.mid, r.merchant_name as "merchantName", r.transactions,
          round(r.sales_amount, 2)::text as volume, round(r.income, 2)::text as income, round(r.expense, 2)::text as expense,
          round(r.net, 2)::text as net, round(r.agent_net, 2)::text as "agentNet",
          ${bps(sql`r.net`, sql`r.sales_amount`)} as bps, r.percentage::text as percentage,
          count(*) over () as total
        from residuals r ${PROCESSOR_JOINS}
        where ${where}
        order by r.year desc, r.month desc, r.processor_id asc, r.mid asc
        limit ${q.perPage} offset ${(q.page - 1) * q.perPage}`,
  );
  let total = Number(found[0]?.total ?? 0);
  if (found.length === 0 && q.page > 1) {
    const [counted] = await rows<{ total: number }>(db, sql`select count(*)::float8 as total from residuals r where ${where}`);
    total = counted?.total ?? 0;
  }
  return { rows: found.map(({ total: _t, ...row }) => row), total };
}

export interface ProcessorTotals {
  processorId: number;
  processorName: string | null;
  merchants: number;
  transactions: number;
  volume: string;
  income: string;
  expense: string;
  net: string;
  agentNet: string;
  bps: string | null;
}

export interface ResidualSummary {
  data: ProcessorTotals[];
  totals: Omit<ProcessorTotals, "processorId" | "processorName">;
}

/** Per-processor totals for one month, summed from the merchant rows, and the month's totals over all of them. */
export async function residualSummary(db: ReadDb, year: number, month: number): Promise<ResidualSummary> {
  const figures = (alias: string) => {
    const col = (c: string) => sql.raw(`${alias}.${c}`);
    return sql`count(distinct ${col("mid")})::float8 as merchants, ${count(sql`sum(${col("transactions")})`)} as transactions,
      ${money(sql`sum(${col("sales_amount")})`)} as volume, ${money(sql`sum(${col("income")})`)} as income,
      ${money(sql`sum(${col("expense")})`)} as expense, ${money(sql`sum(${col("net")})`)} as net,
      ${money(sql`sum(${col("agent_net")})`)} as "agentNet", ${bps(sql`sum(${col("net")})`, sql`sum(${col("sales_amount")})`)} as bps`;
  };
  const data = await rows<ProcessorTotals>(
    db,
    sql`select r.processor_id as "processorId", max(${PROCESSOR_NAME}) as "processorName", ${figures("r")}
        from residuals r ${PROCESSOR_JOINS}
        where r.year = ${year} and r.month = ${month}
        group by r.processor_id
        order by r.processor_id`,
  );
  const [totals] = await rows<ResidualSummary["totals"]>(
    db,
    sql`select ${figures("r")} from residuals r where r.year = ${year} and r.month = ${month}`,
  );
  return { data, totals: totals as ResidualSummary["totals"] };
}

/** The newest month that has residual rows. */
export async function latestResidualMonth(db: ReadDb): Promise<{ year: number; month: number } | undefined> {
  const [row] = await rows<{ year: number; month: number }>(
    db,
    sql`select year::int as year, month::int as month from residuals order by year desc, month desc limit 1`,
  );
  return row;
}
