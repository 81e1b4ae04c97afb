import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decideFault, FAULT_PROFILES, resolveFaults, type FaultSettings } from "../../dev/sandbox/faults.ts";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index.ts";
import { mulberry32 } from "../../dev/sandbox/prng.ts";
import { control, FIXED_NOW, iris } from "./support.ts";

describe("fault decisions", () => {
  const draws = (rng: () => number): [number, number, number, number] => [rng(), rng(), rng(), rng()];

  it("inject each kind at about its configured rate", () => {
    const settings = resolveFaults({ errorRate: 0.2, hangRate: 0.05, dropRate: 0.05, malformedRate: 0.1 });
    const rng = mulberry32(42);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const kind = decideFault(settings, i, draws(rng)).kind;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    expect(counts.error! / 20_000).toBeCloseTo(0.2, 1);
    expect(counts.hang! / 20_000).toBeCloseTo(0.05, 1);
    expect(counts.drop! / 20_000).toBeCloseTo(0.05, 1);
    expect(counts.malformed! / 20_000).toBeCloseTo(0.1, 1);
    expect(counts.none! / 20_000).toBeCloseTo(0.6, 1);
  });

  it("answer 429 bursts at fixed positions and 503 for every request in an outage", () => {
    const burst = resolveFaults({ rateLimitBurst: { every: 3, length: 2, retryAfterSeconds: 2 } });
    const kinds = Array.from({ length: 10 }, (_, i) => decideFault(burst, i, [0.9, 0, 0, 0]));
    expect(kinds.map((d) => d.kind)).toEqual(["none", "none", "none", "burst", "burst", "none", "none", "none", "burst", "burst"]);
    expect(kinds[3]).toMatchObject({ status: 429, retryAfterSeconds: 2 });
    const outage = resolveFaults("outage");
    expect(decideFault(outage, 5, [0.9, 0, 0, 0])).toMatchObject({ kind: "outage", status: 503 });
  });

  it("draw latency inside the configured range", () => {
    const settings: FaultSettings = { ...FAULT_PROFILES.none, latencyMs: { min: 5, max: 9 } };
    expect(decideFault(settings, 0, [0.9, 0, 0, 0]).latencyMs).toBe(5);
    expect(decideFault(settings, 0, [0.9, 0, 0, 0.9999]).latencyMs).toBe(9);
  });

  it("refuse settings that cannot work", () => {
    expect(() => resolveFaults("sometimes")).toThrow(/unknown fault profile/);
    expect(() => resolveFaults({ errorRate: 2 })).toThrow();
    expect(() => resolveFaults({ errorRate: 0.6, hangRate: 0.6 })).toThrow(/exceed 1/);
    expect(() => resolveFaults({ rateLimitBurst: { every: 0, length: 1 } })).toThrow();
  });
});

describe("faults over HTTP", () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox({ size: "tiny", now: FIXED_NOW });
  });

  afterAll(async () => {
    await sb.close();
  });

  async function instance(options: Record<string, unknown>): Promise<{ baseUrl: string; controlUrl: string; apiKey: string }> {
    const created = await control(`${sb.url}/_control`, "POST", "/instances", options);
    expect(created.status).toBe(201);
    return created.json;
  }

  /** What happened to each of `n` sequential requests: a status, "dropped" or "malformed". */
  async function outcomes(inst: { baseUrl: string; apiKey: string }, n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      try {
        const a = await iris(inst.baseUrl, "/processors", inst.apiKey);
        out.push(a.status === 200 && a.json === undefined ? "malformed" : String(a.status));
      } catch {
        out.push("dropped");
      }
    }
    return out;
  }

  const noisy = { errorRate: 0.3, dropRate: 0.1, malformedRate: 0.1, rateLimitBurst: { every: 7, length: 2 } };

  it("follow the seed: the same seed replays the same sequence, another seed gives another", async () => {
    const [a, b, c] = await Promise.all([
      instance({ seed: 11, faults: noisy }),
      instance({ seed: 11, faults: noisy }),
      instance({ seed: 12, faults: noisy }),
    ]);
    const [sa, sb2, sc] = [await outcomes(a, 40), await outcomes(b, 40), await outcomes(c, 40)];
    expect(sa).toEqual(sb2);
    expect(sa).not.toEqual(sc);
    for (const kind of ["200", "429", "dropped", "malformed"]) expect(sa, kind).toContain(kind);
    expect(sa.some((s) => ["500", "502", "503", "504"].includes(s))).toBe(true);
  });

  it("restart their sequence when set again at run time", async () => {
    const inst = await instance({ seed: 5 });
    await control(inst.controlUrl, "PUT", "/faults", noisy);
    const first = await outcomes(inst, 20);
    await control(inst.controlUrl, "PUT", "/faults", noisy);
    expect(await outcomes(inst, 20)).toEqual(first);
    const state = await control(inst.controlUrl, "GET", "/faults");
    expect(state.json.requests).toBe(20);
    expect(state.json.settings).toMatchObject({ errorRate: 0.3, dropRate: 0.1 });
  });

  it("accept a profile name at run time and never touch the control API", async () => {
    const inst = await instance({});
    expect((await control(inst.controlUrl, "PUT", "/faults", "outage")).status).toBe(200);
    const a = await iris(inst.baseUrl, "/processors", inst.apiKey);
    expect(a.status).toBe(503);
    expect((await control(inst.controlUrl, "GET", "/stats")).status).toBe(200);
    expect((await control(inst.controlUrl, "PUT", "/faults", { profile: "none" })).status).toBe(200);
    expect((await iris(inst.baseUrl, "/processors", inst.apiKey)).status).toBe(200);
  });

  it("answer gateway errors as HTML, like the proxy in front of IRIS", async () => {
    const inst = await instance({ faults: { errorRate: 1 } });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const a = await iris(inst.baseUrl, "/processors", inst.apiKey);
      seen.add(`${a.status} ${a.headers.get("content-type")}`);
    }
    expect(seen).toContain("502 text/html");
    expect(seen).toContain("500 application/json");
  });

  it("hang until the client gives up, and count the hang", async () => {
    const inst = await instance({ faults: { hangRate: 1 } });
    const controller = new AbortController();
    const pending = fetch(`${inst.baseUrl}/processors`, { headers: { "X-API-KEY": inst.apiKey }, signal: controller.signal });
    await vi.waitFor(async () => expect((await control(inst.controlUrl, "GET", "/stats")).json.byStatus.hung).toBe(1), { interval: 5 });
    controller.abort();
    await expect(pending).rejects.toThrow();
  });

  it("release hanging requests when the sandbox closes", async () => {
    const own = await startSandbox({ size: "tiny", now: FIXED_NOW, faults: { hangRate: 1, errorRate: 0, dropRate: 0, malformedRate: 0, outage: false } });
    const pending = fetch(`${own.url}/api/v1/processors`, { headers: { "X-API-KEY": own.apiKey } });
    const outcome = pending.then(
      () => "answered",
      () => "failed",
    );
    await vi.waitFor(async () => expect((await control(`${own.url}/_control`, "GET", "/stats")).json.byStatus.hung).toBe(1), { interval: 5 });
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await outcome).toBe("failed");
  });
});

describe("the rate limit", () => {
  it("answers 429 with Retry-After past the per-minute limit until the window passes", async () => {
    let now = 1_000_000;
    const sb = await startSandbox({ size: "tiny", now: FIXED_NOW, rateLimitPerMinute: 3, clock: () => now });
    try {
      const api = `${sb.url}/api/v1`;
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const a = await iris(api, "/processors", sb.apiKey);
        expect(a.status).toBe(200);
        expect(a.headers.get("x-ratelimit-limit")).toBe("3");
        remaining.push(a.headers.get("x-ratelimit-remaining")!);
      }
      expect(remaining).toEqual(["2", "1", "0"]);
      const blocked = await iris(api, "/processors", sb.apiKey);
      expect(blocked.status).toBe(429);
      expect(blocked.json).toEqual({ message: "Too Many Attempts." });
      expect(blocked.headers.get("retry-after")).toBe("60");
      now += 45_000;
      const later = await iris(api, "/processors", sb.apiKey);
      expect(later.status).toBe(429);
      expect(later.headers.get("retry-after")).toBe("15");
      now += 15_000;
      const reopened = await iris(api, "/processors", sb.apiKey);
      expect(reopened.status).toBe(200);
      expect(reopened.headers.get("x-ratelimit-remaining")).toBe("2");
    } finally {
      await sb.close();
    }
  });
});
