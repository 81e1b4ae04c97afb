import type { AcquireDecision, BreakerSettings, CallOutcome, Permit } from "../resilience/breaker-transitions.ts";
import type { Clock } from "../resilience/clock.ts";
import type { Logger } from "../resilience/log.ts";
import type { BreakerGate } from "../resilience/resilient-fetch.ts";
import type { BreakerCall, BreakerView, CircuitBreaker } from "./circuit-breaker.ts";

/**
 * What this isolate last learned about each upstream's circuit. Only "open until T" is trusted locally: while it
 * holds, calls are refused without a round trip to the Durable Object.
 */
const knownOpenUntil = new Map<string, number>();
/** Calls refused here without asking the Durable Object; handed over with the next call that does ask. */
const unreportedRejections = new Map<string, number>();

export interface BreakerClientOptions {
  namespace: DurableObjectNamespace<CircuitBreaker>;
  /** The upstream's name; one Durable Object per name. */
  upstream: string;
  settings: BreakerSettings;
  clock: Clock;
  log: Logger;
  /** Lets outcomes be reported after the response (ctx.waitUntil); without it they are awaited. */
  defer?: (work: Promise<unknown>) => void;
}

export class BreakerClient implements BreakerGate {
  private readonly options: BreakerClientOptions;
  private readonly stub: DurableObjectStub<CircuitBreaker>;

  constructor(options: BreakerClientOptions) {
    this.options = options;
    this.stub = options.namespace.get(options.namespace.idFromName(options.upstream));
  }

  async acquire(): Promise<AcquireDecision> {
    const { upstream, clock, settings } = this.options;
    const now = clock.now();
    const openUntil = knownOpenUntil.get(upstream);
    if (openUntil !== undefined && now < openUntil) {
      unreportedRejections.set(upstream, (unreportedRejections.get(upstream) ?? 0) + 1);
      return { allowed: false, retryAfterMs: openUntil - now, status: "open" };
    }
    try {
      const { view, ...decision } = await this.stub.acquire(this.call(), settings);
      this.remember(view);
      return decision as AcquireDecision;
    } catch (error) {
      // The breaker guards IRIS; it must not become a second thing that can take us down. Fail open.
      this.options.log("circuit.unreachable", { upstream, error: String(error) });
      return { allowed: true, permit: { kind: "normal" } };
    }
  }

  report(permit: Permit, outcome: CallOutcome): void | Promise<void> {
    const { upstream, settings } = this.options;
    const work = this.stub.report(this.call(), settings, outcome).then(
      (view) => {
        this.remember(view);
      },
      (error: unknown) => this.options.log("circuit.unreachable", { upstream, error: String(error) }),
    );
    if (this.options.defer && permit.kind === "normal") {
      this.options.defer(work);
      return;
    }
    // A probe's result is awaited: the caller that probed should see the circuit it just closed or reopened.
    return work;
  }

  async snapshot(): Promise<BreakerView> {
    return this.remember(await this.stub.snapshot(this.call()));
  }

  async open(seconds: number): Promise<BreakerView> {
    return this.remember(await this.stub.open(this.call(), seconds));
  }

  async reset(): Promise<BreakerView> {
    return this.remember(await this.stub.reset(this.call()));
  }

  /** The call's identity and time, carrying this isolate's unreported local rejections along. */
  private call(): BreakerCall {
    const { upstream, clock } = this.options;
    const rejectedLocally = unreportedRejections.get(upstream) ?? 0;
    unreportedRejections.delete(upstream);
    return { upstream, now: clock.now(), rejectedLocally };
  }

  private remember(view: BreakerView): BreakerView {
    if (view.status === "open" && view.openUntil !== null) knownOpenUntil.set(this.options.upstream, view.openUntil);
    else knownOpenUntil.delete(this.options.upstream);
    return view;
  }
}

/** Names the breaker after the upstream's host and base path, so each IRIS instance has its own circuit. */
export function upstreamName(irisBaseUrl: string): string {
  const url = new URL(irisBaseUrl);
  return `${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
