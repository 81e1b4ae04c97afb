import { describe, expect, it } from "vitest";
import { coalesceSeconds, planWebhook } from "../src/webhooks/events.ts";
import { redeliveryDelaySeconds } from "../src/resilience/backoff.ts";

const report = (year: number | string, month: number | string, processorId = 1, revision = 1) => ({
  id: 1,
  month,
  year,
  processor_id: processorId,
  processor_name: "P",
  revision,
  sum_volume: 1,
  sum_net: 1,
  sum_agent_net: 1,
  created: "2026-10-01T00:00:00+00:00",
});

describe("planning what a delivery asks for", () => {
  it("re-syncs each month a published report names, once per month and in order", () => {
    const planned = planWebhook("residuals.report.published", {
      reports: [report(2026, 9, 1), report(2026, 8, 2), report("2026", "9", 2, 3)],
    });
    expect(planned).toEqual({ ok: true, plan: { action: "residuals", months: [{ year: 2026, month: 8 }, { year: 2026, month: 9 }] } });
  });

  it("refuses a published report without a usable month, naming the problem", () => {
    const planned = planWebhook("residuals.report.published", { reports: [report(2026, 13)] });
    expect(planned.ok).toBe(false);
    if (!planned.ok) expect(planned.problems[0]!.path).toBe("data");
  });

  it("ignores a publication that names no report", () => {
    expect(planWebhook("residuals.report.published", { reports: [] })).toMatchObject({ ok: true, plan: { action: "ignore" } });
  });

  it("refreshes the leads a lead event names, from lead, leads[] and signatures[]", () => {
    expect(planWebhook("lead.updated", { lead: { id: 5 } })).toEqual({ ok: true, plan: { action: "leads", leadIds: [5], mids: [] } });
    expect(planWebhook("lead.created", { leads: [{ id: 6 }, { id: "7" }] })).toEqual({ ok: true, plan: { action: "leads", leadIds: [6, 7], mids: [] } });
    expect(planWebhook("lead.signature.signed", { signatures: [{ lead: { id: 8 } }] })).toEqual({ ok: true, plan: { action: "leads", leadIds: [8], mids: [] } });
    expect(planWebhook("lead.updated", { lead: null }).ok).toBe(false);
  });

  it("refreshes a TurboApp approval through its lead, or its merchant when it names no lead", () => {
    expect(planWebhook("turboapp.approved", { accounts: [{ lid: 11, mid: 123456789 }, { mid: "987" }, { lid: null, mid: null }] })).toEqual({
      ok: true,
      plan: { action: "leads", leadIds: [11], mids: ["987"] },
    });
    expect(planWebhook("turboapp.approved", { accounts: [] })).toMatchObject({ ok: true, plan: { action: "ignore" } });
    expect(planWebhook("turboapp.approved", { accounts: "x" }).ok).toBe(false);
  });

  it("answers subscription.test and ignores what the portal does not act on, whatever its data", () => {
    expect(planWebhook("subscription.test", undefined)).toEqual({ ok: true, plan: { action: "ping" } });
    for (const event of ["chargeback.added", "retrieval.updated", "residuals.lineitem.added", "ticket.created", "turboapp.declined"]) {
      const planned = planWebhook(event, { anything: ["goes"] });
      expect(planned, event).toMatchObject({ ok: true, plan: { action: "ignore" } });
    }
    const chargeback = planWebhook("chargeback.added", {});
    expect(chargeback).toMatchObject({ ok: true, plan: { action: "ignore", reason: expect.stringContaining("disputes") } });
  });
});

describe("timing", () => {
  it("waits a minute before a residual refresh so a burst shares it, less for leads, not at all otherwise", () => {
    expect(coalesceSeconds({ action: "residuals", months: [{ year: 2026, month: 1 }] })).toBe(60);
    expect(coalesceSeconds({ action: "leads", leadIds: [1], mids: [] })).toBe(10);
    expect(coalesceSeconds({ action: "ping" })).toBe(0);
  });

  it("backs off a crashing event 5 s, 10 s, 20 s ... up to 5 minutes", () => {
    expect([1, 2, 3, 4, 10].map(redeliveryDelaySeconds)).toEqual([5, 10, 20, 40, 300]);
  });
});
