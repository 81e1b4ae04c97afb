import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { configFor } from "../src/config.ts";
import { createIrisHttp } from "../src/iris/iris-http.ts";
import { IrisRejectedError, IrisUnavailableError } from "../src/resilience/errors.ts";
import { FakeClock } from "./support/fake-clock.ts";
import { type SandboxInstance, createSandboxInstance } from "./support/sandbox.ts";

const Processors = z.object({ processors: z.array(z.unknown()) });

interface Harness {
  sandbox: SandboxInstance;
  clock: FakeClock;
  logs: Array<Record<string, unknown>>;
  get(options?: { signal?: AbortSignal; deadline?: number }): Promise<{ processors: unknown[] }>;
}

async function harness(options: { overrides?: Record<string, string>; autoAdvance?: Array<"backoff" | "retry-after"> } = {}): Promise<Harness> {
  const sandbox = await createSandboxInstance();
  const clock = new FakeClock(options.autoAdvance ? { autoAdvance: options.autoAdvance } : {});
  const logs: Array<Record<string, unknown>> = [];
  const config = configFor(sandbox.env(options.overrides));
  const iris = createIrisHttp({
    config,
    namespace: env.CIRCUIT_BREAKER,
    clock,
    random: () => 0.5,
    log: (event, fields) => logs.push({ event, ...fields }),
  });
  return {
    sandbox,
    clock,
    logs,
    get: (call = {}) => iris.get("/processors", { schema: Processors, ...call }),
  };
}

/** Polls (on I/O, never a timer) until the sandbox has received `count` requests. */
async function untilSandboxSaw(sandbox: SandboxInstance, count: number): Promise<void> {
  // Workers' clock moves with I/O, so each poll moves it; give up after ten seconds of polling.
  const giveUpAt = Date.now() + 10_000;
  while (Date.now() < giveUpAt) {
    if ((await sandbox.stats()).total >= count) return;
  }
  throw new Error(`the sandbox never saw ${count} requests`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the resilient fetch", () => {
  it("retries transient failures with doubling backoff and then succeeds", async () => {
    const h = await harness();
    await h.sandbox.setFaults({ script: ["500", "503", "ok"] });
    const body = await h.get();
    expect(body.processors.length).toBeGreaterThan(0);
    expect((await h.sandbox.stats()).total).toBe(3);
    expect(h.clock.delays("backoff")).toEqual([1000, 2000]);
    expect(h.logs.filter((l) => l.event === "iris.retry")).toMatchObject([
      { attempt: 1, retry: 1, delayMs: 1000, category: "server", status: 500 },
      { attempt: 2, retry: 2, delayMs: 2000, category: "server", status: 503 },
    ]);
  });

  it("gives up after IRIS_MAX_RETRIES retries with delays of 1 s, 2 s and 4 s", async () => {
    const h = await harness();
    await h.sandbox.setFaults({ script: ["500", "500", "500", "500", "ok"] });
    await expect(h.get()).rejects.toMatchObject({ name: "IrisUnavailableError", reason: "retries_exhausted", category: "server" });
    expect((await h.sandbox.stats()).total).toBe(4);
    expect(h.clock.delays("backoff")).toEqual([1000, 2000, 4000]);
    expect(h.logs.filter((l) => l.event === "iris.call.failed")).toHaveLength(1);
  });

  it("does not retry a 4xx such as a wrong API key", async () => {
    const h = await harness({ overrides: { IRIS_API_KEY: "wrong-key" } });
    const error = await h.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrisRejectedError);
    expect((error as IrisRejectedError).status).toBe(401);
    expect((await h.sandbox.stats()).total).toBe(1);
    expect(h.clock.delays("backoff")).toEqual([]);
  });

  it("waits for a 429's Retry-After before trying again", async () => {
    const h = await harness();
    await h.sandbox.setFaults({ script: ["429:7", "ok"] });
    await h.get();
    expect(h.clock.delays("retry-after")).toEqual([7000]);
    expect((await h.sandbox.stats()).total).toBe(2);
  });

  it("never waits for a Retry-After past the caller's deadline", async () => {
    const h = await harness();
    await h.sandbox.setFaults({ script: ["429:7", "ok"] });
    const error = await h.get({ deadline: h.clock.now() + 5000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "IrisUnavailableError", reason: "deadline_exceeded", category: "rate_limited" });
    expect(h.clock.delays("retry-after")).toEqual([]);
    expect((await h.sandbox.stats()).total).toBe(1);
  });

  it("aborts a hung attempt at the timeout and retries it", async () => {
    const h = await harness({ overrides: { IRIS_TIMEOUT_MS: "2500" } });
    await h.sandbox.setFaults({ script: ["hang", "ok"] });
    const call = h.get();
    await untilSandboxSaw(h.sandbox, 1);
    await h.clock.pending("timeout");
    h.clock.advance(2500);
    const body = await call;
    expect(body.processors.length).toBeGreaterThan(0);
    expect(h.logs.filter((l) => l.event === "iris.timeout")).toMatchObject([{ attempt: 1, timeoutMs: 2500 }]);
    expect(h.logs.filter((l) => l.event === "iris.retry")).toMatchObject([{ category: "timeout" }]);
    expect((await h.sandbox.stats()).total).toBe(2);
  });

  it("stops at once when the caller aborts, during a request or while waiting to retry", async () => {
    const h = await harness({ autoAdvance: [] });
    await h.sandbox.setFaults({ script: ["hang", "500", "ok"] });
    const inFlight = new AbortController();
    const first = h.get({ signal: inFlight.signal });
    await untilSandboxSaw(h.sandbox, 1);
    inFlight.abort(new DOMException("caller gave up", "AbortError"));
    await expect(first).rejects.toMatchObject({ name: "AbortError" });

    const waiting = new AbortController();
    const second = h.get({ signal: waiting.signal });
    await h.clock.pending("backoff");
    waiting.abort(new DOMException("caller gave up", "AbortError"));
    await expect(second).rejects.toMatchObject({ name: "AbortError" });
    expect((await h.sandbox.stats()).total).toBe(2);
  });

  it("retries a body that is not JSON but not one that breaks the schema", async () => {
    const h = await harness();
    await h.sandbox.setFaults({ script: ["malformed", "ok"] });
    await h.get();
    expect((await h.sandbox.stats()).total).toBe(2);

    const strict = createIrisHttp({
      config: configFor(h.sandbox.env()),
      namespace: env.CIRCUIT_BREAKER,
      clock: h.clock,
      random: () => 0.5,
      log: () => undefined,
    });
    const before = (await h.sandbox.stats()).total;
    await expect(strict.get("/processors", { schema: z.object({ nothing: z.string() }) })).rejects.toMatchObject({
      name: "IrisSchemaError",
    });
    expect((await h.sandbox.stats()).total).toBe(before + 1);
  });

  it("retries a dropped connection", async () => {
    const h = await harness();
    await h.sandbox.setFaults({ script: ["drop", "ok"] });
    await h.get();
    expect(h.logs.filter((l) => l.event === "iris.retry")).toMatchObject([{ category: "network" }]);
  });

  it("never writes the API key to a log line", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => lines.push(args.map(String).join(" ")));
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => lines.push(args.map(String).join(" ")));
    const sandbox = await createSandboxInstance();
    await sandbox.setFaults({ script: ["500", "429:1", "hang", "ok"] });
    const clock = new FakeClock();
    const config = configFor(sandbox.env({ IRIS_TIMEOUT_MS: "1000" }));
    const iris = createIrisHttp({
      config,
      namespace: env.CIRCUIT_BREAKER,
      clock,
      random: Math.random,
      log: (event, fields) => console.log(JSON.stringify({ event, ...fields })),
    });
    const call = iris.get("/processors", { schema: Processors });
    await untilSandboxSaw(sandbox, 3);
    await clock.pending("timeout");
    clock.advance(1000);
    await call;
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join("\n")).not.toContain(sandbox.apiKey);
  });

  it("counts a call as unavailable, not rejected, once retries run out", async () => {
    const h = await harness({ overrides: { IRIS_MAX_RETRIES: "0" } });
    await h.sandbox.setFaults({ script: ["502"] });
    const error = await h.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IrisUnavailableError);
    expect((await h.sandbox.stats()).total).toBe(1);
  });
});
