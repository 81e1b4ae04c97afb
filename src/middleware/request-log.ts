import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app.ts";

/**
 * One line per request. It logs the matched route pattern, never the raw path: a webhook path carries a secret.
 */
export function requestLog(options: { now?: () => number } = {}): MiddlewareHandler<AppEnv> {
  const now = options.now ?? (() => Date.now());
  return async (c, next) => {
    const started = now();
    await next();
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        event: "http.request",
        requestId: c.var.requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: now() - started,
      }),
    );
  };
}
