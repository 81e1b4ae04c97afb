import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "./config.ts";
import { DatabaseNotConfiguredError } from "./db/client.ts";
import { IrisRejectedError, IrisSchemaError, IrisUnavailableError } from "./resilience/errors.ts";

/** An error a route throws on purpose; its fields become the JSON answer. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: ContentfulStatusCode, error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(error);
    this.name = "ApiError";
    this.status = status;
    this.body = { error, ...extra };
    this.headers = headers;
  }
}

/**
 * The one place errors become answers. Known errors map to JSON with their status; anything else is logged with
 * the request id and answered as a bare 500, so no stack trace or secret ever leaves the Worker.
 */
export function errorToResponse(error: unknown, c: Context): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(error.body, error.status);
  }
  if (error instanceof IrisUnavailableError) {
    c.header("Retry-After", String(error.retryAfterSeconds));
    return c.json({ error: "IRIS API unavailable" }, 503);
  }
  if (error instanceof IrisRejectedError) {
    return c.json({ error: "IRIS API rejected the request", status: error.status }, 502);
  }
  if (error instanceof IrisSchemaError) {
    return c.json({ error: "IRIS API returned an unexpected response" }, 502);
  }
  if (error instanceof DatabaseNotConfiguredError) {
    return c.json({ error: "database not configured", details: "set DATABASE_URL" }, 503);
  }
  if (error instanceof ConfigError) {
    return c.json({ error: "invalid configuration", details: error.issues }, 500);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json({ error: error.message || "request failed" }, status);
  }
  const requestId = c.get("requestId") as string | undefined;
  console.error(
    JSON.stringify({
      level: "error",
      event: "http.unhandled_error",
      requestId,
      route: c.req.routePath,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    }),
  );
  return c.json({ error: "internal error", requestId }, 500);
}
