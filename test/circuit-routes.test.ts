import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { FakeClock } from "./support/fake-clock.ts";
import { type SandboxInstance, createSandboxInstance } from "./support/sandbox.ts";

const admin = { Authorization: `Bearer ${env.ADMIN_API_TOKEN}` };
const portal = { Authorization: `Bearer ${env.PORTAL_API_TOKEN}` };

async function setup(overrides: Record<string, string> = {}) {
  const sandbox = await createSandboxInstance();
  const clock = new FakeClock();
  const app = createApp({ clock, random: () => 0.5 });
  const workerEnv = sandbox.env({ IRIS_CIRCUIT_MAX_FAILURES: "5", IRIS_CIRCUIT_RESET_SECONDS: "60", ...overrides });
  const call = (path: string, init: RequestInit = {}) => app.request(path, init, workerEnv);
  return { sandbox, clock, call };
}

async function requestsSeen(sandbox: SandboxInstance): Promise<number> {
  return (await sandbox.stats()).total;
}

describe("the circuit end to end", () => {
  it("opens after five failed pings, then answers 503 without reaching IRIS, and one probe closes it again", async () => {
    const { sandbox, clock, call } = await setup();
    await sandbox.setFaults({ errorRate: 1 });

    for (let i = 0; i < 5; i++) {
      const res = await call("/api/iris/ping", { headers: portal });
      expect(res.status).toBe(503);
    }
    // Each failed call made 1 + IRIS_MAX_RETRIES attempts.
    expect(await requestsSeen(sandbox)).toBe(20);

    const sixth = await call("/api/iris/ping", { headers: portal });
    expect(sixth.status).toBe(503);
    expect(await sixth.json()).toEqual({ error: "IRIS API unavailable" });
    expect(sixth.headers.get("Retry-After")).toBe("60");
    expect(await requestsSeen(sandbox)).toBe(20);
    expect(await (await call("/health")).json()).toEqual({ status: "ok", circuit: "open" });

    clock.advance(60_000);
    await sandbox.setFaults("none");
    expect(await (await call("/health")).json()).toEqual({ status: "ok", circuit: "half_open" });
    const probe = await call("/api/iris/ping", { headers: portal });
    expect(probe.status).toBe(200);
    expect(await requestsSeen(sandbox)).toBe(21);
    expect(await (await call("/health")).json()).toEqual({ status: "ok", circuit: "closed" });
  });

  it("reopens when the half-open probe fails", async () => {
    const { sandbox, clock, call } = await setup({ IRIS_CIRCUIT_MAX_FAILURES: "1" });
    await sandbox.setFaults({ errorRate: 1 });
    await call("/api/iris/ping", { headers: portal });
    clock.advance(60_000);
    const probe = await call("/api/iris/ping", { headers: portal });
    expect(probe.status).toBe(503);
    const circuit = await (await call("/api/circuit", { headers: admin })).json<{ status: string; counters: { openEvents: number } }>();
    expect(circuit.status).toBe("open");
    expect(circuit.counters.openEvents).toBe(2);
  });

  it("lets exactly one of twenty concurrent callers probe a half-open circuit", async () => {
    const { sandbox, clock, call } = await setup();
    await call("/api/circuit/open", { method: "POST", headers: { ...admin, "Content-Type": "application/json" }, body: JSON.stringify({ seconds: 30 }) });
    clock.advance(30_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => call("/api/iris/ping", { headers: portal })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 503)).toHaveLength(19);
    expect(await requestsSeen(sandbox)).toBe(1);
  });

  it("answers 502 with IRIS's status when IRIS refuses our key, and does not count it as an outage", async () => {
    const { sandbox, call } = await setup({ IRIS_API_KEY: "not-the-key", IRIS_CIRCUIT_MAX_FAILURES: "1" });
    const res = await call("/api/iris/ping", { headers: portal });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: "IRIS API rejected the request", status: 401 });
    expect(await requestsSeen(sandbox)).toBe(1);
    expect(await (await call("/health")).json()).toEqual({ status: "ok", circuit: "closed" });
  });

  it("lets an operator open, inspect and reset the circuit", async () => {
    const { call } = await setup();
    const json = { ...admin, "Content-Type": "application/json" };
    const opened = await call("/api/circuit/open", { method: "POST", headers: json, body: JSON.stringify({ seconds: 120 }) });
    expect(await opened.json()).toMatchObject({ status: "open", retryAfterSeconds: 120 });
    const rejected = await call("/api/iris/ping", { headers: portal });
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get("Retry-After")).toBe("120");
    const metrics = await (await call("/api/metrics", { headers: admin })).json<{ circuit: { rejected: number; openEvents: number } }>();
    expect(metrics.circuit).toMatchObject({ rejected: 1, openEvents: 1 });
    const reset = await call("/api/circuit/reset", { method: "POST", headers: admin });
    expect(await reset.json()).toMatchObject({ status: "closed" });
    expect((await call("/api/iris/ping", { headers: portal })).status).toBe(200);
  });

  it("refuses a bad body for opening the circuit with 400 and details", async () => {
    const { call } = await setup();
    const res = await call("/api/circuit/open", {
      method: "POST",
      headers: { ...admin, "Content-Type": "application/json" },
      body: JSON.stringify({ seconds: -3 }),
    });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: string; details: Array<{ path: string }> }>();
    expect(body.error).toBe("invalid json");
    expect(body.details[0]?.path).toBe("seconds");
  });
});

describe("auth", () => {
  it("answers 401 without a token or with a wrong one", async () => {
    const { call } = await setup();
    const attempts: Array<Record<string, string>> = [{}, { Authorization: "Bearer wrong-token-value" }, { Authorization: "Basic abc" }];
    for (const headers of attempts) {
      const res = await call("/api/circuit", { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
      expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
    }
  });

  it("answers 403 to the portal token on an admin route and lets it read", async () => {
    const { call } = await setup();
    expect((await call("/api/circuit", { headers: portal })).status).toBe(403);
    expect((await call("/api/metrics", { headers: portal })).status).toBe(403);
    expect((await call("/api/circuit/reset", { method: "POST", headers: portal })).status).toBe(403);
    expect((await call("/api/iris/ping", { headers: portal })).status).toBe(200);
    expect((await call("/api/circuit", { headers: admin })).status).toBe(200);
  });

  it("leaves /health public", async () => {
    const { call } = await setup();
    expect((await call("/health")).status).toBe(200);
  });

  it("answers unknown paths with a JSON 404", async () => {
    const { call } = await setup();
    const res = await call("/nowhere");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not found" });
  });
});
