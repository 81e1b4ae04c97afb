import { z } from "zod";
import { MERCHANT_SORTS } from "../../db/queries/merchants.ts";
import { FreshnessSchema } from "../../read/freshness.ts";
import { format, mid, midList, page, perPage, sortDir, text } from "../../read/params.ts";
import { Count, FigureChangesSchema, FiguresShape, IsoDate, IsoDateTime, MonthLabel, Money, MonthSchema, PageShape } from "../../read/schemas.ts";

export const MERCHANTS_PER_PAGE_MAX = 500;
export const MERCHANTS_PER_PAGE_DEFAULT = 50;
export const COMPARE_MAX = 10;

export const MerchantListQuery = z
  .object({
    page: page.optional(),
    perPage: perPage(MERCHANTS_PER_PAGE_MAX, MERCHANTS_PER_PAGE_DEFAULT).optional(),
    status: text(64).optional().describe("merchant status, e.g. Open (case-insensitive)"),
    processor: text(128).optional().describe("processor name (case-insensitive)"),
    group: text(128).optional().describe("group name (case-insensitive)"),
    q: text(100).optional().describe("part of the name or of the mid (case-insensitive)"),
    sort: z.enum(MERCHANT_SORTS).optional().describe("sort column (default name); volume and net are the latest residual month's"),
    dir: sortDir.optional().describe("sort direction (default asc); rows without a value come last either way"),
    format: format.optional(),
  })
  .strict();

export const MidParam = z.object({ mid });

export const CompareQuery = z.object({ mids: midList(COMPARE_MAX), format: format.optional() }).strict();

export const MerchantListRowSchema = z.object({
  mid: z.string(),
  name: z.string().nullable(),
  status: z.string().nullable(),
  active: z.boolean().nullable(),
  processor: z.string().nullable(),
  group: z.string().nullable(),
  opened: IsoDate.nullable(),
  closed: IsoDate.nullable(),
  modified: IsoDateTime.nullable(),
  volume: Money.nullable().describe("sales volume in the latest residual month; null when the merchant has no row that month"),
  transactions: Count.nullable(),
  net: Money.nullable().describe("net in the latest residual month"),
});

export const MerchantListResponse = z.object({
  data: z.array(MerchantListRowSchema),
  ...PageShape,
  latestMonth: MonthSchema.nullable().describe("the residual month that volume and net describe"),
  freshness: FreshnessSchema,
});

export const HistoryMonthSchema = z.object({
  month: MonthLabel,
  ...FiguresShape,
  change: z.object({
    mom: FigureChangesSchema.describe("against the calendar month before"),
    yoy: FigureChangesSchema.describe("against the same month a year before"),
  }),
});

export const MerchantSchema = z.object({
  mid: z.string(),
  name: z.string().nullable(),
  status: z.string().nullable(),
  active: z.boolean().nullable(),
  processor: z.string().nullable(),
  group: z.string().nullable(),
  datasource: z.string().nullable(),
  sicCode: z.string().nullable(),
  vim: z.string().nullable(),
  opened: IsoDate.nullable(),
  closed: IsoDate.nullable(),
  firstBatch: IsoDate.nullable(),
  lastBatch: IsoDate.nullable(),
  deactivated: IsoDate.nullable(),
  created: IsoDateTime.nullable(),
  modified: IsoDateTime.nullable(),
  leadIds: z.array(z.string()),
  syncedAt: IsoDateTime,
});

export const DailyPointSchema = z.object({ period: IsoDate, volume: Money, transactions: Count });

export const MerchantDetailResponse = z.object({
  merchant: MerchantSchema,
  history: z
    .array(HistoryMonthSchema)
    .describe("monthly figures summed over processors, up to 24 months ending at the newest residual month; months without rows are zero"),
  daily: z.object({
    from: IsoDate,
    to: IsoDate,
    data: z.array(DailyPointSchema).describe("batch volume per day for the 30 days ending today (UTC), every day present"),
    totals: z.object({ volume: Money, transactions: Count }),
  }),
  freshness: FreshnessSchema,
});

export const CompareRowSchema = z.object({ mid: z.string(), name: z.string().nullable(), ...HistoryMonthSchema.shape });

export const CompareResponse = z.object({
  data: z.array(z.object({ mid: z.string(), name: z.string().nullable(), history: z.array(HistoryMonthSchema) })),
  freshness: FreshnessSchema,
});

