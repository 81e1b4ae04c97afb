import { z } from "zod";
import { FreshnessSchema } from "../../read/freshness.ts";
import { format, mid, periodBound } from "../../read/params.ts";
import { Count, Money } from "../../read/schemas.ts";

export const VOLUME_DAYS_MAX = 366;
export const VOLUME_MONTHS_MAX = 120;

export const VolumeQuery = z
  .object({
    mid: mid.optional().describe("one merchant; the whole portfolio when absent"),
    from: periodBound.optional().describe("first day or month (a month means its first day); default: 30 days or 12 months before `to`"),
    to: periodBound.optional().describe("last day or month (a month means its last day); default: today or this month (UTC)"),
    granularity: z.enum(["day", "month"]).optional().describe("day: settled batches; month: residual rows (default day)"),
    format: format.optional(),
  })
  .strict();

export const VolumePointSchema = z.object({
  period: z.string().describe("YYYY-MM-DD for days, YYYY-MM for months"),
  volume: Money,
  transactions: Count,
});

export const VolumeResponse = z.object({
  mid: z.string().nullable(),
  granularity: z.enum(["day", "month"]),
  from: z.string(),
  to: z.string(),
  data: z.array(VolumePointSchema).describe("every period in the range, zero where there is no data"),
  totals: z.object({ volume: Money, transactions: Count }),
  freshness: FreshnessSchema,
});
