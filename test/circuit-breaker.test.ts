import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BreakerClient } from "../src/breaker/breaker-client.ts";
import type { BreakerSettings } from "../src/resilience/breaker-transitions.ts";
import { FakeClock } from "./support/fake-clock.ts";

const settings: BreakerSettings = { maxFailures: 2, resetMs: 30_000, probeLeaseMs: 5_000 };
const quiet = () => undefined;

function client(upstream: string, clock: FakeClock) {
  return new BreakerClient({ namespace: env.CIRCUIT_BREAKER, upstream, settings, clock, log: quiet });
}

async function openCircuit(breaker: BreakerClient) {
  for (let i = 0; i < settings.maxFailures; i++) {
    const decision = await breaker.acquire();
    if (!decision.allowed) throw new Error("expected the circuit to be closed");
    await breaker.report(decision.permit, { permit: decision.permit, verdict: "failure", category: "server", retries: 0, timeouts: 0 });
  }
}

describe("the circuit-breaker Durable Object", () => {
  it("keeps its state across a restart of the object", async () => {
    const upstream = `restart-${crypto.randomUUID()}`;
    const clock = new FakeClock();
    await openCircuit(client(upstream, clock));
    const stub = env.CIRCUIT_BREAKER.get(env.CIRCUIT_BREAKER.idFromName(upstream));
    await evictDurableObject(stub);
    const view = await stub.snapshot({ upstream, now: clock.now() });
    expect(view.status).toBe("open");
    expect(view.counters.openEvents).toBe(1);
    expect(view.counters.failures).toBe(2);
  });

  it("is one state: opened through one client, it rejects calls from another", async () => {
    const upstream = `shared-${crypto.randomUUID()}`;
    const clock = new FakeClock();
    await openCircuit(client(upstream, clock));
    // A second stub, built from a fresh id lookup, stands for another isolate.
    const otherIsolate = env.CIRCUIT_BREAKER.get(env.CIRCUIT_BREAKER.idFromName(upstream));
    const decision = await otherIsolate.acquire({ upstream, now: clock.now() }, settings);
    expect(decision.allowed).toBe(false);
  });

  it("gives exactly one of twenty concurrent callers the half-open probe", async () => {
    const upstream = `probe-${crypto.randomUUID()}`;
    const clock = new FakeClock();
    await openCircuit(client(upstream, clock));
    clock.advance(settings.resetMs);
    const decisions = await Promise.all(Array.from({ length: 20 }, () => client(upstream, clock).acquire()));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(1);
    expect(decisions.filter((d) => !d.allowed && d.status === "half_open")).toHaveLength(19);
  });

  it("hands the probe to someone else once a dead probe's lease expires", async () => {
    const upstream = `lease-${crypto.randomUUID()}`;
    const clock = new FakeClock();
    await openCircuit(client(upstream, clock));
    clock.advance(settings.resetMs);
    const first = await client(upstream, clock).acquire();
    expect(first.allowed).toBe(true);
    expect((await client(upstream, clock).acquire()).allowed).toBe(false);
    clock.advance(settings.probeLeaseMs);
    const second = await client(upstream, clock).acquire();
    expect(second).toMatchObject({ allowed: true, permit: { kind: "probe" } });
  });
});
