import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { BreakerClient, upstreamName } from "../src/breaker/breaker-client.ts";
import { SyncFixture, duplicates } from "./support/sync.ts";

const fixtures: SyncFixture[] = [];
afterAll(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
});

async function fixture(options: Parameters<typeof SyncFixture.create>[0]): Promise<SyncFixture> {
  const fx = await SyncFixture.create(options);
  fixtures.push(fx);
  return fx;
}

async function failedUnits(fx: SyncFixture, runId: string): Promise<number> {
  const [row] = await fx.select<{ n: string }>(sql`select count(*)::text as n from sync_units where run_id = ${runId} and status = 'failed'`);
  return Number(row?.n ?? 0);
}

describe("syncing through faults", { timeout: 120_000 }, () => {
  it("converges to the exact dataset under chaos (5xx, hangs, 429 bursts, cut bodies), without duplicates", async () => {
    // Hung requests are abandoned after a short real timeout; every other wait runs on the fake clock.
    const fx = await fixture({
      sandbox: { size: "tiny", seed: 3, faults: "chaos" },
      env: { IRIS_TIMEOUT_MS: "150" },
      realTimeouts: true,
    });
    const statuses: string[] = [];
    let converged = false;
    for (let attempt = 0; attempt < 6 && !converged; attempt++) {
      const { runId, status } = await fx.run({ dataType: "all", mode: attempt === 0 ? "full" : "incremental" });
      statuses.push(status);
      const failed = await failedUnits(fx, runId);
      // A run that lost units is never reported as a success.
      expect(status).toBe(failed > 0 ? "partial" : "succeeded");
      if (status === "succeeded") {
        const { expected, actual } = await fx.snapshots();
        converged = JSON.stringify(actual) === JSON.stringify(expected);
      }
    }
    expect(statuses).toContain("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(actual).toEqual(expected);
    for (const list of Object.values(actual)) expect(duplicates(list)).toBe(0);

    const stats = await fx.sandbox.stats();
    const faults = stats.faults as Record<string, number>;
    expect(faults.error ?? 0).toBeGreaterThan(10);
    expect(faults.hang ?? 0).toBeGreaterThan(0);
    expect(faults.burst ?? 0).toBeGreaterThan(0);
    expect(stats.maxPerInvocation as number).toBeLessThanOrEqual(fx.config.sync.subrequestBudget);
  });

  it("ends a run with failed units partial, records each unit's error, and a clean rerun repairs it", async () => {
    // No retries and one request in three failing: some units must fail.
    const fx = await fixture({
      sandbox: { size: "tiny", seed: 9, faults: { errorRate: 0.35 } },
      env: { IRIS_MAX_RETRIES: "0", IRIS_CIRCUIT_MAX_FAILURES: "1000" },
    });
    const first = await fx.run({ dataType: "all", mode: "full" });
    expect(first.status).toBe("partial");
    const failed = await fx.select<{ stream: string; error: string }>(
      sql`select stream, error from sync_units where run_id = ${first.runId} and status = 'failed'`,
    );
    expect(failed.length).toBeGreaterThan(0);
    for (const unit of failed) expect(unit.error).toMatch(/IRIS API unavailable \(retries_exhausted, last failure: server\)/);
    const streams = await fx.streams(first.runId);
    for (const [name, s] of Object.entries(streams)) {
      const failedHere = failed.filter((f) => f.stream === name).length;
      expect(s.units_failed).toBe(failedHere);
      expect(s.status).toBe(failedHere > 0 ? "partial" : "succeeded");
      expect(s.units_done as number + (s.units_failed as number)).toBe(s.units_total);
    }
    const [run] = await fx.select<{ error: string | null }>(sql`select error from sync_runs where id = ${first.runId}`);
    expect(run?.error).toMatch(/failed units/);

    await fx.sandbox.setFaults("none");
    const second = await fx.run({ dataType: "all", mode: "full" });
    expect(second.status).toBe("succeeded");
    const { expected, actual } = await fx.snapshots();
    expect(actual).toEqual(expected);
  });

  it("leaves units pending while the circuit is open, then finishes them once it closes", async () => {
    const fx = await fixture({ sandbox: { size: "tiny", seed: 4 } });
    const breaker = new BreakerClient({
      namespace: fx.env.CIRCUIT_BREAKER,
      upstream: upstreamName(fx.config.irisBaseUrl),
      settings: { maxFailures: 5, resetMs: 60_000, probeLeaseMs: 30_000 },
      clock: fx.clock,
      log: () => undefined,
    });
    await breaker.open(60);
    const runId = await fx.start({ dataType: "merchants", mode: "full" });
    const [unit] = await fx.claimable();
    const waiting = await fx.execute(unit!);
    expect(waiting).toMatchObject({ outcome: "circuit-open" });
    expect(waiting.outcome === "circuit-open" && waiting.retryAfterSeconds).toBeGreaterThan(0);
    const [row] = await fx.select<{ status: string; error: string | null }>(sql`select status, error from sync_units where id = ${unit!}`);
    expect(row).toEqual({ status: "pending", error: null });
    expect((await fx.sandbox.stats()).total).toBe(0);

    fx.fake.advance(60_000);
    await fx.drain();
    expect(await fx.runStatus(runId)).toBe("succeeded");
  });
});
