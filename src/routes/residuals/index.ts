import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { latestResidualMonth, listResiduals, residualSummary } from "../../db/queries/residuals.ts";
import { validate } from "../../middleware/validate.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { currentMonth } from "../../read/periods.ts";
import { csvAnswer, readFresh, wantsCsv } from "../../read/respond.ts";
import {
  ProcessorTotalsSchema,
  RESIDUALS_PER_PAGE_DEFAULT,
  ResidualListQuery,
  ResidualListResponse,
  ResidualRowSchema,
  ResidualSummaryQuery,
  ResidualSummaryResponse,
} from "./schemas.ts";

const tags = ["residuals"];

export const residualRoutes = new Hono<AppEnv>()
  .get(
    "/residuals",
    describeRoute({
      summary: "Residual rows",
      description: "One row per merchant, processor and month, as IRIS reported it; newest month first, then processor and mid.",
      tags,
      responses: { 200: { description: "A page of residual rows.", schema: ResidualListResponse, csv: true } },
    }),
    validate("query", ResidualListQuery),
    async (c) => {
      const q = c.req.valid("query");
      const page = q.page ?? 1;
      const perPage = q.perPage ?? RESIDUALS_PER_PAGE_DEFAULT;
      const { result, freshness } = await readFresh(c, ["residuals"], (db) => listResiduals(db, { ...q, page, perPage }));
      if (wantsCsv(c, q.format)) {
        return csvAnswer(c, {
          filename: "residuals.csv",
          rows: result.rows,
          rowSchema: ResidualRowSchema,
          freshness,
          headers: { "X-Total-Count": String(result.total) },
        });
      }
      return c.json({ data: result.rows, page, perPage, total: result.total, freshness });
    },
  )
  .get(
    "/residuals/summary",
    describeRoute({
      summary: "Residual totals per processor",
      description: "Sums of one month's merchant rows per processor, and over all processors.",
      tags,
      responses: { 200: { description: "The month's totals.", schema: ResidualSummaryResponse, csv: true } },
    }),
    validate("query", ResidualSummaryQuery),
    async (c) => {
      const q = c.req.valid("query");
      const { result, freshness } = await readFresh(c, ["residuals"], async (db) => {
        const key =
          q.year !== undefined && q.month !== undefined
            ? { year: q.year, month: q.month }
            : ((await latestResidualMonth(db)) ?? currentMonth(c.var.clock.now()));
        return { ...key, ...(await residualSummary(db, key.year, key.month)) };
      });
      if (wantsCsv(c, q.format)) {
        return csvAnswer(c, {
          filename: `residuals-summary-${result.year}-${String(result.month).padStart(2, "0")}.csv`,
          rows: result.data,
          rowSchema: ProcessorTotalsSchema,
          freshness,
        });
      }
      return c.json({ ...result, freshness });
    },
  );
