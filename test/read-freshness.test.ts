import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { FRESHNESS_LIMITS_MS, freshnessReport, verdictFor, worstVerdict } from "../src/read/freshness.ts";
import { FakeClock } from "./support/fake-clock.ts";
import { type Fixture, clearSyncs, fixtureDb, recordSync, tokenHeaders } from "./support/read-fixtures.ts";

const HOUR = 3_600_000;
const SYNCED = Date.parse("2026-12-01T00:00:00Z");

describe("verdictFor", () => {
  it.each([
    [0, "fresh"],
    [24 * HOUR - 1, "fresh"],
    [24 * HOUR, "recent"],
    [72 * HOUR - 1, "recent"],
    [72 * HOUR, "aging"],
    [7 * 24 * HOUR - 1, "aging"],
    [7 * 24 * HOUR, "stale"],
    [400 * 24 * HOUR, "stale"],
  ])("calls data %i ms old %s", (age, verdict) => {
    expect(verdictFor(new Date(SYNCED), SYNCED + age)).toBe(verdict);
  });

  it("calls never-synced data stale and a sync stamped in the future fresh", () => {
    expect(verdictFor(null, SYNCED)).toBe("stale");
    expect(verdictFor(new Date(SYNCED + HOUR), SYNCED)).toBe("fresh");
  });

  it("uses the documented limits", () => {
    expect(FRESHNESS_LIMITS_MS).toEqual({ fresh: 86_400_000, recent: 259_200_000, aging: 604_800_000 });
  });

  it("reports the worst verdict of the streams", () => {
    expect(worstVerdict(["fresh", "aging", "recent"])).toBe("aging");
    expect(worstVerdict(["fresh"])).toBe("fresh");
    const report = freshnessReport(
      new Map([
        ["merchants", new Date(SYNCED)],
        ["volumes", null],
      ]),
      SYNCED + 90_000,
    );
    expect(report).toEqual({
      verdict: "stale",
      checkedAt: "2026-12-01T00:01:30.000Z",
      streams: {
        merchants: { lastSyncedAt: "2026-12-01T00:00:00.000Z", ageSeconds: 90, verdict: "fresh" },
        volumes: { lastSyncedAt: null, ageSeconds: null, verdict: "stale" },
      },
    });
  });
});

describe("freshness in answers", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixtureDb();
  });
  afterAll(async () => {
    await f?.database.end();
  });

  async function freshnessAt(now: number, path = "/api/residuals") {
    const app = createApp({ clock: new FakeClock({ start: now }) });
    const res = await app.request(path, { headers: tokenHeaders("portal") }, f.env);
    expect(res.status).toBe(200);
    return (await res.json<{ freshness: ReturnType<typeof freshnessReport> }>()).freshness;
  }

  it("moves from fresh to recent, aging and stale as the pinned clock passes 24 h, 72 h and 7 days", async () => {
    await clearSyncs(f.db);
    await recordSync(f.db, "residuals", new Date(SYNCED));
    const seen = [];
    for (const hours of [1, 23.9, 24, 71, 72, 167, 168]) seen.push((await freshnessAt(SYNCED + hours * HOUR)).verdict);
    expect(seen).toEqual(["fresh", "fresh", "recent", "recent", "aging", "aging", "stale"]);
    expect((await freshnessAt(SYNCED + 2 * HOUR)).streams.residuals).toEqual({
      lastSyncedAt: "2026-12-01T00:00:00.000Z",
      ageSeconds: 7200,
      verdict: "fresh",
    });
  });

  it("counts only streams that succeeded: a later partial or failed run does not refresh the data", async () => {
    await clearSyncs(f.db);
    await recordSync(f.db, "residuals", new Date(SYNCED - 80 * HOUR));
    await recordSync(f.db, "residuals", new Date(SYNCED - 2 * HOUR), "partial");
    await recordSync(f.db, "residuals", new Date(SYNCED - HOUR), "failed");
    const freshness = await freshnessAt(SYNCED);
    expect(freshness.streams.residuals).toEqual({ lastSyncedAt: "2026-11-27T16:00:00.000Z", ageSeconds: 80 * 3600, verdict: "aging" });
  });

  it("takes the newest successful sync of each stream, and calls a never-synced stream stale", async () => {
    await clearSyncs(f.db);
    await recordSync(f.db, "merchants", new Date(SYNCED - 30 * HOUR));
    await recordSync(f.db, "merchants", new Date(SYNCED - 3 * HOUR));
    await recordSync(f.db, "residuals", new Date(SYNCED - 50 * HOUR));
    const freshness = await freshnessAt(SYNCED, "/api/analytics/summary");
    expect(freshness.streams).toEqual({
      residuals: { lastSyncedAt: "2026-11-28T22:00:00.000Z", ageSeconds: 50 * 3600, verdict: "recent" },
      volumes: { lastSyncedAt: null, ageSeconds: null, verdict: "stale" },
      merchants: { lastSyncedAt: "2026-11-30T21:00:00.000Z", ageSeconds: 3 * 3600, verdict: "fresh" },
    });
    expect(freshness.verdict).toBe("stale");
    expect(freshness.checkedAt).toBe("2026-12-01T00:00:00.000Z");
  });

  it("names only the streams an answer draws on", async () => {
    await clearSyncs(f.db);
    const streams = async (path: string) => Object.keys((await freshnessAt(SYNCED, path)).streams).sort();
    expect(await streams("/api/residuals")).toEqual(["residuals"]);
    expect(await streams("/api/volumes")).toEqual(["volumes"]);
    expect(await streams("/api/volumes?granularity=month")).toEqual(["residuals"]);
    expect(await streams("/api/merchants")).toEqual(["merchants", "residuals"]);
    expect(await streams("/api/analytics/trend")).toEqual(["merchants", "residuals"]);
  });

  it("carries the verdict in headers on CSV answers", async () => {
    await clearSyncs(f.db);
    await recordSync(f.db, "residuals", new Date(SYNCED - 30 * HOUR));
    const app = createApp({ clock: new FakeClock({ start: SYNCED }) });
    const res = await app.request("/api/residuals?format=csv", { headers: tokenHeaders("portal") }, f.env);
    expect(res.headers.get("X-Data-Freshness")).toBe("recent");
    expect(res.headers.get("X-Data-Freshness-Streams")).toBe("residuals=recent;2026-11-29T18:00:00.000Z");
  });
});
