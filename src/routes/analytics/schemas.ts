import { z } from "zod";
import { TOP_BY } from "../../db/queries/analytics.ts";
import { FreshnessSchema } from "../../read/freshness.ts";
import { amount, format, month, periodBound, wholeNumber, year } from "../../read/params.ts";
import { Bps, ChangeSchema, Count, FiguresShape, IsoDate, MonthLabel, Money } from "../../read/schemas.ts";

export const TREND_MONTHS_MAX = 240;
export const TOP_LIMIT_MAX = 100;

const yearAndMonthTogether = (q: { year?: number | undefined; month?: number | undefined }, ctx: z.RefinementCtx) => {
  if ((q.year === undefined) !== (q.month === undefined)) {
    ctx.addIssue({ code: "custom", path: [q.year === undefined ? "year" : "month"], message: "give year and month together" });
  }
};

export const SummaryQuery = z
  .object({
    year: year.optional().describe("with month; both default to the current month (UTC)"),
    month: month.optional(),
  })
  .strict()
  .superRefine(yearAndMonthTogether);

export const TrendQuery = z
  .object({
    from: periodBound.optional().describe("first month (a day means its month), widened to the start of its period; default: 12 periods before `to`"),
    to: periodBound.optional().describe("last month, widened to the end of its period; default: the current month (UTC)"),
    granularity: z.enum(["month", "quarter", "year"]).optional().describe("default month"),
    format: format.optional(),
  })
  .strict();

export const TopMerchantsQuery = z
  .object({
    year: year.optional().describe("with month; both default to the newest month that has residual rows"),
    month: month.optional(),
    by: z.enum(TOP_BY).optional().describe("ranking figure, highest first (default volume)"),
    limit: wholeNumber(1, TOP_LIMIT_MAX).optional().describe(`merchants to return, 1 to ${TOP_LIMIT_MAX} (default 10)`),
    minVolume: amount.optional().describe("leave out merchants whose volume that month is below this"),
    format: format.optional(),
  })
  .strict()
  .superRefine(yearAndMonthTogether);

const MerchantCounts = z.object({
  reporting: Count.describe("distinct merchants with residual rows in the period"),
  opened: Count.describe("merchants whose opened date falls in the period"),
  closed: Count.describe("merchants whose closed date falls in the period"),
});

const Figures = z.object(FiguresShape);

const Changes = z.object({
  volume: ChangeSchema,
  transactions: ChangeSchema,
  income: ChangeSchema,
  expense: ChangeSchema,
  net: ChangeSchema,
  bps: ChangeSchema,
  merchants: ChangeSchema.describe("change in reporting merchants"),
});

const Compared = z.object({
  period: MonthLabel,
  figures: Figures,
  merchants: MerchantCounts,
  change: Changes.describe("the summary's month against this one"),
});

export const ProjectionSchema = z
  .object({
    method: z.string(),
    through: IsoDate.describe("the last day counted: yesterday (UTC)"),
    daysElapsed: z.int().min(1),
    daysInMonth: z.int(),
    monthToDate: z.object({ volume: Money, transactions: Count }),
    dailyAverage: z.object({ volume: Money }),
    projected: z.object({ volume: Money, transactions: Count, net: Money.nullable() }),
    netBasis: z.object({ period: MonthLabel, bps: Bps }).nullable(),
  })
  .describe(
    "Only for the current month, from the 2nd on. V, T: batch volume and count from the 1st through yesterday (d days); D: days in the month. Projected volume = V × D ÷ d; transactions = T × D ÷ d rounded; net = projected volume × B ÷ 10,000, B being the unrounded BPS of the newest earlier month with residual rows.",
  );

export const SummaryResponse = z.object({
  year: z.int(),
  month: z.int().min(1).max(12),
  period: MonthLabel,
  isCurrentMonth: z.boolean(),
  figures: Figures.describe("the month's residual rows summed over all merchants and processors"),
  merchants: MerchantCounts.extend({ total: Count.describe("merchants known now, whatever their status") }),
  previousMonth: Compared,
  previousYear: Compared,
  projection: ProjectionSchema.nullable(),
  freshness: FreshnessSchema,
});

export const TrendPointSchema = z.object({
  period: z.string().describe("YYYY-MM, YYYY-Qn or YYYY"),
  start: IsoDate,
  end: IsoDate,
  ...FiguresShape,
  merchants: MerchantCounts,
});

export const TrendResponse = z.object({
  granularity: z.enum(["month", "quarter", "year"]),
  from: MonthLabel,
  to: MonthLabel,
  data: z.array(TrendPointSchema),
  freshness: FreshnessSchema,
});

export const TopMerchantSchema = z.object({
  rank: z.int().min(1),
  mid: z.string(),
  name: z.string().nullable(),
  volume: Money,
  transactions: Count,
  net: Money,
  bps: Bps,
});

export const TopMerchantsResponse = z.object({
  year: z.int(),
  month: z.int().min(1).max(12),
  by: z.enum(TOP_BY),
  data: z.array(TopMerchantSchema),
  freshness: FreshnessSchema,
});
