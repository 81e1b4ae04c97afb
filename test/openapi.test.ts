import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "../src/app.ts";
import { requireToken } from "../src/middleware/auth.ts";
import { validate } from "../src/middleware/validate.ts";
import { generateOpenApi, openApiPath, patternCovers } from "../src/openapi/generate.ts";
import { describeRoute } from "../src/openapi/registry.ts";
import { MerchantListQuery } from "../src/routes/merchants/schemas.ts";
import { openApiProblems } from "./support/openapi-validator.ts";

type Json = Record<string, unknown>;
type Operation = {
  operationId: string;
  summary: string;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Json }>;
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
  security: unknown[];
  "x-roles"?: string[];
};

const app = createApp();
async function document(): Promise<Json & { paths: Record<string, Record<string, Operation>> }> {
  const res = await app.request("/openapi.json", {}, env);
  expect(res.status).toBe(200);
  return res.json();
}

const operation = async (method: string, path: string) => {
  const op = (await document()).paths[path]?.[method];
  if (!op) throw new Error(`${method} ${path} is not documented`);
  return op;
};

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, every schema in it valid JSON Schema 2020-12", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    expect(openApiProblems(doc)).toEqual([]);
  });

  it("catches an invalid document (the validator is not a rubber stamp)", async () => {
    const doc = await document();
    expect(openApiProblems({ ...doc, info: { title: "no version" } }).length).toBeGreaterThan(0);
    const paths = { "/x": { get: { responses: { 200: { description: "ok", content: { "application/json": { schema: { type: 12 } } } } } } } };
    expect(openApiProblems({ ...doc, paths }).length).toBeGreaterThan(0);
  });

  it("lists every method and path the Worker serves, and nothing else", async () => {
    const doc = await document();
    const served = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`));
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));
    expect([...documented].sort()).toEqual([...served].sort());
    for (const route of ["GET /api/merchants", "GET /api/merchants/{mid}", "GET /api/merchants/compare", "GET /api/residuals", "GET /api/residuals/summary", "GET /api/volumes", "GET /api/analytics/summary", "GET /api/analytics/trend", "GET /api/analytics/top-merchants", "GET /health", "GET /api/iris/ping", "GET /api/circuit", "POST /api/circuit/open", "GET /openapi.json", "GET /docs"]) {
      expect(documented.has(route), route).toBe(true);
    }
  });

  it("gives every operation a unique id", async () => {
    const ids = Object.values((await document()).paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("shows the query parameters from the same zod schema that validates them", async () => {
    const op = await operation("get", "/api/merchants");
    expect(op.parameters?.map((p) => p.name)).toEqual(Object.keys(MerchantListQuery.shape));
    const sort = op.parameters?.find((p) => p.name === "sort");
    expect(sort?.schema.enum).toEqual(["name", "mid", "modified", "opened", "volume", "net"]);
    expect(op.parameters?.every((p) => p.in === "query" && p.required === false)).toBe(true);
    expect(Object.keys(op.responses["200"]?.content ?? {})).toEqual(["application/json", "text/csv"]);
    expect(op.responses["200"]?.content?.["application/json"]?.schema.required).toContain("freshness");
    expect(Object.keys(op.responses).sort()).toEqual(["200", "400", "401"]);
  });

  it("documents path parameters, bodies and roles", async () => {
    const detail = await operation("get", "/api/merchants/{mid}");
    expect(detail.parameters).toEqual([expect.objectContaining({ name: "mid", in: "path", required: true })]);
    expect(detail.responses["404"]).toBeDefined();
    expect(detail.security).toEqual([{ bearerAuth: [] }]);
    expect(detail["x-roles"]).toEqual(["admin", "portal"]);

    const open = await operation("post", "/api/circuit/open");
    expect(open.requestBody?.content["application/json"]?.schema).toMatchObject({ type: "object", required: ["seconds"] });
    expect(open["x-roles"]).toEqual(["admin"]);
    expect(open.responses["403"]).toBeDefined();

    const health = await operation("get", "/health");
    expect(health.security).toEqual([]);
    expect(health.responses["401"]).toBeUndefined();
  });
});

describe("the generator", () => {
  it("converts Hono paths and matches middleware patterns as Hono does", () => {
    expect(openApiPath("/api/merchants/:mid")).toBe("/api/merchants/{mid}");
    expect(openApiPath("/runs/:id{[0-9]+}")).toBe("/runs/{id}");
    expect(patternCovers("/api/*", "/api/merchants/:mid")).toBe(true);
    expect(patternCovers("/api/sync/*", "/api/sync")).toBe(true);
    expect(patternCovers("/api/sync/*", "/api/sync-iriscrm")).toBe(false);
    expect(patternCovers("/circuit", "/circuit/open")).toBe(false);
    expect(patternCovers("*", "/anything")).toBe(true);
    expect(patternCovers("/a/:x/c", "/a/:y/c")).toBe(true);
  });

  it("documents a route nobody described, with its path parameters, and only middleware that runs before it", () => {
    const sub = new Hono()
      .get("/early/:id", (c) => c.text("x"))
      .use("/early/*", requireToken({ allow: ["admin"] }))
      .use("/late/*", requireToken({ allow: ["admin", "portal"] }))
      .post("/late/:a/:b", validate("json", z.object({ n: z.int() })), describeRoute({ summary: "Late" }), (c) => c.text("y"));
    const doc = generateOpenApi(new Hono().route("/x", sub).routes, { title: "t", version: "1" }) as { paths: Record<string, Record<string, Operation>> };
    const early = doc.paths["/x/early/{id}"]?.get;
    expect(early?.summary).toBe("GET /x/early/{id}");
    expect(early?.security).toEqual([]);
    expect(early?.parameters).toEqual([{ name: "id", in: "path", required: true, schema: { type: "string" } }]);
    const late = doc.paths["/x/late/{a}/{b}"]?.post;
    expect(late?.summary).toBe("Late");
    expect(late?.["x-roles"]).toEqual(["admin", "portal"]);
    expect(late?.parameters?.map((p) => p.name)).toEqual(["a", "b"]);
    expect(late?.requestBody?.content["application/json"]?.schema).toMatchObject({ properties: { n: { type: "integer" } } });
    expect(Object.keys(late?.responses ?? {}).sort()).toEqual(["200", "400", "401"]);
  });

  it("moves named zod definitions into components so their references resolve", () => {
    const Item = z.object({ id: z.string() }).meta({ id: "TestItem" });
    const sub = new Hono().get("/items", describeRoute({ summary: "Items", responses: { 200: { description: "ok", schema: z.object({ items: z.array(Item) }) } } }), (c) => c.text(""));
    const doc = generateOpenApi(sub.routes, { title: "t", version: "1" }) as Json & { components: { schemas: Json } };
    expect(doc.components.schemas.TestItem).toBeDefined();
    expect(JSON.stringify(doc.paths)).toContain('"$ref":"#/components/schemas/TestItem"');
    expect(openApiProblems(doc)).toEqual([]);
  });
});
