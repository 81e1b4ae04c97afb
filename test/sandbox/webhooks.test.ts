/* eslint-disable @typescript-eslint/no-explicit-any -- the sandbox's JSON answers are checked by assertions and schemas here, not by static types */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSandbox, type Sandbox } from "../../dev/sandbox/index.ts";
import { control, FIXED_NOW, startReceiver } from "./support.ts";

let sb: Sandbox;
let root: string;

beforeAll(async () => {
  sb = await startSandbox({ size: "tiny", now: FIXED_NOW });
  root = `${sb.url}/_control`;
});

afterAll(async () => {
  await sb.close();
});

async function instance(options: Record<string, unknown>): Promise<{ baseUrl: string; controlUrl: string; apiKey: string }> {
  const created = await control(root, "POST", "/instances", options);
  expect(created.status).toBe(201);
  return created.json;
}

describe("webhook deliveries", () => {
  it("post IRIS-shaped payloads with increasing requestIds", async () => {
    const receiver = await startReceiver();
    try {
      const inst = await instance({ webhookUrl: receiver.url });
      await control(inst.controlUrl, "POST", "/webhooks/send", { event: "subscription.test" });
      const modified = await control(inst.controlUrl, "POST", "/merchants/modify", { count: 1 });
      await control(inst.controlUrl, "POST", "/residuals/restate", { year: 2026, month: 2 });
      await control(inst.controlUrl, "POST", "/webhooks/send", { event: "chargeback.added", data: { chargebacks: [] } });

      const bodies = receiver.received.map((r) => r.body);
      const leads: number[] = modified.json.changed[0].leads;
      expect(bodies.map((b) => b.hook.event)).toEqual([
        "subscription.test",
        ...leads.map(() => "lead.updated"),
        "residuals.report.published",
        "chargeback.added",
      ]);
      const ids = bodies.map((b) => b.hook.requestId);
      expect(ids.every((id, i) => Number.isInteger(id) && (i === 0 || id > ids[i - 1]))).toBe(true);
      expect(bodies.filter((b) => b.hook.event === "lead.updated").map((b) => b.data.lead.id)).toEqual(leads);
      const published = bodies.find((b) => b.hook.event === "residuals.report.published");
      expect(published.data.reports).toHaveLength(2);
      expect(published.data.reports[0]).toMatchObject({ year: 2026, month: 2, revision: 2 });
      expect(bodies.at(-1).data).toEqual({ chargebacks: [] });
      expect(receiver.received[0]!.headers["content-type"]).toBe("application/json");
    } finally {
      await receiver.close();
    }
  });

  it("send some payloads twice with the same requestId, the same ones for the same seed", async () => {
    const receivers = [await startReceiver(), await startReceiver()];
    try {
      const patterns: number[][] = [];
      for (const receiver of receivers) {
        const inst = await instance({ seed: 9, webhookUrl: receiver.url, duplicateRate: 0.4 });
        for (let i = 0; i < 20; i++) await control(inst.controlUrl, "POST", "/webhooks/send", { event: "subscription.test" });
        const ids = receiver.received.map((r) => r.body.hook.requestId);
        const firstId = ids[0]!;
        patterns.push(ids.map((id) => id - firstId));
        const log = (await control(inst.controlUrl, "GET", "/webhooks")).json.deliveries;
        const duplicated = log.filter((d: any) => d.duplicated).length;
        expect(duplicated).toBeGreaterThan(0);
        expect(duplicated).toBeLessThan(20);
        expect(ids).toHaveLength(20 + duplicated);
        expect(new Set(ids).size).toBe(20);
      }
      expect(patterns[0]).toEqual(patterns[1]);
    } finally {
      for (const r of receivers) await r.close();
    }
  });

  it("redeliver with backoff when the receiver fails, until it accepts", async () => {
    const receiver = await startReceiver((n) => (n < 2 ? 500 : 200));
    try {
      const inst = await instance({ webhookUrl: receiver.url, retryDelaysMs: [5, 10, 20] });
      const sent = await control(inst.controlUrl, "POST", "/webhooks/send", { event: "lead.updated" });
      expect(sent.json).toMatchObject({ attempts: 1, statuses: [500], pending: true, delivered: false });
      await vi.waitFor(
        async () => {
          const [record] = (await control(inst.controlUrl, "GET", "/webhooks")).json.deliveries;
          expect(record).toMatchObject({ attempts: 3, statuses: [500, 500, 200], delivered: true, pending: false });
        },
        { interval: 5, timeout: 2000 },
      );
      expect(receiver.received).toHaveLength(3);
      expect(new Set(receiver.received.map((r) => JSON.stringify(r.body))).size).toBe(1);
    } finally {
      await receiver.close();
    }
  });

  it("give up after the configured retries, also when the receiver cannot be reached", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const inst = await instance({ webhookUrl: `http://127.0.0.1:${closedPort}/hook`, retryDelaysMs: [1, 1] });
    await control(inst.controlUrl, "POST", "/webhooks/send", { event: "subscription.test" });
    await vi.waitFor(
      async () => {
        const [record] = (await control(inst.controlUrl, "GET", "/webhooks")).json.deliveries;
        expect(record).toMatchObject({ attempts: 3, delivered: false, pending: false });
        expect(record.statuses.every((s: unknown) => typeof s === "string" && s.startsWith("error"))).toBe(true);
      },
      { interval: 5, timeout: 2000 },
    );
  });

  it("stop redelivering when the sandbox closes", async () => {
    const receiver = await startReceiver(() => 503);
    try {
      const own = await startSandbox({ size: "tiny", now: FIXED_NOW, webhookUrl: receiver.url, webhookRetryDelaysMs: [20] });
      await control(`${own.url}/_control`, "POST", "/webhooks/send", { event: "subscription.test" });
      await own.close();
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it("number and log events without delivering them when no URL is set, until one is set at run time", async () => {
    const receiver = await startReceiver();
    try {
      const inst = await instance({});
      const unsent = await control(inst.controlUrl, "POST", "/webhooks/send", { event: "subscription.test" });
      expect(unsent.json).toMatchObject({ attempts: 0, delivered: false });
      const put = await control(inst.controlUrl, "PUT", "/webhooks", { url: receiver.url, duplicateRate: 0 });
      expect(put.json.settings.url).toBe(receiver.url);
      const sent = await control(inst.controlUrl, "POST", "/webhooks/send", { event: "subscription.test" });
      expect(sent.json.requestId).toBe(unsent.json.requestId + 1);
      expect(receiver.received.map((r) => r.body.hook.requestId)).toEqual([sent.json.requestId]);
      expect((await control(inst.controlUrl, "POST", "/webhooks/send", { event: "Not An Event" })).status).toBe(400);
    } finally {
      await receiver.close();
    }
  });
});
