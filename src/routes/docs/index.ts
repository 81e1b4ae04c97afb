import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { type RouteEntry, generateOpenApi } from "../../openapi/generate.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { docsContentSecurityPolicy, docsPage } from "./page.ts";

export const API_INFO = {
  title: "iris-portal-edge",
  version: "0.1.0",
  description:
    "The edge API between IRIS CRM and the analytics portal. Reads come from Postgres only. Money is a decimal string with two decimals, BPS = net ÷ volume × 10,000 with two decimals, dates are ISO 8601 (UTC). Every answer that reads the database carries `freshness`. List endpoints also answer CSV with `format=csv` or `Accept: text/csv`.",
};

/**
 * /openapi.json and /docs. `routes` is read on the first request, once every route is mounted, so the document
 * lists all of them, these two included; it is built once per app.
 */
export function docsRoutes(routes: () => readonly RouteEntry[]): Hono<AppEnv> {
  let document: Record<string, unknown> | undefined;
  return new Hono<AppEnv>()
    .get(
      "/openapi.json",
      describeRoute({
        summary: "This API as an OpenAPI 3.1 document",
        tags: ["docs"],
        responses: { 200: { description: "The document, generated from the routes and their zod schemas.", mediaType: "application/json" } },
      }),
      (c) => {
        document ??= generateOpenApi(routes(), API_INFO);
        return c.json(document);
      },
    )
    .get(
      "/docs",
      describeRoute({
        summary: "Interactive API reference",
        tags: ["docs"],
        responses: { 200: { description: "A self-contained HTML page that renders /openapi.json and can send requests.", mediaType: "text/html" } },
      }),
      (c) => {
        const nonce = crypto.randomUUID().replace(/-/g, "");
        c.header("Content-Security-Policy", docsContentSecurityPolicy(nonce));
        c.header("Cache-Control", "no-store");
        return c.html(docsPage(nonce));
      },
    );
}
