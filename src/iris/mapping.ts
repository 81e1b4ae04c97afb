// Pure conversions from IRIS payloads (as parsed by ./schemas.ts) to rows for src/db/schema.ts.
// Nothing here reads a clock, the network or the database, so every quirk can be pinned down by a unit test.
import type {
  NewMerchant,
  NewMerchantBatch,
  NewProcessor,
  NewResidual,
  NewResidualSummary,
} from "../db/schema.ts";
import type {
  IrisBatch,
  IrisChargebackEventData,
  IrisLeadDetail,
  IrisLeadEventData,
  IrisMerchant,
  IrisMerchantDetail,
  IrisProcessor,
  IrisReportPublishedData,
  IrisResidualRow,
  IrisResidualSummary,
  IrisRetrievalEventData,
} from "./schemas.ts";

export class IrisMappingError extends Error {
  override name = "IrisMappingError";
}

// ---------------------------------------------------------------------------------------------------------------
// Decimals. Amounts arrive as strings ("91.57", sometimes "1,234.50") or as JSON numbers. They are converted on
// their decimal digits, never through binary float arithmetic: a JSON number is first written in its shortest
// round-trip form (String(1.005) is "1.005", whereas (1.005).toFixed(2) is "1.00").

// Money columns are numeric(14,2); ratio columns numeric(12,4).
export const MONEY_PRECISION = 14;
export const MONEY_SCALE = 2;
export const RATIO_PRECISION = 12;
export const RATIO_SCALE = 4;

const PLAIN_DECIMAL = /^([+-])?(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?$/;
// US thousands separators, only when every group is exactly three digits.
const GROUPED_DECIMAL = /^([+-])?(\d{1,3}(?:,\d{3})+)(\.\d*)?$/;
// Beyond any real amount; also keeps "1e999999999" from building a gigabyte of zeros.
const MAX_EXPONENT = 400;

interface DecimalParts {
  negative: boolean;
  intDigits: string;
  fracDigits: string;
}

function decimalParts(value: string | number): DecimalParts {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new IrisMappingError(`not a finite number: ${value}`);
    text = String(value);
  } else if (typeof value === "string") {
    text = value.trim();
    const grouped = GROUPED_DECIMAL.exec(text);
    if (grouped) text = `${grouped[1] ?? ""}${grouped[2]!.replaceAll(",", "")}${grouped[3] ?? ""}`;
  } else {
    throw new IrisMappingError(`not a decimal: ${String(value)}`);
  }
  const match = PLAIN_DECIMAL.exec(text);
  if (!match) throw new IrisMappingError(`not a decimal: ${JSON.stringify(value)}`);
  const exponent = match[3] === undefined ? 0 : Number(match[3]);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) {
    throw new IrisMappingError(`exponent out of range: ${JSON.stringify(value)}`);
  }
  const [whole = "", fraction = ""] = match[2]!.split(".");
  const digits = whole + fraction;
  const point = whole.length + exponent;
  let intDigits: string;
  let fracDigits: string;
  if (point <= 0) {
    intDigits = "";
    fracDigits = "0".repeat(-point) + digits;
  } else if (point >= digits.length) {
    intDigits = digits + "0".repeat(point - digits.length);
    fracDigits = "";
  } else {
    intDigits = digits.slice(0, point);
    fracDigits = digits.slice(point);
  }
  return { negative: match[1] === "-", intDigits, fracDigits };
}

/** Adds one to a string of decimal digits. */
function incrementDigits(digits: string): string {
  const out = digits.split("");
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === "9") {
      out[i] = "0";
    } else {
      out[i] = String(Number(out[i]) + 1);
      return out.join("");
    }
  }
  return "1" + out.join("");
}

/** True when toDecimal would accept the value. */
export function isDecimalLike(value: unknown): value is string | number {
  if (typeof value !== "string" && typeof value !== "number") return false;
  try {
    decimalParts(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The exact decimal string of `value` rounded half away from zero to `scale` places ("-0.005" → "-0.01").
 * With `precision`, throws a RangeError when the result would overflow numeric(precision, scale).
 * Throws IrisMappingError on anything that is not a finite decimal.
 */
export function toDecimal(value: string | number, scale: number, precision?: number): string {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`bad scale ${scale}`);
  const { negative, intDigits, fracDigits } = decimalParts(value);
  const padded = fracDigits.padEnd(scale + 1, "0");
  let kept = intDigits + padded.slice(0, scale);
  if (padded[scale]! >= "5") kept = incrementDigits(kept || "0");
  kept = kept.padStart(scale + 1, "0");
  const intPart = kept.slice(0, kept.length - scale).replace(/^0+(?=\d)/, "");
  const fracPart = kept.slice(kept.length - scale);
  if (precision !== undefined && intPart !== "0" && intPart.length > precision - scale) {
    throw new RangeError(`${JSON.stringify(value)} does not fit numeric(${precision},${scale})`);
  }
  const isZero = /^0*$/.test(intPart + fracPart);
  const sign = negative && !isZero ? "-" : "";
  return scale > 0 ? `${sign}${intPart}.${fracPart}` : `${sign}${intPart}`;
}

/** An amount as numeric(14,2) text: exactly two decimals, rounded half away from zero. */
export function toMoney(value: string | number): string {
  return toDecimal(value, MONEY_SCALE, MONEY_PRECISION);
}

/** Like toMoney, but null, undefined and "" (IRIS's ways of saying "no value") become null. */
export function toMoneyOrNull(value: string | number | null | undefined): string | null {
  return isBlank(value) ? null : toMoney(value);
}

/** A basis-point or percentage value as numeric(12,4) text, null when absent. */
export function toRatioOrNull(value: string | number | null | undefined): string | null {
  return isBlank(value) ? null : toDecimal(value, RATIO_SCALE, RATIO_PRECISION);
}

function isBlank(value: unknown): value is null | undefined | "" {
  return value === null || value === undefined || (typeof value === "string" && value.trim() === "");
}

/** A count (transactions, merchants) as a safe integer; rejects fractions rather than rounding them away. */
export function toCountOrNull(value: string | number | null | undefined): number | null {
  if (isBlank(value)) return null;
  const { negative, intDigits, fracDigits } = decimalParts(value);
  if (/[1-9]/.test(fracDigits)) throw new IrisMappingError(`not a whole number: ${JSON.stringify(value)}`);
  const n = Number(intDigits || "0");
  if (!Number.isSafeInteger(n)) throw new IrisMappingError(`integer too large: ${JSON.stringify(value)}`);
  return negative && n !== 0 ? -n : n;
}

// ---------------------------------------------------------------------------------------------------------------
// Identifiers and text.

/**
 * A merchant number as text. IRIS sends it as a string on merchant endpoints and as an integer in residual rows;
 * an integer beyond 2^53 has already lost digits in JSON.parse, so it is refused rather than stored wrong.
 */
export function midToText(value: string | number): string {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) throw new IrisMappingError(`unusable merchant number: ${value}`);
    return String(value);
  }
  const text = typeof value === "string" ? value.trim() : "";
  if (text === "") throw new IrisMappingError("empty merchant number");
  return text;
}

function textOrNull(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  return text === "" ? null : text;
}

/** IRIS flags are "Yes"/"No"; anything unrecognised is unknown (null) rather than false. */
export function yesNoToBoolean(value: string | number | boolean | null | undefined): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === null || value === undefined) return null;
  const text = String(value).trim().toLowerCase();
  if (["yes", "y", "true", "1"].includes(text)) return true;
  if (["no", "n", "false", "0"].includes(text)) return false;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates.

function isValidDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * A merchant date ("01/21/2019") as "2019-01-21". Also takes "2019-01-21", the form IRIS accepts on writes.
 * Empty, malformed and impossible dates ("02/30/2024", PHP's "00/00/0000") become null.
 */
export function parseIrisDate(value: string | null | undefined): string | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  let year: number, month: number, day: number;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (us) [month, day, year] = [Number(us[1]), Number(us[2]), Number(us[3])];
  else if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else return null;
  return isValidDay(year, month, day) ? `${pad(year, 4)}-${pad(month)}-${pad(day)}` : null;
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An IRIS date-time ("2019-01-01T12:04:40+05:00") as a Date; null when empty or invalid.
 * A value without an offset is read as UTC, which is what IRIS documents its offset-less forms to be.
 */
export function parseIrisDateTime(value: string | null | undefined): Date | null {
  if (typeof value !== "string") return null;
  const m = ISO_DATE_TIME.exec(value.trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (!isValidDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || "0");
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  // setUTCFullYear rather than Date.UTC, which maps years 0-99 onto 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

function assertValidDate(date: Date): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError("invalid Date");
}

/**
 * A date-time filter value as IRIS wants it: "2024-05-01T00:00:00+00:00" (UTC, whole seconds, explicit offset).
 * Milliseconds are dropped, i.e. rounded down; the caller URL-encodes the "+".
 */
export function formatIrisDateTime(date: Date): string {
  assertValidDate(date);
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}+00:00`
  );
}

/** A day filter (Y-m-d, as /merchants/{mid}/transactions wants) for the UTC day of `date`. */
export function formatIrisDay(date: Date): string {
  assertValidDate(date);
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function assertPeriod(year: number, month: number): void {
  if (!Number.isInteger(year) || year < 1900 || year > 9999) throw new RangeError(`bad residual year ${year}`);
  if (!Number.isInteger(month) || month < 1 || month > 12) throw new RangeError(`bad residual month ${month}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Rows. synced_at is left to its database default; an upsert's update set must name it explicitly.

export function merchantToRow(item: IrisMerchant): NewMerchant {
  return {
    mid: midToText(item.mid),
    name: textOrNull(item.name),
    status: textOrNull(item.status),
    active: yesNoToBoolean(item.active),
    processor: textOrNull(item.processor),
    groupName: textOrNull(item.group),
    datasource: textOrNull(item.datasource),
    sicCode: textOrNull(item.sic_code),
    vim: textOrNull(item.vim),
    opened: parseIrisDate(item.opened),
    closed: parseIrisDate(item.closed),
    firstBatch: parseIrisDate(item.first_batch),
    lastBatch: parseIrisDate(item.last_batch),
    deactivated: parseIrisDate(item.deactivated),
    created: parseIrisDateTime(item.created),
    modified: parseIrisDateTime(item.modified),
    // Order kept: IRIS treats the first lead as the merchant's primary lead.
    leadIds: [...new Set((item.leads ?? []).map((id) => String(id)))],
  };
}

/** GET /merchants/{mid} nests the same fields under `general` and lists the leads beside it. */
export function merchantDetailToRow(detail: IrisMerchantDetail): NewMerchant {
  return merchantToRow({ ...detail.general, leads: detail.leads ?? detail.general.leads ?? null });
}

/**
 * GET /processors carries no id in the spec; when an instance does send one it is kept. Without one the key is
 * left out so that an upsert on name does not erase an id learnt from residual reports.
 */
export function processorToRow(item: IrisProcessor): NewProcessor {
  const row: NewProcessor = {
    name: item.name.trim(),
    datasources: (item.datasources ?? []).map((d) => ({ id: d.id ?? null, name: textOrNull(d.name) })),
  };
  if (item.id !== null && item.id !== undefined) row.processorId = item.id;
  return row;
}

/** The (name, id) pair a residual summary reveals, to complete the processors table; null without a name. */
export function processorIdFromSummary(item: IrisResidualSummary): { name: string; processorId: number } | null {
  const name = textOrNull(item.name);
  return name === null ? null : { name, processorId: item.processor_id };
}

export function residualSummaryToRow(
  processorId: number,
  year: number,
  month: number,
  item: IrisResidualSummary,
): NewResidualSummary {
  assertPeriod(year, month);
  if (item.processor_id !== processorId) {
    throw new IrisMappingError(`summary for processor ${item.processor_id} mapped as processor ${processorId}`);
  }
  return {
    processorId,
    year,
    month,
    processorName: textOrNull(item.name),
    merchantsCount: item.merchants_count ?? null,
    sumTransactions: item.sum_transactions ?? null,
    sumSalesAmount: toMoneyOrNull(item.sum_sales_amount),
    sumIncome: toMoneyOrNull(item.sum_income),
    sumExpense: toMoneyOrNull(item.sum_expense),
    sumNet: toMoneyOrNull(item.sum_net),
    sumBps: toRatioOrNull(item.sum_bps),
    sumAgentNet: toMoneyOrNull(item.sum_agent_net),
    modified: parseIrisDateTime(item.modified),
  };
}

export function residualRowToRow(processorId: number, year: number, month: number, row: IrisResidualRow): NewResidual {
  assertPeriod(year, month);
  return {
    mid: midToText(row.mid),
    processorId,
    year,
    month,
    merchantName: textOrNull(row.merchant),
    transactions: row.transactions ?? null,
    salesAmount: toMoneyOrNull(row.sales_amount),
    income: toMoneyOrNull(row.income),
    expense: toMoneyOrNull(row.expense),
    net: toMoneyOrNull(row.net),
    bps: toRatioOrNull(row.bps),
    percentage: toRatioOrNull(row.percentage),
    agentNet: toMoneyOrNull(row.agent_net),
  };
}

/**
 * One settled batch. Only the batch's own totals are picked: the nested card transactions (masked card numbers
 * under `cardholder`) are dropped whole, whatever else the payload carries.
 */
export function batchToRow(mid: string | number, batch: IrisBatch): NewMerchantBatch {
  const batchDate = parseIrisDate(batch.date);
  if (batchDate === null) throw new IrisMappingError(`batch without a usable date: ${JSON.stringify(batch.date)}`);
  return {
    mid: midToText(mid),
    batchDate,
    // Part of the key, so a missing reference is stored as "" rather than null.
    referenceNumber: textOrNull(batch.reference_number) ?? "",
    amount: toMoneyOrNull(batch.amount),
    count: batch.count ?? null,
    terminalNumber: textOrNull(batch.terminal_number),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Leads and webhooks.

/** The merchant a lead belongs to (lead detail `general.mid`), or null when it has none yet. */
export function leadMerchantMid(detail: IrisLeadDetail): string | null {
  const mid = detail.general.mid;
  if (mid === null || mid === undefined || mid === "" || mid === 0) return null;
  return midToText(mid);
}

/** Every lead id a lead.* event names, from `lead`, `leads[]` ("multiple at once") or `signatures[].lead`. */
export function leadIdsFromWebhook(data: IrisLeadEventData): number[] {
  const ids = [data.lead?.id, ...(data.leads ?? []).map((l) => l.id), ...(data.signatures ?? []).map((s) => s.lead?.id)];
  return [...new Set(ids.filter((id): id is number => typeof id === "number"))];
}

/** The processor-months a residuals.report.published event says were (re)published. */
export function residualPeriodsFromWebhook(
  data: IrisReportPublishedData,
): { processorId: number; year: number; month: number; revision: number | null }[] {
  const seen = new Map<string, { processorId: number; year: number; month: number; revision: number | null }>();
  for (const r of data.reports) {
    const key = `${r.processor_id}:${r.year}:${r.month}`;
    const revision = r.revision ?? null;
    const previous = seen.get(key);
    if (!previous || (revision ?? -1) > (previous.revision ?? -1)) {
      seen.set(key, { processorId: r.processor_id, year: r.year, month: r.month, revision });
    }
  }
  return [...seen.values()];
}

/** Merchant numbers named by a chargeback.* or retrieval.* event. */
export function disputeMidsFromWebhook(data: IrisChargebackEventData | IrisRetrievalEventData): string[] {
  const cases = "chargebacks" in data ? data.chargebacks.flat().map((c) => c.chargeback) : data.retrievals.flat().map((c) => c.retrieval);
  const mids: string[] = [];
  for (const c of cases) {
    const mid = c?.merchant_id;
    if (mid === null || mid === undefined || mid === "") continue;
    mids.push(midToText(mid));
  }
  return [...new Set(mids)];
}

// Keys that hold card numbers (full or masked) anywhere in an IRIS payload, compared without case or separators.
const CARD_KEYS = new Set(["cardholder", "cardnumber", "cardnum", "first6", "last4", "pan", "maskedpan"]);

/**
 * A deep copy of a payload without card-number fields, for storing raw webhook bodies: the project keeps no
 * cardholder data, and chargeback/retrieval events carry `card_number`.
 */
export function redactCardData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactCardData);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (CARD_KEYS.has(key.toLowerCase().replace(/[^a-z0-9]/g, ""))) continue;
      out[key] = redactCardData(inner);
    }
    return out;
  }
  return value;
}
