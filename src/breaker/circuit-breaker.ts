import { DurableObject } from "cloudflare:workers";
import {
  type AcquireDecision,
  type BreakerSettings,
  type BreakerState,
  type CallOutcome,
  type Step,
  type Transition,
  acquire,
  countLocalRejections,
  forceClose,
  forceOpen,
  initialBreakerState,
  report,
  settle,
} from "../resilience/breaker-transitions.ts";

/** Who is calling and when, by the caller's clock, plus the calls its isolate refused on its own since last time. */
export interface BreakerCall {
  upstream: string;
  now: number;
  rejectedLocally?: number;
}

export interface BreakerView {
  upstream: string;
  status: BreakerState["status"];
  consecutiveFailures: number;
  openUntil: number | null;
  /** Seconds until a probe may be sent; 0 when calls go through. */
  retryAfterSeconds: number;
  probe: BreakerState["probe"];
  counters: BreakerState["counters"];
}

/**
 * One circuit per IRIS upstream, shared by every isolate. A Durable Object runs one call at a time, so the
 * half-open lease is handed to exactly one caller worldwide. State is kept in the object's SQLite storage so it
 * outlives restarts. Callers pass their clock's `now`, which keeps the object free of its own notion of time.
 */
export class CircuitBreaker extends DurableObject<Env> {
  private state: BreakerState = initialBreakerState();
  private upstream = "";
  /** What storage holds now; a step that changes nothing (a call let through while closed) writes nothing. */
  private saved = "";

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS breaker (id INTEGER PRIMARY KEY CHECK (id = 1), upstream TEXT NOT NULL, state TEXT NOT NULL)",
      );
      const row = ctx.storage.sql.exec<{ upstream: string; state: string }>("SELECT upstream, state FROM breaker WHERE id = 1").toArray()[0];
      if (row) {
        this.upstream = row.upstream;
        this.state = { ...initialBreakerState(), ...(JSON.parse(row.state) as BreakerState) };
        this.saved = `${row.upstream}\n${row.state}`;
      }
    });
  }

  acquire(call: BreakerCall, settings: BreakerSettings): AcquireDecision & { view: BreakerView } {
    this.absorb(call);
    const step = this.apply(call.upstream, acquire(this.state, call.now, settings, crypto.randomUUID()));
    return { ...step.result, view: this.view(call.now) };
  }

  report(call: BreakerCall, settings: BreakerSettings, outcome: CallOutcome): BreakerView {
    this.absorb(call);
    this.apply(call.upstream, report(this.state, call.now, settings, outcome));
    return this.view(call.now);
  }

  snapshot(call: BreakerCall): BreakerView {
    this.absorb(call);
    this.apply(call.upstream, settle(this.state, call.now));
    return this.view(call.now);
  }

  open(call: BreakerCall, seconds: number): BreakerView {
    this.absorb(call);
    this.apply(call.upstream, forceOpen(this.state, call.now, seconds * 1000));
    return this.view(call.now);
  }

  reset(call: BreakerCall): BreakerView {
    this.absorb(call);
    this.apply(call.upstream, forceClose(this.state, call.now));
    return this.view(call.now);
  }

  private absorb(call: BreakerCall): void {
    if (call.rejectedLocally) this.state = countLocalRejections(this.state, call.rejectedLocally).state;
  }

  private apply<T>(upstream: string, step: Step<T>): Step<T> {
    this.upstream = upstream;
    this.state = step.state;
    const json = JSON.stringify(step.state);
    if (`${upstream}\n${json}` !== this.saved) {
      this.ctx.storage.sql.exec(
        "INSERT INTO breaker (id, upstream, state) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET upstream = excluded.upstream, state = excluded.state",
        upstream,
        json,
      );
      this.saved = `${upstream}\n${json}`;
    }
    for (const t of step.transitions) logTransition(upstream, t);
    return step;
  }

  private view(now: number): BreakerView {
    const s = this.state;
    let waitMs = 0;
    if (s.status === "open" && s.openUntil !== null) waitMs = s.openUntil - now;
    else if (s.status === "half_open" && s.probe && s.probe.expiresAt > now) waitMs = s.probe.expiresAt - now;
    return {
      upstream: this.upstream,
      status: s.status,
      consecutiveFailures: s.consecutiveFailures,
      openUntil: s.openUntil,
      retryAfterSeconds: waitMs > 0 ? Math.ceil(waitMs / 1000) : 0,
      probe: s.probe,
      counters: s.counters,
    };
  }
}

function logTransition(upstream: string, t: Transition): void {
  console.log(
    JSON.stringify({
      level: t.to === "open" ? "warn" : "info",
      event: "circuit.transition",
      upstream,
      from: t.from,
      to: t.to,
      reason: t.reason,
      at: new Date(t.at).toISOString(),
    }),
  );
}
