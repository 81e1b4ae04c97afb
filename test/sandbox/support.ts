/* eslint-disable @typescript-eslint/no-explicit-any -- the sandbox's JSON answers are checked by assertions and schemas here, not by static types */
// Small helpers shared by the sandbox's own tests.

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A fixed "now" so dates in assertions never depend on the day the tests run. */
export const FIXED_NOW = "2026-03-18T15:30:00Z";

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

/** GET on the IRIS surface of `base` (…/api/v1), with the API key unless `key` is null. */
export async function iris<T = any>(base: string, path: string, key: string | null, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const res = await fetch(`${base}${path}`, { headers: { ...(key === null ? {} : { "X-API-KEY": key }), ...headers } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as T };
}

/** JSON call on a control URL (…/_control). */
export async function control<T = any>(controlUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(`${controlUrl}${path}`, init);
  return { status: res.status, json: (await res.json()) as T };
}

/** Every item of a paged IRIS list, following meta.last_page. */
export async function allPages<T = any>(base: string, path: string, key: string, perPage: number): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let page = 1; ; page++) {
    const a = await iris<{ data: T[]; meta: { last_page: string } }>(base, `${path}${sep}per_page=${perPage}&page=${page}`, key);
    if (a.status !== 200) throw new Error(`GET ${path} page ${page}: ${a.status} ${a.text}`);
    out.push(...a.json.data);
    if (page >= Number(a.json.meta.last_page)) return out;
  }
}

export interface Received {
  body: any;
  headers: IncomingMessage["headers"];
}

/** A tiny webhook receiver; `respond` picks the status of each delivery (by arrival number, from 0). */
export async function startReceiver(respond: (n: number, body: any) => number = () => 200): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const status = respond(received.length, body);
      received.push({ body, headers: req.headers });
      res.writeHead(status, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-token`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Exact decimal sum of two-decimal amounts (numbers or strings), as integer cents. */
export function cents(value: number | string): number {
  if (typeof value === "number" && Number(value.toFixed(2)) !== value) throw new Error(`more than two decimals: ${value}`);
  const text = typeof value === "number" ? value.toFixed(2) : value;
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(text);
  if (!m) throw new Error(`not a two-decimal amount: ${text}`);
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 100 + Number(m[3]));
}
