import { describe, expect, it } from "vitest";
import { backoffDelayMs, parseRetryAfterMs } from "../src/resilience/backoff.ts";
import { categorizeStatus, isIdempotent, isRetryable, verdictFor } from "../src/resilience/error-category.ts";

describe("backoff delays", () => {
  it("double from the base for each retry when the jitter sits in the middle", () => {
    const mid = () => 0.5;
    expect([1, 2, 3].map((n) => backoffDelayMs(n, 1000, mid))).toEqual([1000, 2000, 4000]);
  });

  it("spread by at most twenty percent either way", () => {
    expect(backoffDelayMs(1, 1000, () => 0)).toBe(800);
    expect(backoffDelayMs(3, 1000, () => 0.999999)).toBe(4800);
  });
});

describe("Retry-After", () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  it("reads delta seconds", () => expect(parseRetryAfterMs("7", now)).toBe(7000));
  it("reads an HTTP date relative to now", () =>
    expect(parseRetryAfterMs(new Date(now + 12_000).toUTCString(), now)).toBe(12_000));
  it("never asks for a negative wait", () => expect(parseRetryAfterMs(new Date(now - 5000).toUTCString(), now)).toBe(0));
  it("ignores a missing or unreadable header", () => {
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
  });
});

describe("error categories", () => {
  it("treat 5xx, 408 and 429 as retryable and other 4xx as fatal", () => {
    expect([500, 502, 503, 408, 429].map((s) => isRetryable(categorizeStatus(s)!))).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 405, 422].map((s) => isRetryable(categorizeStatus(s)!))).toEqual([false, false, false, false, false, false]);
    expect(categorizeStatus(200)).toBeUndefined();
  });

  it("retry network failures, timeouts and cut-off bodies but not a wrong schema", () => {
    expect(isRetryable("network")).toBe(true);
    expect(isRetryable("timeout")).toBe(true);
    expect(isRetryable("invalid_body")).toBe(true);
    expect(isRetryable("schema")).toBe(false);
  });

  it("do not count fatal 4xx or 429 against the breaker", () => {
    expect(verdictFor("client")).toBe("success");
    expect(verdictFor("rate_limited")).toBe("neutral");
    expect(verdictFor("server")).toBe("failure");
    expect(verdictFor("timeout")).toBe("failure");
  });

  it("allow retries only for idempotent requests", () => {
    expect(isIdempotent("GET", new Headers())).toBe(true);
    expect(isIdempotent("PUT", new Headers())).toBe(true);
    expect(isIdempotent("DELETE", new Headers())).toBe(true);
    expect(isIdempotent("POST", new Headers())).toBe(false);
    expect(isIdempotent("POST", new Headers({ "Idempotency-Key": "k1" }))).toBe(true);
  });
});
