import type { Context } from "hono";
import type { AppEnv } from "./app.ts";
import type { BreakerClient } from "./breaker/breaker-client.ts";
import { type IrisHttp, createIrisHttp } from "./iris/iris-http.ts";
import { jsonLogger } from "./resilience/log.ts";

/** Hands work to waitUntil when the request has an execution context (tests calling app.request may not). */
export function deferFor(c: Context<AppEnv>): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

/** A per-request IRIS client wired to this request's config, clock and breaker. */
export function irisFor(c: Context<AppEnv>): IrisHttp {
  const defer = deferFor(c);
  return createIrisHttp({
    config: c.var.config,
    namespace: c.env.CIRCUIT_BREAKER,
    clock: c.var.clock,
    random: c.var.random,
    log: (event, fields) => jsonLogger(event, { requestId: c.var.requestId, ...fields }),
    ...(defer ? { defer } : {}),
    invocationId: c.var.requestId,
  });
}

export function breakerFor(c: Context<AppEnv>): BreakerClient {
  return irisFor(c).breaker;
}
