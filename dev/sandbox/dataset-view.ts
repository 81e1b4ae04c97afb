// GET /_control/dataset: the instance's current data in one normalized form, for comparing with what the sync
// stored. Streamed as JSON text chunks because the "large" size has about a million residual rows.
//
// Shape (every part can be selected with ?parts=a,b; all by default):
// {
//   now: ISO instant (UTC, ms) of the generated data's "now"; today: YYYY-MM-DD in the instance's offset;
//   utcOffset: "-05:00"; seed; size: { merchants, processors, residualMonths, batchDays, batchMerchantShare };
//   batchWindow: { from, to } (YYYY-MM-DD) - the days for which generated batches can exist;
//   residualMonths: [{ year, month }];
//   processors:        [{ id, name, datasources: [{ id, name }] }],
//   merchants:         [{ mid, name, processorId, processor, datasource, group, sicCode, vim, status, active,
//                         opened, closed, deactivated, firstBatch, lastBatch (YYYY-MM-DD or null),
//                         created, modified (ISO instants, UTC), leads: [leadId] }],
//   leads:             [{ id, mid }],
//   residualSummaries: [{ reportId, processorId, processorName, year, month, revision, merchantsCount,
//                         sumTransactions, sumSalesAmount, sumIncome, sumExpense, sumNet, sumBps, sumAgentNet,
//                         created, modified }],
//   residualRows:      [{ processorId, year, month, mid, merchant, transactions, salesAmount, income, expense,
//                         net, bps, percentage, agentNet }],
//   batches:           [{ mid, date, referenceNumber, terminalNumber, amount, count }],
//   adjustments:       [{ mid, date, type, amount }]
// }
// Money and bps are two-decimal strings ("1234.50"); mids are strings; counts are numbers. sum* fields equal the
// plain sum of the month's rows (sumBps included).
// Filters: ?mid=<mid> limits merchants, leads, batches and adjustments to one merchant; ?year=&month= and
// ?processorId= limit the residual parts.

import { formatOffset, monthKey, monthOfKey, ymd } from "./calendar.ts";
import type { Dataset, Merchant, ResidualReport } from "./dataset.ts";
import { centsToString } from "./money.ts";

export const DATASET_PARTS = [
  "processors",
  "merchants",
  "leads",
  "residualSummaries",
  "residualRows",
  "batches",
  "adjustments",
] as const;
export type DatasetPart = (typeof DATASET_PARTS)[number];

export interface DatasetFilter {
  parts: DatasetPart[];
  mid?: string;
  month?: number;
  processorId?: number;
}

export function parseDatasetQuery(query: URLSearchParams): DatasetFilter {
  const partsRaw = query.get("parts");
  const parts = partsRaw
    ? partsRaw.split(",").map((p) => p.trim()).filter((p) => p !== "")
    : [...DATASET_PARTS];
  for (const p of parts) {
    if (!DATASET_PARTS.includes(p as DatasetPart)) throw new Error(`unknown dataset part "${p}" (${DATASET_PARTS.join(", ")})`);
  }
  const filter: DatasetFilter = { parts: parts as DatasetPart[] };
  const mid = query.get("mid");
  if (mid) filter.mid = mid;
  const year = query.get("year");
  const month = query.get("month");
  if (year || month) {
    if (!year || !month || !/^\d{4}$/.test(year) || !/^\d{1,2}$/.test(month)) throw new Error("year and month go together");
    filter.month = monthKey(Number(year), Number(month));
  }
  const pid = query.get("processorId");
  if (pid) filter.processorId = Number(pid);
  return filter;
}

const ymdOrNull = (day: number | null): string | null => (day === null ? null : ymd(day));

export function normalizedMerchant(ds: Dataset, m: Merchant): Record<string, unknown> {
  return {
    mid: m.mid,
    name: m.name,
    processorId: m.processorId,
    processor: ds.processorOf(m).name,
    datasource: m.datasource,
    group: m.group,
    sicCode: m.sicCode,
    vim: m.vim,
    status: m.status,
    active: m.active,
    opened: ymd(m.opened),
    closed: ymdOrNull(m.closed),
    deactivated: ymdOrNull(m.deactivated),
    firstBatch: ymdOrNull(m.firstBatch),
    lastBatch: ymdOrNull(m.lastBatch),
    created: new Date(m.created).toISOString(),
    modified: new Date(m.modified).toISOString(),
    leads: [...m.leads],
  };
}

export function normalizedSummary(ds: Dataset, r: ResidualReport): Record<string, unknown> {
  const s = ds.sumsOf(r);
  const { year, month } = monthOfKey(r.month);
  return {
    reportId: r.id,
    processorId: r.processorId,
    processorName: ds.processorById(r.processorId)!.name,
    year,
    month,
    revision: r.revision,
    merchantsCount: s.merchantsCount,
    sumTransactions: s.transactions,
    sumSalesAmount: centsToString(s.salesCents),
    sumIncome: centsToString(s.incomeCents),
    sumExpense: centsToString(s.expenseCents),
    sumNet: centsToString(s.netCents),
    sumBps: centsToString(s.bpsHundredths),
    sumAgentNet: centsToString(s.agentNetCents),
    created: new Date(r.created).toISOString(),
    modified: new Date(r.modified).toISOString(),
  };
}

function* normalizedRows(ds: Dataset, r: ResidualReport): Generator<Record<string, unknown>> {
  const { year, month } = monthOfKey(r.month);
  for (const row of ds.rowsOf(r)) {
    const m = ds.merchants[row.merchantIndex]!;
    yield {
      processorId: r.processorId,
      year,
      month,
      mid: m.mid,
      merchant: m.name,
      transactions: row.transactions,
      salesAmount: centsToString(row.salesCents),
      income: centsToString(row.incomeCents),
      expense: centsToString(row.expenseCents),
      net: centsToString(row.netCents),
      bps: centsToString(row.bpsHundredths),
      percentage: row.percentage,
      agentNet: centsToString(row.agentNetCents),
    };
  }
}

function* partItems(ds: Dataset, part: DatasetPart, f: DatasetFilter): Generator<unknown> {
  const merchants = f.mid !== undefined ? [ds.merchantByMid(f.mid)].filter((m): m is Merchant => m !== undefined) : ds.merchants;
  const reports = ds
    .allReports()
    .filter((r) => (f.month === undefined || r.month === f.month) && (f.processorId === undefined || r.processorId === f.processorId));
  switch (part) {
    case "processors":
      for (const p of ds.processors) yield { id: p.id, name: p.name, datasources: p.datasources.map((d) => ({ ...d })) };
      return;
    case "merchants":
      for (const m of merchants) yield normalizedMerchant(ds, m);
      return;
    case "leads":
      for (const m of merchants) for (const id of m.leads) yield { id, mid: m.mid };
      return;
    case "residualSummaries":
      for (const r of reports) yield normalizedSummary(ds, r);
      return;
    case "residualRows":
      for (const r of reports) yield* normalizedRows(ds, r);
      return;
    case "batches": {
      const source = f.mid !== undefined ? merchants.flatMap((m) => ds.batchesFor(m, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) : ds.allBatches();
      for (const b of source) {
        yield {
          mid: ds.merchants[b.merchantIndex]!.mid,
          date: ymd(b.day),
          referenceNumber: b.referenceNumber,
          terminalNumber: b.terminalNumber,
          amount: centsToString(b.amountCents),
          count: b.count,
        };
      }
      return;
    }
    case "adjustments": {
      const source = f.mid !== undefined ? merchants.flatMap((m) => ds.adjustmentsFor(m, m.batchFrom, m.batchTo)) : ds.allAdjustments();
      for (const a of source) yield { mid: ds.merchants[a.merchantIndex]!.mid, date: ymd(a.day), type: a.type, amount: centsToString(a.amountCents) };
      return;
    }
  }
}

/** The dataset as JSON text, in chunks of a few hundred records. */
export function* datasetJson(ds: Dataset, f: DatasetFilter): Generator<string> {
  const head = {
    now: new Date(ds.nowMs).toISOString(),
    today: ymd(ds.today),
    utcOffset: formatOffset(ds.offset),
    seed: ds.seed,
    size: ds.size,
    batchWindow: { from: ymd(ds.windowStart), to: ymd(ds.windowEnd) },
    residualMonths: ds.residualMonths.map((k) => monthOfKey(k)),
  };
  yield JSON.stringify(head).slice(0, -1);
  for (const part of f.parts) {
    yield `,${JSON.stringify(part)}:[`;
    let buffer: string[] = [];
    let first = true;
    for (const item of partItems(ds, part, f)) {
      buffer.push(JSON.stringify(item));
      if (buffer.length >= 500) {
        yield (first ? "" : ",") + buffer.join(",");
        first = false;
        buffer = [];
      }
    }
    if (buffer.length > 0) yield (first ? "" : ",") + buffer.join(",");
    yield "]";
  }
  yield "}";
}
