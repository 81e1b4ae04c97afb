import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { getMerchant, listMerchants, merchantHistories, merchantNames } from "../../db/queries/merchants.ts";
import { dailyVolumes } from "../../db/queries/volumes.ts";
import { ApiError } from "../../http-errors.ts";
import { validate } from "../../middleware/validate.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { addDays, isoDay } from "../../read/periods.ts";
import { csvAnswer, readFresh, wantsCsv } from "../../read/respond.ts";
import {
  CompareQuery,
  CompareResponse,
  CompareRowSchema,
  MERCHANTS_PER_PAGE_DEFAULT,
  MerchantDetailResponse,
  MerchantListQuery,
  MerchantListResponse,
  MerchantListRowSchema,
  MidParam,
} from "./schemas.ts";

const DAILY_DAYS = 30;
const tags = ["merchants"];
const notFound = { 404: { description: "No merchant has this mid." } };

export const merchantRoutes = new Hono<AppEnv>()
  .get(
    "/merchants",
    describeRoute({
      summary: "List merchants",
      description:
        "Filter by status, processor, group or a search term; sort by name, mid, modified, opened, or the latest residual month's volume or net. Rows are ordered by the sort column, then mid, so pages never overlap.",
      tags,
      responses: { 200: { description: "A page of merchants.", schema: MerchantListResponse, csv: true } },
    }),
    validate("query", MerchantListQuery),
    async (c) => {
      const q = c.req.valid("query");
      const page = q.page ?? 1;
      const perPage = q.perPage ?? MERCHANTS_PER_PAGE_DEFAULT;
      const { result, freshness } = await readFresh(c, ["merchants", "residuals"], (db) =>
        listMerchants(db, { ...q, page, perPage, sort: q.sort ?? "name", dir: q.dir ?? "asc" }),
      );
      if (wantsCsv(c, q.format)) {
        return csvAnswer(c, {
          filename: "merchants.csv",
          rows: result.rows,
          rowSchema: MerchantListRowSchema,
          freshness,
          headers: { "X-Total-Count": String(result.total) },
        });
      }
      return c.json({ data: result.rows, page, perPage, total: result.total, latestMonth: result.latestMonth, freshness });
    },
  )
  // Registered before /merchants/:mid, which would otherwise take "compare" for a mid.
  .get(
    "/merchants/compare",
    describeRoute({
      summary: "Compare merchants month by month",
      description: "The monthly history of up to 10 merchants over one shared range of months. Any unknown mid: 404.",
      tags,
      responses: {
        200: { description: "One history per merchant, in the order asked.", schema: CompareResponse, csv: true },
        ...notFound,
      },
    }),
    validate("query", CompareQuery),
    async (c) => {
      const { mids, format } = c.req.valid("query");
      const { result, freshness } = await readFresh(c, ["merchants", "residuals"], async (db) => {
        const names = await merchantNames(db, mids);
        const unknown = mids.filter((m) => !names.has(m));
        if (unknown.length) throw new ApiError(404, "merchant not found", { details: { mids: unknown } });
        const histories = await merchantHistories(db, mids);
        return mids.map((mid) => ({ mid, name: names.get(mid) ?? null, history: histories.get(mid) ?? [] }));
      });
      if (wantsCsv(c, format)) {
        const rows = result.flatMap((m) => m.history.map((h) => ({ mid: m.mid, name: m.name, ...h })));
        return csvAnswer(c, { filename: "merchants-compare.csv", rows, rowSchema: CompareRowSchema, freshness });
      }
      return c.json({ data: result, freshness });
    },
  )
  .get(
    "/merchants/:mid",
    describeRoute({
      summary: "One merchant with its history",
      description:
        "The merchant's record, its monthly figures with month-over-month and year-over-year change for up to 24 months, and its batch volume for each of the last 30 days.",
      tags,
      responses: { 200: { description: "The merchant.", schema: MerchantDetailResponse }, ...notFound },
    }),
    validate("param", MidParam),
    async (c) => {
      const { mid } = c.req.valid("param");
      const to = isoDay(c.var.clock.now());
      const from = addDays(to, -(DAILY_DAYS - 1));
      const { result, freshness } = await readFresh(c, ["merchants", "residuals", "volumes"], async (db) => {
        const merchant = await getMerchant(db, mid);
        if (!merchant) throw new ApiError(404, "merchant not found", { details: { mid } });
        const histories = await merchantHistories(db, [mid]);
        const daily = await dailyVolumes(db, { from, to, mid });
        return { merchant, history: histories.get(mid) ?? [], daily: { from, to, ...daily } };
      });
      return c.json({ ...result, freshness });
    },
  );
