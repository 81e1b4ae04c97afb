// Response building blocks for the read API. They document the answers in the OpenAPI document and the tests
// parse real answers with them, so the document cannot drift from what the routes send.
import { z } from "zod";

export const Money = z.string().regex(/^-?\d+\.\d{2}$/).describe("an amount as a decimal string with two decimals, e.g. \"1234.50\"");
export const Bps = z
  .string()
  .regex(/^-?\d+\.\d{2}$/)
  .nullable()
  .describe("basis points, net ÷ volume × 10,000, two decimals; null when there is no volume");
export const Percent = z
  .string()
  .regex(/^-?\d+\.\d{2}$/)
  .nullable()
  .describe("(current − previous) ÷ |previous| × 100, two decimals; null when previous is zero");
export const Count = z.int().min(0);
export const IsoDate = z.iso.date();
export const IsoDateTime = z.iso.datetime();
export const MonthLabel = z.string().regex(/^\d{4}-\d{2}$/).describe("a month, YYYY-MM");

export const ChangeSchema = z.object({
  delta: z.union([z.string().regex(/^-?\d+\.\d{2}$/), z.int()]).nullable().describe("current − previous (text for amounts and BPS, a number for counts)"),
  percent: Percent,
});

export const FiguresShape = {
  volume: Money.describe("sales volume"),
  transactions: Count,
  income: Money,
  expense: Money,
  net: Money,
  bps: Bps,
};

export const FigureChangesSchema = z.object({
  volume: ChangeSchema,
  transactions: ChangeSchema,
  income: ChangeSchema,
  expense: ChangeSchema,
  net: ChangeSchema,
  bps: ChangeSchema,
});

export const PageShape = {
  page: z.int().min(1),
  perPage: z.int().min(1),
  total: z.int().min(0).describe("rows matching the filters, over all pages"),
};

export const MonthSchema = z.object({ year: z.int(), month: z.int().min(1).max(12) });
