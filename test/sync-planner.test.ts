import { describe, expect, it } from "vitest";
import {
  SubrequestBudget,
  irisCallsPerInvocation,
  worstCaseIrisCost,
} from "../src/sync/budget.ts";
import {
  MERCHANTS_EPOCH,
  type PlanSettings,
  chunk,
  merchantsStartDate,
  nextMerchantsPosition,
  planRun,
  residualMonths,
  volumesChunkSize,
  volumesChunkUnits,
  volumesWindow,
} from "../src/sync/planner.ts";
import { streamsFor } from "../src/sync/streams.ts";

const now = new Date("2026-12-04T12:30:00Z");
const settings: PlanSettings = {
  residualWindowMonths: 3,
  residualFirstMonth: "2026-06",
  merchantLagMinutes: 60,
  volumeWindowDays: 35,
  volumeOverlapDays: 2,
};

describe("residual months", () => {
  it("covers the last complete months in an incremental run", () => {
    expect(residualMonths({ mode: "incremental", now, windowMonths: 3, firstMonth: "2024-01" })).toEqual([
      { year: 2026, month: 9 },
      { year: 2026, month: 10 },
      { year: 2026, month: 11 },
    ]);
  });

  it("crosses a year boundary", () => {
    const january = new Date("2027-01-02T00:00:00Z");
    expect(residualMonths({ mode: "incremental", now: january, windowMonths: 2, firstMonth: "2024-01" })).toEqual([
      { year: 2026, month: 11 },
      { year: 2026, month: 12 },
    ]);
  });

  it("goes back to the first month in a full run", () => {
    const months = residualMonths({ mode: "full", now, windowMonths: 3, firstMonth: "2025-11" });
    expect(months).toHaveLength(13);
    expect(months[0]).toEqual({ year: 2025, month: 11 });
    expect(months.at(-1)).toEqual({ year: 2026, month: 11 });
  });

  it("reads only the asked month, or the complete months of the asked year", () => {
    expect(residualMonths({ mode: "incremental", now, windowMonths: 3, firstMonth: "2024-01", year: 2025, month: 2 })).toEqual([
      { year: 2025, month: 2 },
    ]);
    expect(residualMonths({ mode: "full", now, windowMonths: 3, firstMonth: "2024-01", year: 2026 })).toHaveLength(11);
  });
});

describe("merchants cursor", () => {
  it("starts an incremental run a lag before the stored cursor", () => {
    expect(merchantsStartDate({ mode: "incremental", cursor: "2026-12-04T10:15:30.000Z", lagMinutes: 60 })).toBe(
      "2026-12-04T09:15:30+00:00",
    );
  });

  it("starts from the beginning in a full run or without a cursor", () => {
    expect(merchantsStartDate({ mode: "full", cursor: "2026-12-04T10:15:30Z", lagMinutes: 60 })).toBe(MERCHANTS_EPOCH);
    expect(merchantsStartDate({ mode: "incremental", cursor: null, lagMinutes: 60 })).toBe(MERCHANTS_EPOCH);
  });

  it("restarts from the page's newest modified when it moved past the start", () => {
    const step = nextMerchantsPosition(
      { startDate: MERCHANTS_EPOCH, page: 1 },
      { maxModified: new Date("2026-01-02T03:04:05.678Z"), currentPage: 1, lastPage: 7, rows: 500 },
    );
    expect(step).toEqual({ done: false, next: { startDate: "2026-01-02T03:04:05+00:00", page: 1 } });
  });

  it("turns the page when a whole page shares the start's modified", () => {
    const start = "2026-01-02T03:04:05+00:00";
    const step = nextMerchantsPosition(
      { startDate: start, page: 2 },
      { maxModified: new Date("2026-01-02T03:04:05.900Z"), currentPage: 2, lastPage: 4, rows: 500 },
    );
    expect(step).toEqual({ done: false, next: { startDate: start, page: 3 } });
  });

  it("is done on the last page or an empty one", () => {
    const position = { startDate: MERCHANTS_EPOCH, page: 1 };
    expect(nextMerchantsPosition(position, { maxModified: new Date(), currentPage: 3, lastPage: 3, rows: 10 })).toEqual({ done: true });
    expect(nextMerchantsPosition(position, { maxModified: null, currentPage: 1, lastPage: 3, rows: 0 })).toEqual({ done: true });
  });
});

describe("volumes window", () => {
  it("covers the configured days up to today in a full run or a first run", () => {
    expect(volumesWindow({ mode: "full", cursor: "2026-12-01", now, windowDays: 35, overlapDays: 2 })).toEqual({
      start: "2026-10-30",
      end: "2026-12-04",
    });
    expect(volumesWindow({ mode: "incremental", cursor: null, now, windowDays: 35, overlapDays: 2 })).toEqual({
      start: "2026-10-30",
      end: "2026-12-04",
    });
  });

  it("reaches back two days before the last completed window in an incremental run", () => {
    expect(volumesWindow({ mode: "incremental", cursor: "2026-12-03", now, windowDays: 35, overlapDays: 2 })).toEqual({
      start: "2026-12-01",
      end: "2026-12-04",
    });
  });

  it("keeps start before end when a stored cursor lies in the future", () => {
    const w = volumesWindow({ mode: "incremental", cursor: "2027-03-01", now, windowDays: 35, overlapDays: 2 });
    expect(w.start <= w.end).toBe(true);
  });
});

describe("planning a run", () => {
  it("plans every stream of an 'all' run, the volumes plan waiting for merchants", () => {
    const plan = planRun({ streams: streamsFor("all"), mode: "incremental" }, now, { merchants: null, volumes: null }, settings);
    expect(plan.units.map((u) => u.key)).toEqual([
      "merchants-pages",
      "processors",
      "residual-summary:2026-09",
      "residual-summary:2026-10",
      "residual-summary:2026-11",
      "volumes-plan:2026-10-30:2026-12-04",
    ]);
    expect(plan.units.find((u) => u.kind === "volumes-plan")?.afterStream).toBe("merchants");
    expect(plan.units.find((u) => u.kind === "merchants-pages")?.afterStream).toBeUndefined();
  });

  it("lets a volumes-only run start at once", () => {
    const plan = planRun({ streams: ["volumes"], mode: "incremental" }, now, { merchants: null, volumes: "2026-12-03" }, settings);
    expect(plan.units).toHaveLength(1);
    expect(plan.units[0]?.afterStream).toBeUndefined();
    expect(plan.params.volumesWindow).toEqual({ start: "2026-12-01", end: "2026-12-04" });
  });

  it("refreshes processors in a full merchants run without residuals", () => {
    const plan = planRun({ streams: ["merchants"], mode: "full" }, now, { merchants: "2026-12-01T00:00:00Z", volumes: null }, settings);
    expect(plan.units.map((u) => `${u.stream}/${u.kind}`)).toEqual(["merchants/merchants-pages", "merchants/processors"]);
    expect(plan.params.merchantsFrom).toBe(MERCHANTS_EPOCH);
    expect(plan.cursorsBefore.merchants).toBe("2026-12-01T00:00:00Z");
  });

  it("gives every unit of a run a distinct key", () => {
    const plan = planRun({ streams: streamsFor("all"), mode: "full" }, now, { merchants: null, volumes: null }, settings);
    const keys = plan.units.map((u) => u.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("volumes chunks", () => {
  it("splits merchants into units of the chunk size, none lost", () => {
    const mids = Array.from({ length: 23 }, (_, i) => String(1000 + i));
    const units = volumesChunkUnits(mids, { start: "2026-12-01", end: "2026-12-04" }, 10);
    expect(units.map((u) => (u.params.kind === "volumes-chunk" ? u.params.mids.length : 0))).toEqual([10, 10, 3]);
    expect(units.flatMap((u) => (u.params.kind === "volumes-chunk" ? u.params.mids : []))).toEqual(mids);
    expect(new Set(units.map((u) => u.key)).size).toBe(3);
  });

  it("grows chunks when the units would not fit in the sends left", () => {
    expect(volumesChunkSize(1000, 25, 100)).toBe(25);
    expect(volumesChunkSize(10_000, 25, 100)).toBe(100);
  });

  it("refuses a zero chunk size", () => {
    expect(() => chunk([1, 2], 0)).toThrow(RangeError);
  });
});

describe("subrequest budget", () => {
  it("prices an IRIS call at every attempt plus the breaker's acquire and report", () => {
    expect(worstCaseIrisCost(3)).toBe(6);
    expect(worstCaseIrisCost(0)).toBe(3);
  });

  it("fits seven worst-case calls in the Free plan's fifty, with the connection and sends kept back", () => {
    expect(irisCallsPerInvocation(50, 3)).toBe(7);
    const budget = new SubrequestBudget({ limit: 50, maxRetries: 3 });
    let calls = 0;
    while (budget.canAffordIrisCall()) {
      budget.chargeIrisCall(4);
      calls += 1;
    }
    expect(calls).toBe(7);
    expect(budget.spent).toBeLessThanOrEqual(50 - 2);
  });

  it("lets cheap calls buy more calls than the worst case", () => {
    const budget = new SubrequestBudget({ limit: 50, maxRetries: 3 });
    let calls = 0;
    while (budget.canAffordIrisCall()) {
      budget.chargeIrisCall(1);
      calls += 1;
    }
    expect(calls).toBe(14);
  });

  it("reports settings that leave no room for a single call", () => {
    expect(irisCallsPerInvocation(8, 3)).toBe(0);
    expect(new SubrequestBudget({ limit: 8, maxRetries: 3 }).canAffordIrisCall()).toBe(false);
  });
});
