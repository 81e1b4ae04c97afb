import { z } from "zod";
import { FreshnessSchema } from "../../read/freshness.ts";
import { format, mid, month, page, perPage, wholeNumber, year } from "../../read/params.ts";
import { Bps, Count, Money, PageShape } from "../../read/schemas.ts";

export const RESIDUALS_PER_PAGE_MAX = 500;
export const RESIDUALS_PER_PAGE_DEFAULT = 100;

const monthNeedsYear = (q: { year?: number | undefined; month?: number | undefined }, ctx: z.RefinementCtx) => {
  if (q.month !== undefined && q.year === undefined) ctx.addIssue({ code: "custom", path: ["month"], message: "month needs a year" });
};

export const ResidualListQuery = z
  .object({
    year: year.optional(),
    month: month.optional().describe("1 to 12; needs year"),
    processorId: wholeNumber(0, 2_147_483_647).optional().describe("IRIS processor id"),
    mid: mid.optional(),
    page: page.optional(),
    perPage: perPage(RESIDUALS_PER_PAGE_MAX, RESIDUALS_PER_PAGE_DEFAULT).optional(),
    format: format.optional(),
  })
  .strict()
  .superRefine(monthNeedsYear);

export const ResidualSummaryQuery = z
  .object({
    year: year.optional().describe("with month; both default to the newest month that has residual rows"),
    month: month.optional(),
    format: format.optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if ((q.year === undefined) !== (q.month === undefined)) {
      ctx.addIssue({ code: "custom", path: [q.year === undefined ? "year" : "month"], message: "give year and month together" });
    }
  });

export const ResidualRowSchema = z.object({
  year: z.int(),
  month: z.int().min(1).max(12),
  processorId: z.int(),
  processorName: z.string().nullable(),
  mid: z.string(),
  merchantName: z.string().nullable(),
  transactions: z.int().nullable(),
  volume: Money.nullable().describe("the row's sales amount"),
  income: Money.nullable(),
  expense: Money.nullable(),
  net: Money.nullable(),
  agentNet: Money.nullable(),
  bps: Bps.describe("the row's net ÷ volume × 10,000"),
  percentage: z.string().nullable().describe("IRIS's split percentage, as reported"),
});

export const ResidualListResponse = z.object({ data: z.array(ResidualRowSchema), ...PageShape, freshness: FreshnessSchema });

const totalsShape = {
  merchants: Count.describe("distinct merchants with rows"),
  transactions: Count,
  volume: Money,
  income: Money,
  expense: Money,
  net: Money,
  agentNet: Money,
  bps: Bps,
};

export const ProcessorTotalsSchema = z.object({ processorId: z.int(), processorName: z.string().nullable(), ...totalsShape });

export const ResidualSummaryResponse = z.object({
  year: z.int(),
  month: z.int().min(1).max(12),
  data: z.array(ProcessorTotalsSchema).describe("one entry per processor, summed from the merchant rows"),
  totals: z.object(totalsShape).describe("the month over all processors"),
  freshness: FreshnessSchema,
});
