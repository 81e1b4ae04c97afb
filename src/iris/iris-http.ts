import type { z } from "zod";
import { BreakerClient, upstreamName } from "../breaker/breaker-client.ts";
import type { CircuitBreaker } from "../breaker/circuit-breaker.ts";
import type { Config } from "../config.ts";
import type { Clock } from "../resilience/clock.ts";
import type { Logger } from "../resilience/log.ts";
import { type ResilientFetchDeps, SchemaViolation, resilientJson } from "../resilience/resilient-fetch.ts";

export type QueryValue = string | number | boolean | undefined;

export interface IrisRequestOptions<T> {
  query?: Record<string, QueryValue>;
  schema: z.ZodType<T>;
  signal?: AbortSignal;
  deadline?: number;
}

export interface IrisHttp {
  get<T>(path: string, options: IrisRequestOptions<T>): Promise<T>;
  readonly breaker: BreakerClient;
  /** HTTP attempts made so far through this client: the subrequests an invocation spends on IRIS. */
  readonly attempts: number;
}

export interface IrisHttpOptions {
  config: Config;
  namespace: DurableObjectNamespace<CircuitBreaker>;
  clock: Clock;
  random: () => number;
  log: Logger;
  defer?: (work: Promise<unknown>) => void;
  /** Sent as X-Invocation-Id so a test upstream can count requests per Worker invocation. */
  invocationId?: string;
  fetch?: (request: Request) => Promise<Response>;
}

/** The only way our code talks to IRIS: every request goes through the resilience layer and the breaker. */
export function createIrisHttp(options: IrisHttpOptions): IrisHttp {
  const { config } = options;
  const upstream = upstreamName(config.irisBaseUrl);
  const breaker = new BreakerClient({
    namespace: options.namespace,
    upstream,
    settings: {
      maxFailures: config.circuitMaxFailures,
      resetMs: config.circuitResetSeconds * 1000,
      // One attempt plus a margin for the outcome's report to arrive.
      probeLeaseMs: config.timeoutMs + 5000,
    },
    clock: options.clock,
    log: options.log,
    ...(options.defer ? { defer: options.defer } : {}),
  });
  const baseFetch = options.fetch ?? ((request: Request) => fetch(request));
  let attempts = 0;
  const deps: ResilientFetchDeps = {
    settings: { maxRetries: config.maxRetries, backoffBaseMs: config.backoffBaseMs, timeoutMs: config.timeoutMs },
    clock: options.clock,
    random: options.random,
    breaker,
    log: options.log,
    fetch: (request) => {
      attempts += 1;
      return baseFetch(request);
    },
  };

  return {
    breaker,
    get attempts() {
      return attempts;
    },
    get<T>(path: string, request: IrisRequestOptions<T>): Promise<T> {
      const url = new URL(`${config.irisBaseUrl}${path.startsWith("/") ? path : `/${path}`}`);
      for (const [key, value] of Object.entries(request.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const headers = new Headers({ Accept: "application/json", "X-API-KEY": config.irisApiKey });
      if (options.invocationId) headers.set("X-Invocation-Id", options.invocationId);
      return resilientJson(deps, new Request(url, { method: "GET", headers }), {
        parse: (json) => {
          const parsed = request.schema.safeParse(json);
          if (!parsed.success) {
            throw new SchemaViolation(
              parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
            );
          }
          return parsed.data;
        },
        ...(request.signal ? { signal: request.signal } : {}),
        ...(request.deadline === undefined ? {} : { deadline: request.deadline }),
      });
    },
  };
}
