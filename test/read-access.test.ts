import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { FakeClock } from "./support/fake-clock.ts";
import { type Fixture, fixtureDb, insertMerchants, merchant, tokenHeaders } from "./support/read-fixtures.ts";

const PORTAL_ORIGIN = "https://portal.example.com";
const OTHER_ORIGIN = "https://evil.example.net";

let f: Fixture;
const app = createApp({ clock: new FakeClock() });
const call = (path: string, init: RequestInit = {}) => app.request(path, init, f.env);

const READ_ROUTES = [
  "/api/merchants",
  "/api/merchants/m1",
  "/api/merchants/compare?mids=m1",
  "/api/residuals",
  "/api/residuals/summary",
  "/api/volumes",
  "/api/analytics/summary",
  "/api/analytics/trend",
  "/api/analytics/top-merchants",
];

beforeAll(async () => {
  f = await fixtureDb({ CORS_ORIGINS: `${PORTAL_ORIGIN}, https://admin.example.com` });
  await insertMerchants(f.db, [merchant("m1")]);
});

afterAll(async () => {
  await f?.database.end();
});

describe("tokens", () => {
  it.each(READ_ROUTES)("GET %s: 401 without a token or with a wrong one, 200 with the portal or the admin token", async (path) => {
    const none = await call(path);
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
    expect((await call(path, { headers: { Authorization: "Bearer not-a-token-at-all" } })).status).toBe(401);
    expect((await call(path, { headers: { Authorization: "Basic abc" } })).status).toBe(401);
    expect((await call(path, { headers: tokenHeaders("portal") })).status).toBe(200);
    expect((await call(path, { headers: tokenHeaders("admin") })).status).toBe(200);
  });

  it("refuses the portal token on admin routes with 403", async () => {
    for (const [method, path] of [
      ["GET", "/api/circuit"],
      ["GET", "/api/metrics"],
      ["POST", "/api/circuit/reset"],
      ["GET", "/api/sync/runs"],
      ["POST", "/api/sync-iriscrm"],
    ] as const) {
      const res = await call(path, { method, headers: tokenHeaders("portal") });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject({ error: "forbidden" });
    }
  });

  it("checks the token before validating parameters, so nothing about the request leaks", async () => {
    expect((await call("/api/merchants?perPage=9999")).status).toBe(401);
  });

  it("asks no token of /health, /openapi.json and /docs", async () => {
    for (const path of ["/health", "/openapi.json", "/docs"]) expect((await call(path)).status, path).toBe(200);
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin without a token", async () => {
    const res = await call("/api/merchants", {
      method: "OPTIONS",
      headers: { Origin: PORTAL_ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL_ORIGIN);
    expect(res.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("GET");
    expect(res.headers.get("Vary")).toContain("Origin");
  });

  it("allows no other origin", async () => {
    const preflight = await call("/api/merchants", { method: "OPTIONS", headers: { Origin: OTHER_ORIGIN, "Access-Control-Request-Method": "GET" } });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const res = await call("/api/merchants", { headers: { Origin: OTHER_ORIGIN, ...tokenHeaders("portal") } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("lets an allowed page read answers and errors, and the freshness and count headers", async () => {
    const ok = await call("/api/merchants?format=csv", { headers: { Origin: PORTAL_ORIGIN, ...tokenHeaders("portal") } });
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL_ORIGIN);
    expect(ok.headers.get("Access-Control-Expose-Headers")).toContain("X-Data-Freshness");
    expect(ok.headers.get("Access-Control-Expose-Headers")).toContain("X-Total-Count");
    const denied = await call("/api/merchants", { headers: { Origin: PORTAL_ORIGIN } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL_ORIGIN);
  });

  it("allows no origin at all when CORS_ORIGINS is empty", async () => {
    const res = await app.request("/api/merchants", { headers: { Origin: PORTAL_ORIGIN, ...tokenHeaders("portal") } }, { ...f.env, CORS_ORIGINS: "" });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("security headers", () => {
  it.each([
    ["a JSON answer", "/api/merchants", true],
    ["a CSV answer", "/api/merchants?format=csv", true],
    ["a 401", "/api/merchants", false],
    ["a 400", "/api/merchants?perPage=0", true],
    ["a 404", "/api/nothing-here", true],
    ["a public route", "/health", false],
  ])("are on %s", async (_what, path, withToken) => {
    const res = await call(path, withToken ? { headers: tokenHeaders("portal") } : {});
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(res.headers.get("Strict-Transport-Security")).toBe("max-age=31536000; includeSubDomains");
    expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  });

  it("give /docs a policy that runs only its own inline script and style", async () => {
    const res = await call("/docs");
    const policy = res.headers.get("Content-Security-Policy") ?? "";
    const nonce = /script-src 'nonce-([0-9a-f]+)'/.exec(policy)?.[1];
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    // Self-contained: it loads nothing from anywhere else.
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    const again = await call("/docs");
    expect(again.headers.get("Content-Security-Policy")).not.toContain(nonce as string);
  });
});
