// Property: whatever the query string, a read route answers 200, 400 or 404, never 500, and a 200 satisfies the
// response schema the OpenAPI document shows.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { createApp } from "../src/app.ts";
import { SummaryResponse, TopMerchantsResponse, TrendResponse } from "../src/routes/analytics/schemas.ts";
import { CompareResponse, MerchantDetailResponse, MerchantListResponse } from "../src/routes/merchants/schemas.ts";
import { ResidualListResponse, ResidualSummaryResponse } from "../src/routes/residuals/schemas.ts";
import { VolumeResponse } from "../src/routes/volumes/schemas.ts";
import { FakeClock } from "./support/fake-clock.ts";
import {
  type Fixture,
  batch,
  fixtureDb,
  insertBatches,
  insertMerchants,
  insertResiduals,
  merchant,
  residual,
  tokenHeaders,
} from "./support/read-fixtures.ts";

let f: Fixture;
const app = createApp({ clock: new FakeClock({ start: Date.UTC(2026, 11, 4, 12) }) });
const RUNS = 25;
// Each run that reaches the database opens its own connection, as a request does.
const TIMEOUT_MS = 30_000;

beforeAll(async () => {
  f = await fixtureDb();
  await insertMerchants(f.db, [merchant("m1"), merchant("m2", { name: "Two, \"quoted\"" }), merchant("m3", { name: null, opened: null })]);
  await insertResiduals(f.db, [
    residual("m1", 2026, 10),
    residual("m2", 2026, 10, { processorId: 2, salesAmount: "0.00", net: "-3.50" }),
    residual("m1", 2025, 10, { salesAmount: "12345678.91" }),
  ]);
  await insertBatches(f.db, [batch("m1", "2026-12-01", "10.00", 1), batch("m2", "2026-11-20", "0.01", 1)]);
});

afterAll(async () => {
  await f?.database.end();
});

const noise = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.integer({ min: -1e12, max: 1e12 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom("", " ", "0", "-1", "1.5", "1e3", "NaN", "null", "%", "%zz", "'; select 1; --", "\u0000", "a,b", "\u202e", "2026-02-30", "9999-99"),
);
const int = (min: number, max: number) => fc.integer({ min, max }).map(String);
const day = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-12-31"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const nearDay = fc.integer({ min: -400, max: 40 }).map((n) => new Date(Date.UTC(2026, 11, 4) + n * 86_400_000).toISOString().slice(0, 10));
const bound = fc.oneof({ weight: 3, arbitrary: nearDay }, nearDay.map((d) => d.slice(0, 7)), day, day.map((d) => d.slice(0, 7)));
/** from ≤ to most of the time, either of them possibly absent. */
const range = fc
  .tuple(bound, bound, fc.constantFrom("both", "from", "to", "none"))
  .map(([a, b, which]) => {
    const [from, to] = a <= b ? [a, b] : [b, a];
    return { ...(which === "both" || which === "from" ? { from } : {}), ...(which === "both" || which === "to" ? { to } : {}) } as Query;
  });
const mids = fc.constantFrom("m1", "m2", "m3", "nobody");
const format = fc.constantFrom("json", "csv");
const yearMonth = fc.oneof(
  fc.constant({}),
  fc.record({ year: fc.constantFrom("2025", "2026", "2027"), month: int(1, 12) }),
  fc.record({ year: int(2000, 2100), month: int(1, 12) }),
);
type Query = Record<string, string>;
const someOf = (fields: Record<string, fc.Arbitrary<string>>) => fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Query>;
const withYearMonth = (fields: Record<string, fc.Arbitrary<string>>) =>
  fc.tuple(yearMonth, someOf(fields)).map(([ym, rest]) => ({ ...rest, ...ym }) as Query);

interface RouteSpec {
  path: string;
  schema: z.ZodType;
  /** Queries that are mostly well formed, so that most of them reach the database. */
  valid: fc.Arbitrary<Query>;
  /** Every parameter the route takes, for the noisy queries. */
  keys: string[];
}

const ROUTES: RouteSpec[] = [
  {
    path: "/api/merchants",
    schema: MerchantListResponse,
    valid: someOf({
      page: int(1, 4),
      perPage: int(1, 500),
      status: fc.constantFrom("open", "Closed", "%", "_"),
      processor: fc.constantFrom("tsys", "x"),
      group: fc.constantFrom("west", "West"),
      q: fc.constantFrom("m", "%", "_", "\\", 'Two, "', "ü"),
      sort: fc.constantFrom("name", "mid", "modified", "opened", "volume", "net"),
      dir: fc.constantFrom("asc", "desc"),
      format,
    }),
    keys: ["page", "perPage", "status", "processor", "group", "q", "sort", "dir", "format"],
  },
  {
    path: "/api/merchants/compare",
    schema: CompareResponse,
    valid: someOf({ mids: fc.array(fc.constantFrom("m1", "m2", "m3"), { minLength: 1, maxLength: 10 }).map((a) => a.join(",")), format }),
    keys: ["mids", "format"],
  },
  {
    path: "/api/residuals",
    schema: ResidualListResponse,
    valid: withYearMonth({ processorId: int(0, 3), mid: mids, page: int(1, 3), perPage: int(1, 500), format }),
    keys: ["year", "month", "processorId", "mid", "page", "perPage", "format"],
  },
  { path: "/api/residuals/summary", schema: ResidualSummaryResponse, valid: withYearMonth({ format }), keys: ["year", "month", "format"] },
  {
    path: "/api/volumes",
    schema: VolumeResponse,
    valid: fc
      .tuple(range, someOf({ mid: fc.constantFrom("m1", "m2"), granularity: fc.constantFrom("day", "month"), format }))
      .map(([r, rest]) => ({ ...rest, ...r })),
    keys: ["mid", "from", "to", "granularity", "format"],
  },
  { path: "/api/analytics/summary", schema: SummaryResponse, valid: withYearMonth({}), keys: ["year", "month"] },
  {
    path: "/api/analytics/trend",
    schema: TrendResponse,
    valid: fc.tuple(range, someOf({ granularity: fc.constantFrom("month", "quarter", "year"), format })).map(([r, rest]) => ({ ...rest, ...r })),
    keys: ["from", "to", "granularity", "format"],
  },
  {
    path: "/api/analytics/top-merchants",
    schema: TopMerchantsResponse,
    valid: withYearMonth({
      by: fc.constantFrom("volume", "net", "bps"),
      limit: int(1, 100),
      minVolume: fc.constantFrom("0", "10", "1000.5", "99999999999.99"),
      format,
    }),
    keys: ["year", "month", "by", "limit", "minVolume", "format"],
  },
];

/** Any of the route's keys (and some strangers) with any text, some repeated. */
function noisy(spec: RouteSpec): fc.Arbitrary<string> {
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...spec.keys) }, fc.constantFrom("x", "page[]", "Sort", "sort ", ""));
  return fc.array(fc.tuple(key, noise), { maxLength: 5 }).map((pairs) => new URLSearchParams(pairs).toString());
}

function queryFor(spec: RouteSpec): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: spec.valid.map((q) => new URLSearchParams(q).toString()) }, { weight: 2, arbitrary: noisy(spec) });
}

/** Sends one request and checks the answer; returns its status. */
async function check(path: string, schema: z.ZodType | undefined, accept?: string): Promise<number> {
  const res = await app.request(path, { headers: { ...tokenHeaders("portal"), ...(accept ? { Accept: accept } : {}) } }, f.env);
  const text = await res.text();
  expect([200, 400, 404], `${path} → ${res.status} ${text.slice(0, 300)}`).toContain(res.status);
  if ((res.headers.get("Content-Type") ?? "").startsWith("text/csv")) {
    expect(res.status).toBe(200);
    return res.status;
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  if (res.status !== 200) expect(typeof body.error).toBe("string");
  else if (schema) schema.parse(body);
  return res.status;
}

describe("fuzzed query parameters", () => {
  for (const spec of ROUTES) {
    it(`never make GET ${spec.path} fail with a 5xx, and its 200s match the documented schema`, async () => {
      const statuses: number[] = [];
      await fc.assert(
        fc.asyncProperty(queryFor(spec), fc.constantFrom(undefined, undefined, "text/csv"), async (query, accept) => {
          statuses.push(await check(`${spec.path}?${query}`, spec.schema, accept));
        }),
        { numRuns: RUNS },
      );
      // The generator must reach the database too, not only the validator.
      expect(statuses.filter((s) => s === 200).length, statuses.join(",")).toBeGreaterThanOrEqual(2);
    }, TIMEOUT_MS);
  }

  it("never make GET /api/merchants/:mid fail, whatever the mid", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mids, fc.string({ minLength: 1, maxLength: 80 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 })), async (mid) => {
        await check(`/api/merchants/${encodeURIComponent(mid)}`, MerchantDetailResponse);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  it("never fail on a raw, possibly malformed query string", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES.map((r) => r.path)), fc.string({ maxLength: 40 }), async (path, raw) => {
        await check(`${path}?${raw.replace(/#/g, "%23")}`, undefined);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);
});
