import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { ConfigError, parseConfig } from "../src/config.ts";

const valid = {
  IRIS_BASE_URL: "https://example.iriscrm.com/api/v1",
  IRIS_API_KEY: "secret-iris-key-value",
  ADMIN_API_TOKEN: "admin-token-0123456789",
  PORTAL_API_TOKEN: "portal-token-0123456789",
};

function issuesOf(env: Record<string, unknown>) {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig(valid);
    expect(config).toMatchObject({
      maxRetries: 3,
      backoffBaseMs: 1000,
      timeoutMs: 30_000,
      circuitMaxFailures: 5,
      circuitResetSeconds: 60,
    });
  });

  it("accepts IRIS_TIMEOUT_SECONDS when IRIS_TIMEOUT_MS is not set", () => {
    expect(parseConfig({ ...valid, IRIS_TIMEOUT_SECONDS: "12" }).timeoutMs).toBe(12_000);
    expect(parseConfig({ ...valid, IRIS_TIMEOUT_SECONDS: "12", IRIS_TIMEOUT_MS: "2500" }).timeoutMs).toBe(2500);
  });

  it("reports every invalid variable at once", () => {
    const issues = issuesOf({
      IRIS_BASE_URL: "not a url",
      IRIS_MAX_RETRIES: "-1",
      IRIS_BACKOFF_BASE_MS: "fast",
      IRIS_TIMEOUT_MS: "0",
      IRIS_CIRCUIT_MAX_FAILURES: "0",
      IRIS_CIRCUIT_RESET_SECONDS: "1.5",
    });
    expect(issues.map((i) => i.variable).sort()).toEqual(
      [
        "ADMIN_API_TOKEN",
        "IRIS_API_KEY",
        "IRIS_BACKOFF_BASE_MS",
        "IRIS_BASE_URL",
        "IRIS_CIRCUIT_MAX_FAILURES",
        "IRIS_CIRCUIT_RESET_SECONDS",
        "IRIS_MAX_RETRIES",
        "IRIS_TIMEOUT_MS",
        "PORTAL_API_TOKEN",
      ].sort(),
    );
  });

  it("refuses a subrequest budget that leaves no room for one IRIS call with the retries allowed", () => {
    expect(issuesOf({ ...valid, SYNC_SUBREQUEST_BUDGET: "8", IRIS_MAX_RETRIES: "3" }).map((i) => i.variable)).toEqual([
      "SYNC_SUBREQUEST_BUDGET",
    ]);
    expect(parseConfig({ ...valid, SYNC_SUBREQUEST_BUDGET: "9", IRIS_MAX_RETRIES: "3" }).sync.subrequestBudget).toBe(9);
  });

  it("answers 500 naming the variables but never echoing a secret value", async () => {
    const app = createApp();
    const leaked = "short-admin";
    const res = await app.request("/health", {}, { ...env, IRIS_MAX_RETRIES: "-2", ADMIN_API_TOKEN: leaked });
    expect(res.status).toBe(500);
    const body = await res.json<{ error: string; details: Array<{ variable: string }> }>();
    expect(body.error).toBe("invalid configuration");
    expect(body.details.map((d) => d.variable).sort()).toEqual(["ADMIN_API_TOKEN", "IRIS_MAX_RETRIES"]);
    expect(JSON.stringify(body)).not.toContain(leaked);
  });

  it("answers 503 naming DATABASE_URL when a route needs the database and none is configured", async () => {
    const app = createApp();
    const res = await app.request(
      "/api/merchants",
      { headers: { Authorization: `Bearer ${env.PORTAL_API_TOKEN}` } },
      { ...env, DATABASE_URL: "" },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "database not configured", details: "set DATABASE_URL" });
  });
});
