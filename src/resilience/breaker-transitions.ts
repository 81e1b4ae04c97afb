import type { CallVerdict, FailureCategory } from "./error-category.ts";

/**
 * The circuit breaker's every decision, as pure functions of (state, time, settings). The Durable Object only
 * stores the state and serves these; nothing here does I/O.
 */
export type CircuitStatus = "closed" | "open" | "half_open";

export interface BreakerSettings {
  maxFailures: number;
  resetMs: number;
  /** How long a half-open probe may run before its lease lapses and another caller may probe. */
  probeLeaseMs: number;
}

export interface BreakerCounters {
  calls: number;
  successes: number;
  failures: number;
  failuresByCategory: Partial<Record<FailureCategory, number>>;
  retries: number;
  timeouts: number;
  rejected: number;
  probes: number;
  expiredProbeLeases: number;
  openEvents: number;
  closeEvents: number;
  lastOpenedAt: number | null;
  lastHalfOpenedAt: number | null;
  lastClosedAt: number | null;
  lastFailureAt: number | null;
  lastSuccessAt: number | null;
}

export interface BreakerState {
  status: CircuitStatus;
  consecutiveFailures: number;
  openUntil: number | null;
  probe: { leaseId: string; expiresAt: number } | null;
  counters: BreakerCounters;
}

export interface Transition {
  from: CircuitStatus;
  to: CircuitStatus;
  reason: string;
  at: number;
}

export type Permit = { kind: "normal" } | { kind: "probe"; leaseId: string; expiresAt: number };

export type AcquireDecision =
  | { allowed: true; permit: Permit }
  | { allowed: false; retryAfterMs: number; status: CircuitStatus };

export interface CallOutcome {
  permit: Permit;
  verdict: CallVerdict;
  /** The last attempt's failure, if the call failed or was refused. */
  category?: FailureCategory;
  retries: number;
  timeouts: number;
}

export interface Step<T = undefined> {
  state: BreakerState;
  transitions: Transition[];
  result: T;
}

export function initialBreakerState(): BreakerState {
  return {
    status: "closed",
    consecutiveFailures: 0,
    openUntil: null,
    probe: null,
    counters: {
      calls: 0,
      successes: 0,
      failures: 0,
      failuresByCategory: {},
      retries: 0,
      timeouts: 0,
      rejected: 0,
      probes: 0,
      expiredProbeLeases: 0,
      openEvents: 0,
      closeEvents: 0,
      lastOpenedAt: null,
      lastHalfOpenedAt: null,
      lastClosedAt: null,
      lastFailureAt: null,
      lastSuccessAt: null,
    },
  };
}

function copy(state: BreakerState): BreakerState {
  return {
    ...state,
    probe: state.probe ? { ...state.probe } : null,
    counters: { ...state.counters, failuresByCategory: { ...state.counters.failuresByCategory } },
  };
}

function moveTo(state: BreakerState, to: CircuitStatus, now: number, reason: string, transitions: Transition[]): void {
  if (state.status === to) return;
  transitions.push({ from: state.status, to, reason, at: now });
  state.status = to;
  if (to === "open") {
    state.counters.openEvents += 1;
    state.counters.lastOpenedAt = now;
  } else if (to === "closed") {
    state.counters.closeEvents += 1;
    state.counters.lastClosedAt = now;
    state.consecutiveFailures = 0;
    state.openUntil = null;
    state.probe = null;
  } else {
    state.counters.lastHalfOpenedAt = now;
  }
}

function open(state: BreakerState, now: number, forMs: number, reason: string, transitions: Transition[]): void {
  state.openUntil = now + forMs;
  state.probe = null;
  moveTo(state, "open", now, reason, transitions);
}

/** The state as it stands at `now`: an open circuit whose time is up reads as half-open. */
export function settle(previous: BreakerState, now: number): Step {
  const state = copy(previous);
  const transitions: Transition[] = [];
  if (state.status === "open" && state.openUntil !== null && now >= state.openUntil) {
    moveTo(state, "half_open", now, "reset timeout elapsed", transitions);
  }
  return { state, transitions, result: undefined };
}

/** May a call go to IRIS now? In half-open, exactly one caller at a time gets a probe lease. */
export function acquire(
  previous: BreakerState,
  now: number,
  settings: BreakerSettings,
  newLeaseId: string,
): Step<AcquireDecision> {
  const { state, transitions } = settle(previous, now);
  if (state.status === "closed") {
    return { state, transitions, result: { allowed: true, permit: { kind: "normal" } } };
  }
  if (state.status === "open") {
    state.counters.rejected += 1;
    const retryAfterMs = Math.max(0, (state.openUntil ?? now) - now);
    return { state, transitions, result: { allowed: false, retryAfterMs, status: "open" } };
  }
  if (state.probe && state.probe.expiresAt > now) {
    state.counters.rejected += 1;
    return {
      state,
      transitions,
      result: { allowed: false, retryAfterMs: state.probe.expiresAt - now, status: "half_open" },
    };
  }
  if (state.probe) state.counters.expiredProbeLeases += 1;
  const permit = { kind: "probe" as const, leaseId: newLeaseId, expiresAt: now + settings.probeLeaseMs };
  state.probe = { leaseId: permit.leaseId, expiresAt: permit.expiresAt };
  state.counters.probes += 1;
  return { state, transitions, result: { allowed: true, permit } };
}

/** Records how a call that was let through ended, and moves the circuit accordingly. */
export function report(previous: BreakerState, now: number, settings: BreakerSettings, outcome: CallOutcome): Step {
  const { state, transitions } = settle(previous, now);
  const c = state.counters;
  c.calls += 1;
  c.retries += outcome.retries;
  c.timeouts += outcome.timeouts;
  if (outcome.verdict === "failure") {
    c.failures += 1;
    c.lastFailureAt = now;
  } else if (outcome.verdict === "success") {
    c.successes += 1;
    c.lastSuccessAt = now;
  }
  if (outcome.category) {
    c.failuresByCategory[outcome.category] = (c.failuresByCategory[outcome.category] ?? 0) + 1;
  }

  if (outcome.permit.kind === "probe") {
    // A probe whose lease lapsed and was handed to someone else no longer speaks for the circuit.
    if (state.status !== "half_open" || state.probe?.leaseId !== outcome.permit.leaseId) {
      return { state, transitions, result: undefined };
    }
    if (outcome.verdict === "success") moveTo(state, "closed", now, "probe succeeded", transitions);
    else if (outcome.verdict === "failure") open(state, now, settings.resetMs, "probe failed", transitions);
    else state.probe = null;
    return { state, transitions, result: undefined };
  }

  // A call let through while closed may finish after the circuit opened; only calls in the closed state count.
  if (state.status !== "closed") return { state, transitions, result: undefined };
  if (outcome.verdict === "success") {
    state.consecutiveFailures = 0;
  } else if (outcome.verdict === "failure") {
    state.consecutiveFailures += 1;
    if (state.consecutiveFailures >= settings.maxFailures) {
      open(state, now, settings.resetMs, `${state.consecutiveFailures} consecutive failed calls`, transitions);
    }
  }
  return { state, transitions, result: undefined };
}

/** Adds calls that isolates refused on their own, knowing the circuit was open, to the shared count. */
export function countLocalRejections(previous: BreakerState, count: number): Step {
  const state = copy(previous);
  state.counters.rejected += count;
  return { state, transitions: [], result: undefined };
}

export function forceOpen(previous: BreakerState, now: number, forMs: number): Step {
  const state = copy(previous);
  const transitions: Transition[] = [];
  if (state.status === "open") state.openUntil = now + forMs;
  else open(state, now, forMs, "opened by an operator", transitions);
  return { state, transitions, result: undefined };
}

export function forceClose(previous: BreakerState, now: number): Step {
  const state = copy(previous);
  const transitions: Transition[] = [];
  moveTo(state, "closed", now, "reset by an operator", transitions);
  state.consecutiveFailures = 0;
  state.probe = null;
  state.openUntil = null;
  return { state, transitions, result: undefined };
}
