/* eslint-disable @typescript-eslint/no-explicit-any -- the sandbox's JSON answers are checked by assertions and schemas here, not by static types */
// The sandbox against IRIS's own OpenAPI document: every endpoint the sync reads answers in the documented shape
// (strictly: no invented fields, none missing) and rejects what the spec does not allow. The spec lives outside
// the repository (../shared/iris); where it is absent these tests are skipped, not failed.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import AjvModule from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index.ts";
import { loadSpec, namedResponseSchema, parameterEnum, responseSchema } from "./openapi-schema.ts";
import { control, FIXED_NOW, iris, startReceiver, type Answer } from "./support.ts";

const SPEC_PATH = fileURLToPath(new URL("../../../shared/iris/openapi-1.23.0.yaml", import.meta.url));
const specAvailable = existsSync(SPEC_PATH);

const Ajv = AjvModule.default;
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
// IRIS prints `format: date` fields as MM/DD/YYYY (the spec's own examples), never as RFC 3339 dates.
ajv.addFormat("date", {
  type: "string",
  validate: (s: string) => {
    const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(s);
    if (!m) return false;
    const d = new Date(Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2])));
    return d.getUTCMonth() === Number(m[1]) - 1 && d.getUTCDate() === Number(m[2]);
  },
});
// Y-m-d\TH:i:sP: an explicit offset is part of the contract (the sync compares instants across offsets).
ajv.addFormat("date-time", {
  type: "string",
  validate: (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
});

function expectValid(schema: unknown, answer: Answer, label: string): void {
  const validate = ajv.compile(schema as object);
  const ok = validate(answer.json);
  expect(ok, `${label}: ${ajv.errorsText(validate.errors, { separator: "\n" })}`).toBe(true);
}

function expectRateHeaders(answer: Answer): void {
  expect(answer.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
  expect(answer.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
}

const title = specAvailable
  ? "the sandbox conforms to IRIS openapi 1.23.0"
  : `the sandbox conforms to IRIS openapi 1.23.0 (skipped: the spec is not available at ${SPEC_PATH})`;

describe.skipIf(!specAvailable)(title, () => {
  let spec: any;
  let sb: Sandbox;
  let api: string;
  let key: string;
  let mid: string; // a merchant with batches and adjustments in the window
  let closedMid: string;
  let processorId: number;
  let year: number;
  let month: number;
  let leadId: number;

  beforeAll(async () => {
    spec = loadSpec(SPEC_PATH);
    sb = await startSandbox({ size: "tiny", seed: 7, now: FIXED_NOW });
    api = `${sb.url}/api/v1`;
    key = sb.apiKey;
    const ds = (await control(`${sb.url}/_control`, "GET", "/dataset?parts=merchants,adjustments,residualSummaries")).json;
    const withAdjustment = new Set(ds.adjustments.map((a: { mid: string }) => a.mid));
    mid = ds.merchants.find((m: { mid: string }) => withAdjustment.has(m.mid)).mid;
    closedMid = ds.merchants.find((m: { closed: string | null }) => m.closed !== null).mid;
    const summary = ds.residualSummaries.at(-1);
    processorId = summary.processorId;
    year = summary.year;
    month = summary.month;
    leadId = ds.merchants[0].leads[0];
  });

  afterAll(async () => {
    await sb?.close();
  });

  it("uses schemas strict enough to catch an invented field, a missing one and a wrong type", async () => {
    const schema = responseSchema(spec, "/merchants", "get", "200");
    const good = await iris<any>(api, "/merchants?per_page=10", key);
    const validate = ajv.compile(schema);
    expect(validate(good.json)).toBe(true);
    const variants: [string, (m: any) => void][] = [
      ["invented field", (m) => (m.invented = 1)],
      ["missing field", (m) => delete m.sic_code],
      ["numeric mid", (m) => (m.mid = Number(m.mid))],
      ["ISO opened date", (m) => (m.opened = "2024-01-02")],
      ["modified without offset", (m) => (m.modified = "2024-01-02T10:00:00")],
    ];
    for (const [label, mutate] of variants) {
      const copy = structuredClone(good.json);
      mutate(copy.data[0]);
      expect(validate(copy), label).toBe(false);
    }
    const lastPageAsNumber = structuredClone(good.json);
    lastPageAsNumber.meta.last_page = Number(lastPageAsNumber.meta.last_page);
    expect(validate(lastPageAsNumber), "numeric last_page").toBe(false);
  });

  it("lists merchants in the documented shape, with and without filters", async () => {
    const schema = responseSchema(spec, "/merchants", "get", "200");
    for (const query of [
      "?per_page=25",
      "?per_page=10&page=3&sort_by=modified&sort_dir=desc",
      "?date_filter=modified&start_date=2026-01-01T00:00:00%2B00:00&end_date=2026-03-18T23:59:59-05:00",
      "?status=Closed&per_page=100",
      "?page=99",
    ]) {
      const a = await iris(api, `/merchants${query}`, key);
      expect(a.status, query).toBe(200);
      expectRateHeaders(a);
      expectValid(schema, a, `GET /merchants${query}`);
    }
  });

  it("shows a merchant's detail, open or closed, and 404 for an unknown mid", async () => {
    const schema = responseSchema(spec, "/merchants/{merchantNumber}", "get", "200");
    for (const m of [mid, closedMid]) {
      const a = await iris(api, `/merchants/${m}`, key);
      expect(a.status).toBe(200);
      expectValid(schema, a, `GET /merchants/${m}`);
    }
    const missing = await iris(api, "/merchants/123456789012", key);
    expect(missing.status).toBe(404);
    expectValid(responseSchema(spec, "/merchants/{merchantNumber}", "get", "404"), missing, "404 merchant");
  });

  it("lists batches with masked card transactions and adjustments, and 404 for an unknown mid", async () => {
    const schema = responseSchema(spec, "/merchants/{merchantNumber}/transactions", "get", "200");
    const a = await iris<any>(api, `/merchants/${mid}/transactions?start_date=2026-01-01&end_date=2026-03-18&per_page=100`, key);
    expect(a.status).toBe(200);
    expectValid(schema, a, "GET transactions");
    expect(a.json.data.length).toBeGreaterThan(0);
    expect(a.json.adjustments.length).toBeGreaterThan(0);
    for (const batch of a.json.data) {
      for (const t of batch.transactions) expect(t.cardholder).toMatch(/^\d{4}\*{7,8}\d{4}$/);
    }
    const missing = await iris(api, "/merchants/123456789012/transactions", key);
    expect(missing.status).toBe(404);
    expectValid(responseSchema(spec, "/merchants/{merchantNumber}/transactions", "get", "404"), missing, "404 transactions");
  });

  it("lists processors with their datasources", async () => {
    const a = await iris(api, "/processors", key);
    expect(a.status).toBe(200);
    expectValid(responseSchema(spec, "/processors", "get", "200"), a, "GET /processors");
  });

  it("answers the residual summary, its rows and line items in the documented shapes", async () => {
    const summary = await iris(api, `/residuals/reports/summary/${year}/${month}?per_page=100`, key);
    expect(summary.status).toBe(200);
    expectValid(responseSchema(spec, "/residuals/reports/summary/{year}/{month}", "get", "200"), summary, "summary");
    const rows = await iris<any>(api, `/residuals/reports/summary/rows/${processorId}/${year}/${month}?per_page=1000`, key);
    expect(rows.status).toBe(200);
    expect(rows.json.data.length).toBeGreaterThan(0);
    expectValid(responseSchema(spec, "/residuals/reports/summary/rows/{processor_id}/{year}/{month}", "get", "200"), rows, "rows");
    const items = await iris(api, `/residuals/lineitems/${year}/${month}?per_page=100`, key);
    expect(items.status).toBe(200);
    expectValid(responseSchema(spec, "/residuals/lineitems/{year}/{month}", "get", "200"), items, "line items");
  });

  it("answers 404 in the documented error shape for an unknown processor", async () => {
    const a = await iris(api, `/residuals/reports/summary/rows/999999/${year}/${month}`, key);
    expect(a.status).toBe(404);
    expectValid(namedResponseSchema(spec, "NotFoundError"), a, "404 processor");
  });

  it("shows a lead whose integer mid points back to its merchant, and 404 for an unknown lead", async () => {
    const a = await iris<any>(api, `/leads/${leadId}`, key);
    expect(a.status).toBe(200);
    expectValid(responseSchema(spec, "/leads/{leadId}", "get", "200"), a, "lead");
    const merchant = await iris<any>(api, `/merchants/${a.json.general.mid}`, key);
    expect(merchant.json.leads).toContain(leadId);
    const missing = await iris(api, "/leads/1", key);
    expect(missing.status).toBe(404);
    expectValid(responseSchema(spec, "/leads/{leadId}", "get", "404"), missing, "404 lead");
  });

  it("answers 401 Unauthenticated. on every endpoint without a key or with a wrong one", async () => {
    const paths: [string, string][] = [
      ["/merchants", "/merchants"],
      ["/merchants/{merchantNumber}", `/merchants/${mid}`],
      ["/merchants/{merchantNumber}/transactions", `/merchants/${mid}/transactions`],
      ["/processors", "/processors"],
      ["/residuals/reports/summary/{year}/{month}", `/residuals/reports/summary/${year}/${month}`],
      ["/residuals/reports/summary/rows/{processor_id}/{year}/{month}", `/residuals/reports/summary/rows/${processorId}/${year}/${month}`],
      ["/residuals/lineitems/{year}/{month}", `/residuals/lineitems/${year}/${month}`],
      ["/leads/{leadId}", `/leads/${leadId}`],
    ];
    for (const [template, path] of paths) {
      for (const k of [null, "wrong-key"]) {
        const a = await iris(api, path, k);
        expect(a.status, `${path} with key ${k}`).toBe(401);
        expect(a.json).toEqual({ message: "Unauthenticated." });
        expectRateHeaders(a);
        expectValid(responseSchema(spec, template, "get", "401"), a, `401 ${path}`);
      }
    }
  });

  it("accepts exactly the per_page values the spec allows on each list, and answers 405 otherwise", async () => {
    const lists: [string, string][] = [
      ["/merchants", "/merchants"],
      ["/merchants/{merchantNumber}/transactions", `/merchants/${mid}/transactions`],
      ["/residuals/reports/summary/{year}/{month}", `/residuals/reports/summary/${year}/${month}`],
      ["/residuals/reports/summary/rows/{processor_id}/{year}/{month}", `/residuals/reports/summary/rows/${processorId}/${year}/${month}`],
      ["/residuals/lineitems/{year}/{month}", `/residuals/lineitems/${year}/${month}`],
    ];
    const validation = namedResponseSchema(spec, "ValidationError");
    for (const [template, path] of lists) {
      const allowed = parameterEnum(spec, template, "get", "per_page") as number[];
      for (const perPage of allowed) {
        const a = await iris<any>(api, `${path}?per_page=${perPage}`, key);
        expect(a.status, `${path} per_page=${perPage}`).toBe(200);
        expect(a.json.meta.per_page).toBe(perPage);
      }
      for (const bad of [15, 2000, "abc", Math.max(...allowed) + 1]) {
        const a = await iris(api, `${path}?per_page=${bad}`, key);
        expect(a.status, `${path} per_page=${bad}`).toBe(405);
        expectValid(validation, a, `405 ${path}`);
      }
    }
  });

  it("accepts the spec's sort_by, sort_dir and date_filter values for merchants and rejects others with 405", async () => {
    for (const [name, extra] of [
      ["sort_by", ""],
      ["sort_dir", ""],
      ["date_filter", ""],
    ] as const) {
      for (const value of parameterEnum(spec, "/merchants", "get", name)) {
        const a = await iris(api, `/merchants?${name}=${value}${extra}`, key);
        expect(a.status, `${name}=${String(value)}`).toBe(200);
      }
      const bad = await iris(api, `/merchants?${name}=nonsense`, key);
      expect(bad.status).toBe(405);
      expectValid(namedResponseSchema(spec, "ValidationError"), bad, `405 ${name}`);
    }
  });

  it("rejects a date filter whose + was not URL-encoded, as the spec warns", async () => {
    const a = await iris(api, "/merchants?date_filter=modified&start_date=2026-01-01T00:00:00+00:00", key);
    expect(a.status).toBe(405);
    expectValid(namedResponseSchema(spec, "ValidationError"), a, "405 unencoded +");
  });

  it("answers 429 Too Many Attempts. with Retry-After past the rate limit", async () => {
    const created = (await control(`${sb.url}/_control`, "POST", "/instances", { rateLimitPerMinute: 2 })).json;
    await iris(created.baseUrl, "/processors", created.apiKey);
    await iris(created.baseUrl, "/processors", created.apiKey);
    const a = await iris(created.baseUrl, "/processors", created.apiKey);
    expect(a.status).toBe(429);
    expect(a.json).toEqual({ message: "Too Many Attempts." });
    expect(a.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(a.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  it("delivers webhook payloads shaped like the spec's subscription samples", async () => {
    const receiver = await startReceiver();
    try {
      const created = (await control(`${sb.url}/_control`, "POST", "/instances", { webhookUrl: receiver.url })).json;
      await control(created.controlUrl, "POST", "/merchants/modify", { count: 1 });
      await control(created.controlUrl, "POST", "/residuals/restate", { year, month });
      for (const event of ["subscription.test", "lead.status.updated", "lead.created"]) {
        await control(created.controlUrl, "POST", "/webhooks/send", { event });
      }
      const samples: Record<string, string> = {
        "lead.updated": "/subscriptions/sample/lead.updated",
        "residuals.report.published": "/subscriptions/sample/residuals.report.published",
        "subscription.test": "/subscriptions/sample/subscription.test",
        "lead.status.updated": "/subscriptions/sample/lead.status.updated",
        "lead.created": "/subscriptions/sample/lead.created",
      };
      const seen = new Set<string>();
      for (const { body } of receiver.received) {
        const sample = samples[body.hook.event];
        expect(sample, `unexpected event ${body.hook.event}`).toBeDefined();
        expectValid(responseSchema(spec, sample!, "get", "200"), { json: body } as Answer, body.hook.event);
        seen.add(body.hook.event);
      }
      expect([...seen].sort()).toEqual(Object.keys(samples).sort());
    } finally {
      await receiver.close();
    }
  });
});
