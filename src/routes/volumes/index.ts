import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { merchantNames } from "../../db/queries/merchants.ts";
import { dailyVolumes, monthlyVolumes } from "../../db/queries/volumes.ts";
import { ApiError } from "../../http-errors.ts";
import { validate } from "../../middleware/validate.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { monthLabel } from "../../read/params.ts";
import { addDays, boundDay, boundMonthIndex, currentMonth, daysBetween, isoDay, monthAt, monthIndex } from "../../read/periods.ts";
import { csvAnswer, invalidQuery, readFresh, wantsCsv } from "../../read/respond.ts";
import { VOLUME_DAYS_MAX, VOLUME_MONTHS_MAX, VolumePointSchema, VolumeQuery, VolumeResponse } from "./schemas.ts";

export const volumeRoutes = new Hono<AppEnv>().get(
  "/volumes",
  describeRoute({
    summary: "Processing volume over time",
    description:
      "By day: settled batch amounts and counts. By month: residual rows' sales amount and transactions. For one merchant (404 when unknown) or the portfolio; every period of the range is present.",
    tags: ["volumes"],
    responses: {
      200: { description: "The series and its totals.", schema: VolumeResponse, csv: true },
      404: { description: "No merchant has this mid." },
    },
  }),
  validate("query", VolumeQuery),
  async (c) => {
    const q = c.req.valid("query");
    const granularity = q.granularity ?? "day";
    const now = c.var.clock.now();
    let range: { from: string; to: string; fromIndex: number; toIndex: number };
    if (granularity === "day") {
      const to = q.to ? boundDay(q.to, "to") : isoDay(now);
      const from = q.from ? boundDay(q.from, "from") : addDays(to, -29);
      const span = daysBetween(from, to);
      if (span < 0) throw invalidQuery("from", "from is after to");
      if (span >= VOLUME_DAYS_MAX) throw invalidQuery("from", `at most ${VOLUME_DAYS_MAX} days`);
      range = { from, to, fromIndex: 0, toIndex: 0 };
    } else {
      const toIndex = q.to ? boundMonthIndex(q.to) : monthIndex(currentMonth(now));
      const fromIndex = q.from ? boundMonthIndex(q.from) : toIndex - 11;
      if (fromIndex > toIndex) throw invalidQuery("from", "from is after to");
      if (toIndex - fromIndex >= VOLUME_MONTHS_MAX) throw invalidQuery("from", `at most ${VOLUME_MONTHS_MAX} months`);
      range = { from: monthLabel(monthAt(fromIndex)), to: monthLabel(monthAt(toIndex)), fromIndex, toIndex };
    }
    const { result, freshness } = await readFresh(c, [granularity === "day" ? "volumes" : "residuals"], async (db) => {
      if (q.mid !== undefined && !(await merchantNames(db, [q.mid])).has(q.mid)) {
        throw new ApiError(404, "merchant not found", { details: { mid: q.mid } });
      }
      return granularity === "day"
        ? dailyVolumes(db, { from: range.from, to: range.to, mid: q.mid })
        : monthlyVolumes(db, { from: range.fromIndex, to: range.toIndex, mid: q.mid });
    });
    if (wantsCsv(c, q.format)) {
      return csvAnswer(c, {
        filename: `volumes-${granularity}.csv`,
        rows: result.data,
        rowSchema: VolumePointSchema,
        freshness,
      });
    }
    return c.json({ mid: q.mid ?? null, granularity, from: range.from, to: range.to, ...result, freshness });
  },
);
