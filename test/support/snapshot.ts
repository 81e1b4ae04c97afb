// The database and the IRIS sandbox's dataset in one normalized, sorted form, so "the database equals IRIS" is one
// toEqual. Pure: used by the workerd tests (through drizzle) and the end-to-end tests (through pg) alike.

/** Rows of each table, as the SNAPSHOT_QUERIES below return them. */
export interface SnapshotRows {
  processors: Record<string, unknown>[];
  merchants: Record<string, unknown>[];
  summaries: Record<string, unknown>[];
  residuals: Record<string, unknown>[];
  batches: Record<string, unknown>[];
}

export const SNAPSHOT_QUERIES: Readonly<Record<keyof SnapshotRows, string>> = {
  processors: "select name, processor_id from processors",
  merchants: `select mid, name, processor, datasource, group_name, sic_code, vim, status, active, opened::text, closed::text,
      deactivated::text, first_batch::text, last_batch::text, created, modified, lead_ids
    from merchants`,
  summaries: `select processor_id, processor_name, year, month, merchants_count, sum_transactions::text,
      sum_sales_amount::text, sum_income::text, sum_expense::text, sum_net::text, sum_bps::text, sum_agent_net::text, modified
    from residual_summaries`,
  residuals: `select processor_id, year, month, mid, merchant_name, transactions, sales_amount::text, income::text,
      expense::text, net::text, bps::text, percentage::text, agent_net::text
    from residuals`,
  batches: "select mid, batch_date::text, reference_number, terminal_number, amount::text, count from merchant_batches",
};

export function snapshotFromRows(t: SnapshotRows): Snapshot {
  const yesNo = (v: unknown) => (v === true ? "Yes" : v === false ? "No" : null);
  const instant = (v: unknown) => (v === null ? null : new Date(v instanceof Date ? v : String(v)).toISOString());
  return sortSnapshot({
    processors: t.processors.map((p) => `${p.name}|${p.processor_id}`),
    merchants: t.merchants.map((m) =>
      [
        m.mid, m.name, m.processor, m.datasource, m.group_name, m.sic_code, m.vim, m.status, yesNo(m.active), m.opened,
        m.closed, m.deactivated, m.first_batch, m.last_batch, instant(m.created), instant(m.modified),
        (m.lead_ids as string[]).join(","),
      ].join("|"),
    ),
    summaries: t.summaries.map((s) =>
      [
        s.processor_id, s.processor_name, s.year, s.month, s.merchants_count, s.sum_transactions, dec(s.sum_sales_amount),
        dec(s.sum_income), dec(s.sum_expense), dec(s.sum_net), dec(s.sum_bps), dec(s.sum_agent_net), instant(s.modified),
      ].join("|"),
    ),
    residuals: t.residuals.map((r) =>
      [
        r.processor_id, r.year, r.month, r.mid, r.merchant_name, r.transactions, dec(r.sales_amount), dec(r.income),
        dec(r.expense), dec(r.net), dec(r.bps), dec(r.percentage), dec(r.agent_net),
      ].join("|"),
    ),
    batches: t.batches.map((b) => [b.mid, b.batch_date, b.reference_number, b.terminal_number, dec(b.amount), b.count].join("|")),
  });
}

export interface Snapshot {
  processors: string[];
  merchants: string[];
  summaries: string[];
  residuals: string[];
  batches: string[];
}

export interface Dataset {
  processors: { id: number; name: string }[];
  merchants: Record<string, unknown>[];
  residualSummaries: Record<string, unknown>[];
  residualRows: Record<string, unknown>[];
  batches: Record<string, unknown>[];
}

/** A decimal as text without insignificant zeros ("12.3400" and "12.34" and 12.34 all become "12.34"). */
export function dec(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`not a plain decimal: ${text}`);
  const [int, frac = ""] = text.split(".");
  const trimmed = frac.replace(/0+$/, "");
  const whole = int === "-0" ? "0" : int!;
  return trimmed ? `${whole}.${trimmed}` : whole;
}

/** IRIS sends date-times to the second: a dataset instant is compared at that precision. */
const toSecond = (iso: unknown) => new Date(Math.floor(Date.parse(String(iso)) / 1000) * 1000).toISOString();

export function expectedSnapshot(ds: Dataset): Snapshot {
  const withReports = new Set(ds.residualSummaries.map((s) => s.processorId));
  return sortSnapshot({
    // A processor's IRIS id is known once a residual report names it.
    processors: ds.processors.map((p) => `${p.name}|${withReports.has(p.id) ? p.id : null}`),
    merchants: ds.merchants.map((m) =>
      [
        m.mid, m.name, m.processor, m.datasource, m.group, m.sicCode, m.vim, m.status, m.active, m.opened, m.closed,
        m.deactivated, m.firstBatch, m.lastBatch, toSecond(m.created), toSecond(m.modified), (m.leads as number[]).join(","),
      ].join("|"),
    ),
    summaries: ds.residualSummaries.map((s) =>
      [
        s.processorId, s.processorName, s.year, s.month, s.merchantsCount, s.sumTransactions, dec(s.sumSalesAmount),
        dec(s.sumIncome), dec(s.sumExpense), dec(s.sumNet), dec(s.sumBps), dec(s.sumAgentNet), toSecond(s.modified),
      ].join("|"),
    ),
    residuals: ds.residualRows.map((r) =>
      [
        r.processorId, r.year, r.month, r.mid, r.merchant, r.transactions, dec(r.salesAmount), dec(r.income),
        dec(r.expense), dec(r.net), dec(r.bps), dec(r.percentage), dec(r.agentNet),
      ].join("|"),
    ),
    batches: ds.batches.map((b) => [b.mid, b.date, b.referenceNumber, b.terminalNumber, dec(b.amount), b.count].join("|")),
  });
}

function sortSnapshot(s: Snapshot): Snapshot {
  const sorted = (a: string[]) => [...a].sort();
  return {
    processors: sorted(s.processors),
    merchants: sorted(s.merchants),
    summaries: sorted(s.summaries),
    residuals: sorted(s.residuals),
    batches: sorted(s.batches),
  };
}

