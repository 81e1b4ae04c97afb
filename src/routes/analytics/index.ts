import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { monthEndProjection, portfolioSummary, portfolioTrend, topMerchants } from "../../db/queries/analytics.ts";
import { latestResidualMonth } from "../../db/queries/residuals.ts";
import { validate } from "../../middleware/validate.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { monthLabel } from "../../read/params.ts";
import { GRANULARITY_MONTHS, boundMonthIndex, currentMonth, monthAt, monthIndex, projectionWindow } from "../../read/periods.ts";
import { csvAnswer, invalidQuery, readFresh, wantsCsv } from "../../read/respond.ts";
import {
  ProjectionSchema,
  SummaryQuery,
  SummaryResponse,
  TOP_LIMIT_MAX,
  TREND_MONTHS_MAX,
  TopMerchantSchema,
  TopMerchantsQuery,
  TopMerchantsResponse,
  TrendPointSchema,
  TrendQuery,
  TrendResponse,
} from "./schemas.ts";

const tags = ["analytics"];
const PROJECTION_METHOD = ProjectionSchema.description ?? "";

export const analyticsRoutes = new Hono<AppEnv>()
  .get(
    "/analytics/summary",
    describeRoute({
      summary: "Portfolio figures for a month",
      description:
        "Volume, transactions, income, expense, net and BPS (net ÷ volume × 10,000) of the month's residual rows, merchant counts, the same for the month before and the same month a year before with the changes, and for the current month a projection to month-end.",
      tags,
      responses: { 200: { description: "The month's figures.", schema: SummaryResponse } },
    }),
    validate("query", SummaryQuery),
    async (c) => {
      const q = c.req.valid("query");
      const now = c.var.clock.now();
      const key = q.year !== undefined && q.month !== undefined ? { year: q.year, month: q.month } : currentMonth(now);
      const k = monthIndex(key);
      const window = projectionWindow(key, now);
      const { result, freshness } = await readFresh(c, ["residuals", "volumes", "merchants"], async (db) => ({
        summary: await portfolioSummary(db, k),
        projection: window ? await monthEndProjection(db, k, window) : null,
      }));
      const { summary, projection } = result;
      const current = currentMonth(now);
      return c.json({
        year: key.year,
        month: key.month,
        period: monthLabel(key),
        isCurrentMonth: current.year === key.year && current.month === key.month,
        figures: summary.current.figures,
        merchants: { ...summary.current.merchants, total: summary.merchantsTotal },
        previousMonth: { period: monthLabel(monthAt(k - 1)), ...summary.previousMonth },
        previousYear: { period: monthLabel(monthAt(k - 12)), ...summary.previousYear },
        projection: projection ? { method: PROJECTION_METHOD, ...projection } : null,
        freshness,
      });
    },
  )
  .get(
    "/analytics/trend",
    describeRoute({
      summary: "Portfolio figures as a series",
      description: "The summary's figures and merchant counts per month, quarter or year; every period of the range is present.",
      tags,
      responses: { 200: { description: "The series.", schema: TrendResponse, csv: true } },
    }),
    validate("query", TrendQuery),
    async (c) => {
      const q = c.req.valid("query");
      const granularity = q.granularity ?? "month";
      const size = GRANULARITY_MONTHS[granularity];
      const toMonth = q.to ? boundMonthIndex(q.to) : monthIndex(currentMonth(c.var.clock.now()));
      // Widen to whole periods: from back to its period's first month, to forward to its period's last.
      const to = Math.floor(toMonth / size) * size + size - 1;
      const from = q.from ? Math.floor(boundMonthIndex(q.from) / size) * size : to - 12 * size + 1;
      if (from > to) throw invalidQuery("from", "from is after to");
      if (to - from + 1 > TREND_MONTHS_MAX) throw invalidQuery("from", `at most ${TREND_MONTHS_MAX} months`);
      const { result, freshness } = await readFresh(c, ["residuals", "merchants"], (db) => portfolioTrend(db, { from, to, granularity }));
      if (wantsCsv(c, q.format)) {
        return csvAnswer(c, {
          filename: `trend-${granularity}.csv`,
          rows: result,
          rowSchema: TrendPointSchema,
          freshness,
        });
      }
      return c.json({ granularity, from: monthLabel(monthAt(from)), to: monthLabel(monthAt(to)), data: result, freshness });
    },
  )
  .get(
    "/analytics/top-merchants",
    describeRoute({
      summary: "Merchants ranked by volume, net or BPS",
      description: `The month's figures per merchant (summed over processors), highest first, ties by mid; at most ${TOP_LIMIT_MAX}.`,
      tags,
      responses: { 200: { description: "The ranking.", schema: TopMerchantsResponse, csv: true } },
    }),
    validate("query", TopMerchantsQuery),
    async (c) => {
      const q = c.req.valid("query");
      const by = q.by ?? "volume";
      const { result, freshness } = await readFresh(c, ["residuals", "merchants"], async (db) => {
        const key =
          q.year !== undefined && q.month !== undefined
            ? { year: q.year, month: q.month }
            : ((await latestResidualMonth(db)) ?? currentMonth(c.var.clock.now()));
        const data = await topMerchants(db, { ...key, by, limit: q.limit ?? 10, minVolume: q.minVolume });
        return { ...key, data };
      });
      if (wantsCsv(c, q.format)) {
        return csvAnswer(c, {
          filename: `top-merchants-${by}.csv`,
          rows: result.data,
          rowSchema: TopMerchantSchema,
          freshness,
        });
      }
      return c.json({ year: result.year, month: result.month, by, data: result.data, freshness });
    },
  );
