import type { Context } from "hono";
import type { AppEnv } from "./app.ts";
import type { BreakerClient } from "./breaker/breaker-client.ts";
import { createDb } from "./db/client.ts";
import { type IrisHttp, createIrisHttp } from "./iris/iris-http.ts";
import { type Logger, jsonLogger } from "./resilience/log.ts";

/** Hands work to waitUntil when the request has an execution context (tests calling app.request may not). */
export function deferFor(c: Context<AppEnv>): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

/** Log lines that carry this request's id. */
export function requestLogger(c: Context<AppEnv>): Logger {
  return (event, fields) => jsonLogger(event, { requestId: c.var.requestId, ...fields });
}

/**
 * Runs `work` on a database connection of the request's own, ended after the answer (waitUntil when there is an
 * execution context). `Db` is the drizzle view the caller works with.
 */
export async function withRequestDb<Db, T>(c: Context<AppEnv>, work: (db: Db) => Promise<T>): Promise<T> {
  const database = createDb(c.env, { maxConnections: 1 });
  try {
    return await work(database.db as unknown as Db);
  } finally {
    const defer = deferFor(c);
    if (defer) defer(database.end());
    else await database.end();
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
    log: requestLogger(c),
    ...(defer ? { defer } : {}),
    invocationId: c.var.requestId,
  });
}

export function breakerFor(c: Context<AppEnv>): BreakerClient {
  return irisFor(c).breaker;
}
