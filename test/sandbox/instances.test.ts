/* eslint-disable @typescript-eslint/no-explicit-any -- the sandbox's JSON answers are checked by assertions and schemas here, not by static types */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index.ts";
import { control, FIXED_NOW, iris } from "./support.ts";

let sb: Sandbox;
let root: string;

beforeAll(async () => {
  sb = await startSandbox({ size: "tiny", now: FIXED_NOW, apiKey: "root-key" });
  root = `${sb.url}/_control`;
});

afterAll(async () => {
  await sb.close();
});

describe("instances", () => {
  it("are created under /i/<id> and inherit the root's data settings", async () => {
    const created = await control(root, "POST", "/instances", {});
    expect(created.status).toBe(201);
    const { id, baseUrl, controlUrl, apiKey } = created.json;
    expect(baseUrl).toBe(`${sb.url}/i/${id}/api/v1`);
    expect(controlUrl).toBe(`${sb.url}/i/${id}/_control`);
    expect(apiKey).toBe("root-key");
    const [mine, theirs] = await Promise.all([
      iris<any>(baseUrl, "/merchants?per_page=100", apiKey),
      iris<any>(`${sb.url}/api/v1`, "/merchants?per_page=100", sb.apiKey),
    ]);
    expect(mine.json.data).toEqual(theirs.json.data);
    // Links point back into the instance.
    expect(mine.json.meta.path).toBe(`${baseUrl}/merchants`);
  });

  it("keep their own data, faults, counters and keys", async () => {
    const a = (await control(root, "POST", "/instances", { seed: 21, apiKey: "key-a" })).json;
    const b = (await control(root, "POST", "/instances", { seed: 21 })).json;
    await control(`${sb.url}/_control`, "POST", "/stats/reset");

    const modified = await control(a.controlUrl, "POST", "/merchants/modify", { count: 2 });
    const mid = modified.json.changed[0].mid;
    const inA = await iris<any>(a.baseUrl, `/merchants/${mid}`, "key-a");
    const inB = await iris<any>(b.baseUrl, `/merchants/${mid}`, b.apiKey);
    expect(inA.json.general.modified).not.toBe(inB.json.general.modified);

    await control(a.controlUrl, "PUT", "/faults", "outage");
    expect((await iris(a.baseUrl, "/processors", "key-a")).status).toBe(503);
    expect((await iris(b.baseUrl, "/processors", b.apiKey)).status).toBe(200);
    expect((await iris(`${sb.url}/api/v1`, "/processors", sb.apiKey)).status).toBe(200);
    expect((await iris(b.baseUrl, "/processors", "key-a")).status).toBe(401);

    expect((await control(a.controlUrl, "GET", "/stats")).json.total).toBe(2);
    expect((await control(b.controlUrl, "GET", "/stats")).json.total).toBe(3);
    expect((await control(root, "GET", "/stats")).json.total).toBe(1);
  });

  it("can be deleted, after which their URLs answer 404", async () => {
    const inst = (await control(root, "POST", "/instances", {})).json;
    const res = await fetch(inst.controlUrl, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect((await iris(inst.baseUrl, "/processors", inst.apiKey)).status).toBe(404);
    expect((await fetch(`${inst.controlUrl}/stats`)).status).toBe(404);
  });

  it("refuse unknown or invalid options", async () => {
    expect((await control(root, "POST", "/instances", { colour: "blue" })).status).toBe(400);
    expect((await control(root, "POST", "/instances", { size: "huge" })).status).toBe(400);
    expect((await control(root, "POST", "/instances", { faults: { errorRate: 3 } })).status).toBe(400);
    expect((await control(root, "POST", "/instances", { seed: -1 })).status).toBe(400);
  });
});

describe("request statistics", () => {
  it("count requests by X-Invocation-Id, route template and status, and reset", async () => {
    const inst = (await control(root, "POST", "/instances", {})).json;
    const mid = (await iris<any>(inst.baseUrl, "/merchants?per_page=10", inst.apiKey, { "X-Invocation-Id": "inv-1" })).json.data[0].mid;
    for (let i = 0; i < 2; i++) await iris(inst.baseUrl, `/merchants/${mid}`, inst.apiKey, { "X-Invocation-Id": "inv-1" });
    for (let i = 0; i < 5; i++) await iris(inst.baseUrl, `/merchants/${mid}/transactions`, inst.apiKey, { "X-Invocation-Id": "inv-2" });
    await iris(inst.baseUrl, "/merchants?per_page=7", inst.apiKey);
    await iris(inst.baseUrl, "/processors", null, { "X-Invocation-Id": "inv-3" });

    const stats = (await control(inst.controlUrl, "GET", "/stats")).json;
    expect(stats.total).toBe(10);
    expect(stats.byInvocation).toEqual({ "inv-1": 3, "inv-2": 5, "inv-3": 1 });
    expect(stats.maxPerInvocation).toBe(5);
    expect(stats.withoutInvocation).toBe(1);
    expect(stats.byRoute).toEqual({
      "GET /merchants": 2,
      "GET /merchants/{mid}": 2,
      "GET /merchants/{mid}/transactions": 5,
      "GET /processors": 1,
    });
    expect(stats.byStatus).toEqual({ "200": 8, "405": 1, "401": 1 });

    await control(inst.controlUrl, "POST", "/stats/reset");
    const reset = (await control(inst.controlUrl, "GET", "/stats")).json;
    expect(reset).toMatchObject({ total: 0, byInvocation: {}, maxPerInvocation: 0 });
  });

  it("leave the control API out of the counts", async () => {
    const inst = (await control(root, "POST", "/instances", {})).json;
    await control(inst.controlUrl, "GET", "/dataset?parts=processors");
    await control(inst.controlUrl, "GET", "/faults");
    expect((await control(inst.controlUrl, "GET", "/stats")).json.total).toBe(0);
  });
});
