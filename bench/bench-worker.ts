// Worker entry used only by the benchmarks (bench/wrangler.bench.toml), never deployed.
//
// The `read-api` benchmark: every other path is served by the real app (createApp()), with one route added to it,
// /bench/select1, that runs `SELECT 1` through createDb, the driver path the read routes use. It sits behind the
// same middleware as the /api routes (request id, security headers, request log, config, CORS, token), so the
// difference between a read route and it is the route's own queries and answer.
//
// The `breaker` benchmark (below): each measured route makes the
// same IRIS request, GET /processors, in a different way, so that the difference between their latencies is the
// cost of what one adds over the other:
//   /unguarded  plain fetch, JSON parsed and checked with the same schema
//   /resilient  the resilience layer (timeout, retries, classification) with a pass-through breaker
//   /guarded    createIrisHttp: the resilience layer and the circuit-breaker Durable Object, as production uses it
//   /open       createIrisHttp against an upstream whose circuit is held open: a 503 from the isolate's cache
// Every Durable Object call made on behalf of a measured request is counted, split into the ones the answer
// waited for and the ones handed to ctx.waitUntil, so the suite can report round trips per call.
// Logging of the resilience layer is counted, not printed, unless BENCH_LOG=1: under `wrangler dev` every
// console line travels to the wrangler process, a cost production does not have in that form.
import { sql } from "drizzle-orm";
import { createApp } from "../src/app.ts";
import { createDb } from "../src/db/client.ts";
import { requireToken } from "../src/middleware/auth.ts";
import { type BreakerClient, upstreamName } from "../src/breaker/breaker-client.ts";
import type { CircuitBreaker } from "../src/breaker/circuit-breaker.ts";
import { type Config, configFor } from "../src/config.ts";
import { createIrisHttp } from "../src/iris/iris-http.ts";
import { irisProcessorsSchema } from "../src/iris/schemas.ts";
import type { BreakerGate } from "../src/resilience/resilient-fetch.ts";
import { resilientJson, SchemaViolation } from "../src/resilience/resilient-fetch.ts";
import { systemClock } from "../src/resilience/clock.ts";
import { IrisUnavailableError } from "../src/resilience/errors.ts";
import { type Logger, jsonLogger } from "../src/resilience/log.ts";

export { CircuitBreaker } from "../src/breaker/circuit-breaker.ts";

interface BenchEnv {
  CIRCUIT_BREAKER: DurableObjectNamespace<CircuitBreaker>;
  IRIS_BASE_URL?: string;
  IRIS_API_KEY?: string;
  ADMIN_API_TOKEN?: string;
  PORTAL_API_TOKEN?: string;
  /** IRIS base URL of the upstream whose circuit /open finds open; a different upstream, so a different circuit. */
  BENCH_OPEN_BASE_URL?: string;
  BENCH_LOG?: string;
  DATABASE_URL?: string;
  NEON_WS_PROXY?: string;
}

type VariantName = "unguarded" | "resilient" | "guarded" | "open";
const VARIANTS: readonly VariantName[] = ["unguarded", "resilient", "guarded", "open"];

interface Tally {
  requests: number;
  statuses: Record<string, number>;
  /** Durable Object calls by method. */
  calls: Record<string, number>;
  /** Calls that had completed when the answer was made: the request waited for them. */
  awaited: number;
  /** Calls still in flight when the answer was made: handed to ctx.waitUntil. */
  deferred: number;
  /** Work items passed to ctx.waitUntil through the client's defer hook, and how many of them have finished. */
  deferHandOffs: number;
  deferSettled: number;
  callFailures: number;
  logEvents: Record<string, number>;
}

// Per isolate; `wrangler dev` serves everything from one isolate, which is what makes these totals whole.
const tallies = new Map<VariantName, Tally>();

function tallyFor(variant: VariantName): Tally {
  let tally = tallies.get(variant);
  if (!tally) {
    tally = { requests: 0, statuses: {}, calls: {}, awaited: 0, deferred: 0, deferHandOffs: 0, deferSettled: 0, callFailures: 0, logEvents: {} };
    tallies.set(variant, tally);
  }
  return tally;
}

interface CallRecord {
  method: string;
  settled: boolean;
}

/** The breaker namespace with every stub call recorded in `calls`; the client under test cannot tell. */
function instrumented(namespace: DurableObjectNamespace<CircuitBreaker>, calls: CallRecord[], tally: Tally): DurableObjectNamespace<CircuitBreaker> {
  const track = <P extends PromiseLike<unknown>>(method: string, promise: P): P => {
    const record: CallRecord = { method, settled: false };
    calls.push(record);
    tally.calls[method] = (tally.calls[method] ?? 0) + 1;
    Promise.resolve(promise).then(
      () => {
        record.settled = true;
      },
      () => {
        record.settled = true;
        tally.callFailures += 1;
      },
    );
    return promise;
  };
  const wrapper = {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = namespace.get(id);
      return {
        acquire: (...args: Parameters<CircuitBreaker["acquire"]>) => track("acquire", stub.acquire(...args)),
        report: (...args: Parameters<CircuitBreaker["report"]>) => track("report", stub.report(...args)),
        snapshot: (...args: Parameters<CircuitBreaker["snapshot"]>) => track("snapshot", stub.snapshot(...args)),
        open: (...args: Parameters<CircuitBreaker["open"]>) => track("open", stub.open(...args)),
        reset: (...args: Parameters<CircuitBreaker["reset"]>) => track("reset", stub.reset(...args)),
      };
    },
  };
  return wrapper as unknown as DurableObjectNamespace<CircuitBreaker>;
}

const openConfigs = new WeakMap<object, Config>();

/** The same settings as the guarded route, pointed at the upstream whose circuit is held open. */
function openConfigFor(env: BenchEnv): Config {
  let config = openConfigs.get(env);
  if (!config) {
    const base = configFor(env);
    const url = new URL(env.BENCH_OPEN_BASE_URL ?? "");
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("BENCH_OPEN_BASE_URL must be an http(s) URL");
    config = { ...base, irisBaseUrl: url.toString().replace(/\/+$/, "") };
    openConfigs.set(env, config);
  }
  return config;
}

function loggerFor(env: BenchEnv, tally: Tally): Logger {
  const print = env.BENCH_LOG === "1";
  return (event, fields) => {
    tally.logEvents[event] = (tally.logEvents[event] ?? 0) + 1;
    if (print) jsonLogger(event, fields);
  };
}

const passThroughGate: BreakerGate = {
  acquire: async () => ({ allowed: true, permit: { kind: "normal" } }),
  report: () => undefined,
};

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

async function measured(variant: VariantName, env: BenchEnv, ctx: ExecutionContext): Promise<Response> {
  const tally = tallyFor(variant);
  tally.requests += 1;
  const calls: CallRecord[] = [];
  const log = loggerFor(env, tally);
  const defer = (work: Promise<unknown>): void => {
    tally.deferHandOffs += 1;
    ctx.waitUntil(
      work.finally(() => {
        tally.deferSettled += 1;
      }),
    );
  };
  let response: Response;
  try {
    const config = variant === "open" ? openConfigFor(env) : configFor(env);
    const processors = await callIris(variant, config, env, calls, tally, log, defer);
    response = json({ processors: processors.length });
  } catch (error) {
    if (error instanceof IrisUnavailableError) {
      response = json({ error: "IRIS API unavailable" }, 503, { "Retry-After": String(error.retryAfterSeconds) });
    } else {
      response = json({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, 502);
    }
  }
  for (const call of calls) {
    if (call.settled) tally.awaited += 1;
    else tally.deferred += 1;
  }
  tally.statuses[response.status] = (tally.statuses[response.status] ?? 0) + 1;
  return response;
}

async function callIris(
  variant: VariantName,
  config: Config,
  env: BenchEnv,
  calls: CallRecord[],
  tally: Tally,
  log: Logger,
  defer: (work: Promise<unknown>) => void,
): Promise<unknown[]> {
  const url = `${config.irisBaseUrl}/processors`;
  const headers = { Accept: "application/json", "X-API-KEY": config.irisApiKey };
  switch (variant) {
    case "unguarded": {
      const res = await fetch(url, { headers });
      if (!res.ok) throw new Error(`IRIS answered ${res.status}`);
      const parsed = irisProcessorsSchema.safeParse(await res.json());
      if (!parsed.success) throw new Error("unexpected processors payload");
      return parsed.data.processors;
    }
    case "resilient": {
      const deps = {
        settings: { maxRetries: config.maxRetries, backoffBaseMs: config.backoffBaseMs, timeoutMs: config.timeoutMs },
        clock: systemClock,
        random: Math.random,
        breaker: passThroughGate,
        log,
        fetch: (request: Request) => fetch(request),
      };
      const body = await resilientJson(deps, new Request(url, { headers }), {
        parse: (value) => {
          const parsed = irisProcessorsSchema.safeParse(value);
          if (!parsed.success) throw new SchemaViolation(parsed.error.issues.map((issue) => issue.message));
          return parsed.data;
        },
      });
      return body.processors;
    }
    case "guarded":
    case "open": {
      const iris = createIrisHttp({
        config,
        namespace: instrumented(env.CIRCUIT_BREAKER, calls, tally),
        clock: systemClock,
        random: Math.random,
        log,
        defer,
      });
      const body = await iris.get("/processors", { schema: irisProcessorsSchema });
      return body.processors;
    }
  }
}

/** Clients on the real namespace for the setup routes, whose Durable Object calls are not part of a measurement. */
function adminBreakers(env: BenchEnv): { guarded: BreakerClient; open: BreakerClient } {
  const make = (config: Config) =>
    createIrisHttp({ config, namespace: env.CIRCUIT_BREAKER, clock: systemClock, random: Math.random, log: jsonLogger }).breaker;
  return { guarded: make(configFor(env)), open: make(openConfigFor(env)) };
}

async function admin(path: string, request: Request, env: BenchEnv): Promise<Response> {
  const token = env.ADMIN_API_TOKEN ?? "";
  if (token === "" || request.headers.get("Authorization") !== `Bearer ${token}`) return json({ error: "unauthorized" }, 401);
  const breakers = adminBreakers(env);
  const url = new URL(request.url);
  switch (`${request.method} ${path}`) {
    case "GET /_bench/counters":
      return json(Object.fromEntries(VARIANTS.map((v) => [v, tallyFor(v)])));
    case "POST /_bench/counters/reset":
      tallies.clear();
      return json({ ok: true });
    case "GET /_bench/circuits":
      return json({
        guarded: await breakers.guarded.snapshot(),
        open: await breakers.open.snapshot(),
        upstreams: { guarded: upstreamName(configFor(env).irisBaseUrl), open: upstreamName(openConfigFor(env).irisBaseUrl) },
      });
    case "POST /_bench/open": {
      const seconds = Number(url.searchParams.get("seconds") ?? "600");
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) return json({ error: "seconds must be 1..86400" }, 400);
      return json(await breakers.open.open(seconds));
    }
    case "POST /_bench/close":
      return json({ guarded: await breakers.guarded.reset(), open: await breakers.open.reset() });
    default:
      return json({ error: "not found" }, 404);
  }
}

/** The production app plus the bench-only floor route of the read-api benchmark. */
const app = createApp();
app.get("/bench/select1", requireToken({ allow: ["admin", "portal"] }), async (c) => {
  // As withReadDb does: a connection of its own for the request, closed after the answer.
  const database = createDb(c.env, { maxConnections: 1 });
  try {
    const result = await database.db.execute<{ one: number }>(sql`select 1 as one`);
    return c.json({ one: result.rows[0]?.one ?? null });
  } finally {
    c.executionCtx.waitUntil(database.end());
  }
});

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/health") return json({ ok: true });
    if (path.startsWith("/_bench/")) return admin(path, request, env);
    const variant = VARIANTS.find((v) => path === `/${v}`);
    if (variant && request.method === "GET") return measured(variant, env, ctx);
    // The bindings the app needs for what the benchmarks call (config, database, breaker) are all in BenchEnv.
    return app.fetch(request, env as unknown as Env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
