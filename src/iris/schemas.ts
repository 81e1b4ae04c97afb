// zod schemas for the IRIS CRM payloads the sync reads (IRIS API spec 1.23.0).
// They are deliberately tolerant where IRIS is loose in practice: numbers as strings and strings as numbers,
// null or missing optional fields, extra fields (stripped from the output, never an error). They stay strict
// where the sync needs a value to be right: merchant numbers, processor ids, periods, pagination.
import { z } from "zod";
import { isDecimalLike } from "./mapping.ts";

// ---------------------------------------------------------------------------------------------------------------
// Building blocks.

/** An integer sent as a JSON number or a digit string ("12"); the output is a safe integer. */
export const intLike = z.union([
  z.int(),
  z.string().trim().regex(/^-?\d+$/, "expected an integer").transform(Number).pipe(z.int()),
]);

/** An amount: "91.57" on merchant and batch endpoints, 91.57 on residual endpoints. Converted by toMoney. */
export const decimalLike = z
  .union([z.number(), z.string().refine((s) => s.trim() === "" || isDecimalLike(s), "expected a decimal amount")])
  .nullish();

/** A merchant number: a string on merchant endpoints, an integer in residual rows. Converted by midToText. */
export const midLike = z.union([z.string().trim().min(1), z.int().nonnegative()]);

/** Free text that IRIS may also send as a number (SIC codes, terminal and reference numbers). */
const looseText = z.union([z.string(), z.number()]).nullish();
/** Dates are kept as sent; parseIrisDate / parseIrisDateTime turn unusable ones into null instead of failing a page. */
const dateText = z.string().nullish();
const idName = z.object({ id: intLike.nullish(), name: looseText }).nullish();

// The spec types meta.last_page as a string while the other counters are integers; both arrive in practice.
export const irisMetaSchema = z.object({
  current_page: intLike,
  last_page: intLike,
  from: intLike.nullish(),
  to: intLike.nullish(),
  per_page: intLike.nullish(),
  total: intLike.nullish(),
  path: z.string().nullish(),
});

export const irisLinksSchema = z.object({
  first: z.string().nullish(),
  last: z.string().nullish(),
  prev: z.string().nullish(),
  next: z.string().nullish(),
});

function irisPage<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), links: irisLinksSchema.nullish(), meta: irisMetaSchema });
}

// ---------------------------------------------------------------------------------------------------------------
// Merchants and processors.

/** BriefMerchantInfo, plus the lead ids the list endpoint adds. */
export const irisMerchantSchema = z.object({
  mid: midLike,
  name: looseText,
  opened: dateText,
  closed: dateText,
  created: dateText,
  modified: dateText,
  first_batch: dateText,
  last_batch: dateText,
  group: looseText,
  processor: looseText,
  datasource: looseText,
  sic_code: looseText,
  vim: looseText,
  deactivated: dateText,
  status: looseText,
  active: z.union([z.string(), z.boolean(), z.number()]).nullish(),
  leads: z.array(intLike).nullish(),
});

/** GET /merchants */
export const irisMerchantsPageSchema = irisPage(irisMerchantSchema);

/** GET /merchants/{mid}. account_information is processor-specific (and `[]` when PHP has nothing to say). */
export const irisMerchantDetailSchema = z.object({
  general: irisMerchantSchema,
  account_information: z.unknown().optional(),
  leads: z.array(intLike).nullish(),
});

/** GET /processors. The spec gives no processor id here; one is accepted if an instance sends it. */
export const irisProcessorSchema = z.object({
  id: intLike.nullish(),
  name: z.string().trim().min(1),
  datasources: z.array(z.object({ id: intLike.nullish(), name: looseText })).nullish(),
});
export const irisProcessorsSchema = z.object({ processors: z.array(irisProcessorSchema) });

// ---------------------------------------------------------------------------------------------------------------
// Residuals.

/** One processor's totals for a month (SummaryResponse). */
export const irisResidualSummarySchema = z.object({
  processor_id: intLike,
  name: looseText,
  created: dateText,
  modified: dateText,
  merchants_count: intLike.nullish(),
  sum_transactions: intLike.nullish(),
  sum_sales_amount: decimalLike,
  sum_income: decimalLike,
  sum_expense: decimalLike,
  sum_net: decimalLike,
  sum_bps: decimalLike,
  sum_agent_net: decimalLike,
});

/** GET /residuals/reports/summary/{year}/{month} */
export const irisResidualSummaryPageSchema = irisPage(irisResidualSummarySchema);

/** One merchant's residual for a processor-month (MerchantRow). The spec types bps as integer; it is not. */
export const irisResidualRowSchema = z.object({
  mid: midLike,
  merchant: looseText,
  transactions: intLike.nullish(),
  sales_amount: decimalLike,
  income: decimalLike,
  expense: decimalLike,
  net: decimalLike,
  bps: decimalLike,
  percentage: decimalLike,
  agent_net: decimalLike,
});

/** GET /residuals/reports/summary/rows/{processor_id}/{year}/{month} */
export const irisResidualRowsPageSchema = irisPage(irisResidualRowSchema);

// ---------------------------------------------------------------------------------------------------------------
// Batches.

/**
 * One settled batch (MonetaryBatch). Its nested `transactions[]` (card transactions with masked numbers) is
 * intentionally not part of the schema, so parsing strips it and no card data travels further.
 */
export const irisBatchSchema = z.object({
  date: z.string(),
  reference_number: looseText,
  amount: decimalLike,
  count: intLike.nullish(),
  terminal_number: looseText,
});

export const irisAdjustmentSchema = z.object({ date: dateText, type: looseText, amount: decimalLike });

/** GET /merchants/{mid}/transactions */
export const irisBatchesPageSchema = irisPage(irisBatchSchema).extend({
  adjustments: z.array(irisAdjustmentSchema).nullish(),
});

// ---------------------------------------------------------------------------------------------------------------
// Leads.

/** GET /leads/{id}. general.mid links the lead to its merchant (an integer in the spec). */
export const irisLeadDetailSchema = z.object({
  general: z.object({
    id: intLike,
    mid: z.union([z.string(), z.int()]).nullish(),
    name: looseText,
    group: idName,
    category: idName,
    status: idName,
    campaign: idName,
    source: idName,
    created: dateText,
    modified: dateText,
  }),
  details: z.array(z.unknown()).nullish(),
});

// ---------------------------------------------------------------------------------------------------------------
// Webhooks. IRIS signs nothing, so these shapes only say what to re-fetch; the data itself comes from the API.

/** Every delivery: `{ hook: { requestId, event }, data }`. requestId is the idempotency key. */
export const irisWebhookSchema = z.object({
  hook: z.object({
    requestId: intLike.pipe(z.int().nonnegative()),
    event: z.string().trim().min(1),
  }),
  data: z.unknown().optional(),
});

/** residuals.report.published (ReportPublished) */
export const irisReportPublishedDataSchema = z.object({
  reports: z.array(
    z.object({
      id: intLike.nullish(),
      month: intLike.pipe(z.int().min(1).max(12)),
      year: intLike,
      processor_id: intLike,
      processor_name: looseText,
      revision: intLike.nullish(),
      rows_count: intLike.nullish(),
      added_merchants_count: intLike.nullish(),
      deactivated_merchants_count: intLike.nullish(),
      sum_transactions: intLike.nullish(),
      sum_volume: decimalLike,
      sum_net: decimalLike,
      sum_agent_net: decimalLike,
      created: dateText,
    }),
  ),
});

/** residuals.lineitem.added (LineItemAdded); line items are an optional stream, so only the list is checked. */
export const irisLineItemAddedDataSchema = z.object({ line_items: z.array(z.unknown()) });

const webhookLead = z.object({ id: intLike, name: looseText });

/**
 * lead.* events (LeadCreatedEventInfo and siblings): `lead`, or `leads[]` when IRIS's "multiple at once" option is
 * on; lead.signature.* events put the lead under `signatures[].lead`.
 */
export const irisLeadEventDataSchema = z
  .object({
    lead: webhookLead.nullish(),
    leads: z.array(webhookLead).nullish(),
    signatures: z.array(z.object({ lead: webhookLead.nullish() })).nullish(),
  })
  .refine(
    (d) => d.lead != null || (d.leads?.length ?? 0) > 0 || (d.signatures ?? []).some((s) => s.lead != null),
    "a lead event names no lead",
  );

// The spec declares chargeback and retrieval list items as `type: array` with an object $ref, so both a case
// object and an array of case objects are accepted. card_number is not modelled and is stripped.
const disputeDetails = {
  id: looseText,
  merchant_id: looseText,
  dba: looseText,
  case_number: looseText,
  case_status: looseText,
  date: dateText,
  amount: decimalLike,
};
const chargebackCase = z.object({ chargeback: z.object(disputeDetails).nullish() });
const retrievalCase = z.object({ retrieval: z.object(disputeDetails).nullish() });

/** chargeback.added / chargeback.updated / chargeback.reminder */
export const irisChargebackEventDataSchema = z.object({
  chargebacks: z.array(z.union([chargebackCase, z.array(chargebackCase)])),
});

/** retrieval.added / retrieval.updated / retrieval.reminder */
export const irisRetrievalEventDataSchema = z.object({
  retrievals: z.array(z.union([retrievalCase, z.array(retrievalCase)])),
});

export type IrisWebhookData =
  | { kind: "residuals.report.published"; data: IrisReportPublishedData }
  | { kind: "residuals.lineitem.added"; data: z.output<typeof irisLineItemAddedDataSchema> }
  | { kind: "lead"; data: IrisLeadEventData }
  | { kind: "chargeback"; data: IrisChargebackEventData }
  | { kind: "retrieval"; data: IrisRetrievalEventData }
  | { kind: "subscription.test" }
  | { kind: "unhandled" };

export type IrisWebhookKind = IrisWebhookData["kind"];

/** Which of the shapes above an event name selects. */
export function webhookKind(event: string): IrisWebhookKind {
  if (event === "residuals.report.published" || event === "residuals.lineitem.added") return event;
  if (event === "subscription.test") return event;
  if (event.startsWith("lead.")) return "lead";
  if (event.startsWith("chargeback.")) return "chargeback";
  if (event.startsWith("retrieval.")) return "retrieval";
  return "unhandled";
}

/** Checks a delivery's `data` against the shape its event implies; events we do not act on always pass. */
export function parseWebhookData(
  event: string,
  data: unknown,
): { ok: true; value: IrisWebhookData } | { ok: false; error: string } {
  const kind = webhookKind(event);
  const check = <T>(schema: z.ZodType<T>, wrap: (value: T) => IrisWebhookData) => {
    const result = schema.safeParse(data);
    return result.success
      ? ({ ok: true, value: wrap(result.data) } as const)
      : ({ ok: false, error: z.prettifyError(result.error) } as const);
  };
  switch (kind) {
    case "residuals.report.published":
      return check(irisReportPublishedDataSchema, (d) => ({ kind, data: d }));
    case "residuals.lineitem.added":
      return check(irisLineItemAddedDataSchema, (d) => ({ kind, data: d }));
    case "lead":
      return check(irisLeadEventDataSchema, (d) => ({ kind, data: d }));
    case "chargeback":
      return check(irisChargebackEventDataSchema, (d) => ({ kind, data: d }));
    case "retrieval":
      return check(irisRetrievalEventDataSchema, (d) => ({ kind, data: d }));
    case "subscription.test":
      return { ok: true, value: { kind } };
    case "unhandled":
      return { ok: true, value: { kind } };
  }
}

export type IrisMeta = z.output<typeof irisMetaSchema>;
export type IrisMerchant = z.output<typeof irisMerchantSchema>;
export type IrisMerchantsPage = z.output<typeof irisMerchantsPageSchema>;
export type IrisMerchantDetail = z.output<typeof irisMerchantDetailSchema>;
export type IrisProcessor = z.output<typeof irisProcessorSchema>;
export type IrisProcessors = z.output<typeof irisProcessorsSchema>;
export type IrisResidualSummary = z.output<typeof irisResidualSummarySchema>;
export type IrisResidualSummaryPage = z.output<typeof irisResidualSummaryPageSchema>;
export type IrisResidualRow = z.output<typeof irisResidualRowSchema>;
export type IrisResidualRowsPage = z.output<typeof irisResidualRowsPageSchema>;
export type IrisBatch = z.output<typeof irisBatchSchema>;
export type IrisBatchesPage = z.output<typeof irisBatchesPageSchema>;
export type IrisLeadDetail = z.output<typeof irisLeadDetailSchema>;
export type IrisWebhook = z.output<typeof irisWebhookSchema>;
export type IrisReportPublishedData = z.output<typeof irisReportPublishedDataSchema>;
export type IrisLeadEventData = z.output<typeof irisLeadEventDataSchema>;
export type IrisChargebackEventData = z.output<typeof irisChargebackEventDataSchema>;
export type IrisRetrievalEventData = z.output<typeof irisRetrievalEventDataSchema>;
