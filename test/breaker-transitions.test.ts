import { describe, expect, it } from "vitest";
import {
  type BreakerSettings,
  type BreakerState,
  type CallOutcome,
  type Permit,
  acquire,
  forceClose,
  forceOpen,
  initialBreakerState,
  report,
} from "../src/resilience/breaker-transitions.ts";

const settings: BreakerSettings = { maxFailures: 3, resetMs: 60_000, probeLeaseMs: 10_000 };
const normal: Permit = { kind: "normal" };
const failed = (permit: Permit = normal): CallOutcome => ({ permit, verdict: "failure", category: "server", retries: 3, timeouts: 0 });
const succeeded = (permit: Permit = normal): CallOutcome => ({ permit, verdict: "success", retries: 0, timeouts: 0 });

function failTimes(state: BreakerState, n: number, now = 0): BreakerState {
  let s = state;
  for (let i = 0; i < n; i++) s = report(s, now, settings, failed()).state;
  return s;
}

describe("breaker transitions", () => {
  it("stay closed below the failure threshold and open on reaching it", () => {
    const below = failTimes(initialBreakerState(), 2);
    expect(below.status).toBe("closed");
    const step = report(below, 5, settings, failed());
    expect(step.state.status).toBe("open");
    expect(step.state.openUntil).toBe(5 + 60_000);
    expect(step.transitions).toEqual([{ from: "closed", to: "open", reason: "3 consecutive failed calls", at: 5 }]);
  });

  it("count only consecutive failures: a success in between starts the count again", () => {
    let s = failTimes(initialBreakerState(), 2);
    s = report(s, 0, settings, succeeded()).state;
    s = failTimes(s, 2);
    expect(s.status).toBe("closed");
    expect(s.consecutiveFailures).toBe(2);
  });

  it("ignore neutral calls such as rate limiting when counting failures", () => {
    let s = failTimes(initialBreakerState(), 2);
    s = report(s, 0, settings, { permit: normal, verdict: "neutral", category: "rate_limited", retries: 3, timeouts: 0 }).state;
    expect(s.consecutiveFailures).toBe(2);
    expect(s.counters.failuresByCategory.rate_limited).toBe(1);
  });

  it("reject calls while open, saying how long until a probe", () => {
    const open = failTimes(initialBreakerState(), 3, 1000);
    const step = acquire(open, 21_000, settings, "lease-1");
    expect(step.result).toEqual({ allowed: false, retryAfterMs: 40_000, status: "open" });
    expect(step.state.counters.rejected).toBe(1);
  });

  it("turn half-open after the reset time and hand out exactly one probe lease", () => {
    const open = failTimes(initialBreakerState(), 3, 0);
    const first = acquire(open, 60_000, settings, "lease-1");
    expect(first.transitions.map((t) => t.to)).toEqual(["half_open"]);
    expect(first.result).toEqual({ allowed: true, permit: { kind: "probe", leaseId: "lease-1", expiresAt: 70_000 } });
    const second = acquire(first.state, 60_001, settings, "lease-2");
    expect(second.result.allowed).toBe(false);
  });

  it("close when the probe succeeds and reopen when it fails", () => {
    const open = failTimes(initialBreakerState(), 3, 0);
    const probing = acquire(open, 60_000, settings, "lease-1");
    const permit = (probing.result as { permit: Permit }).permit;
    const closed = report(probing.state, 60_500, settings, succeeded(permit));
    expect(closed.state.status).toBe("closed");
    expect(closed.state.consecutiveFailures).toBe(0);
    const reopened = report(probing.state, 60_500, settings, failed(permit));
    expect(reopened.state.status).toBe("open");
    expect(reopened.state.openUntil).toBe(120_500);
  });

  it("free the breaker when a probe's lease expires, and ignore the stale probe's late answer", () => {
    const open = failTimes(initialBreakerState(), 3, 0);
    const first = acquire(open, 60_000, settings, "lease-1");
    const stalePermit = (first.result as { permit: Permit }).permit;
    const second = acquire(first.state, 70_000, settings, "lease-2");
    expect(second.result).toMatchObject({ allowed: true, permit: { kind: "probe", leaseId: "lease-2" } });
    expect(second.state.counters.expiredProbeLeases).toBe(1);
    const late = report(second.state, 70_100, settings, succeeded(stalePermit));
    expect(late.state.status).toBe("half_open");
    expect(late.state.probe?.leaseId).toBe("lease-2");
  });

  it("let a call that started while closed finish after opening without changing the state", () => {
    const open = failTimes(initialBreakerState(), 3, 0);
    const late = report(open, 10, settings, succeeded());
    expect(late.state.status).toBe("open");
    expect(late.state.counters.successes).toBe(1);
  });

  it("open and close on an operator's word", () => {
    const opened = forceOpen(initialBreakerState(), 0, 30_000);
    expect(opened.state).toMatchObject({ status: "open", openUntil: 30_000 });
    const closed = forceClose(opened.state, 10);
    expect(closed.state).toMatchObject({ status: "closed", openUntil: null, consecutiveFailures: 0 });
    expect(closed.state.counters).toMatchObject({ openEvents: 1, closeEvents: 1, lastOpenedAt: 0, lastClosedAt: 10 });
  });

  it("keep counts of calls, retries, timeouts and failures by category", () => {
    let s = initialBreakerState();
    s = report(s, 0, settings, { permit: normal, verdict: "failure", category: "timeout", retries: 2, timeouts: 3 }).state;
    s = report(s, 0, settings, succeeded()).state;
    expect(s.counters).toMatchObject({ calls: 2, successes: 1, failures: 1, retries: 2, timeouts: 3, failuresByCategory: { timeout: 1 } });
  });
});
