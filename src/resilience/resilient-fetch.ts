import type { AcquireDecision, CallOutcome, Permit } from "./breaker-transitions.ts";
import { backoffDelayMs, parseRetryAfterMs } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import { type FailureCategory, categorizeStatus, isIdempotent, isRetryable, verdictFor } from "./error-category.ts";
import { IrisRejectedError, IrisSchemaError, IrisUnavailableError } from "./errors.ts";
import type { Logger } from "./log.ts";

export interface ResilienceSettings {
  maxRetries: number;
  backoffBaseMs: number;
  timeoutMs: number;
}

/** The breaker as the fetch layer needs it; the Durable Object client implements it. */
export interface BreakerGate {
  acquire(): Promise<AcquireDecision>;
  report(permit: Permit, outcome: CallOutcome): void | Promise<void>;
}

export interface ResilientFetchDeps {
  settings: ResilienceSettings;
  clock: Clock;
  /** Returns [0, 1); pinned in tests so jitter is predictable. */
  random: () => number;
  breaker: BreakerGate;
  fetch: (request: Request) => Promise<Response>;
  log: Logger;
}

export interface CallOptions<T> {
  /** Turns the parsed JSON into a value, throwing a SchemaViolation when its shape is wrong. */
  parse: (json: unknown) => T;
  /** The caller's abort: reaches the fetch in flight and any wait between attempts. */
  signal?: AbortSignal;
  /** Absolute time (by the injected clock) after which no attempt starts and no wait extends. */
  deadline?: number;
}

/** Thrown by a `parse` function when valid JSON has the wrong shape. */
export class SchemaViolation extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(issues.join("; "));
    this.name = "SchemaViolation";
    this.issues = issues;
  }
}

type Attempt<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      category: FailureCategory;
      status?: number;
      retryAfterMs?: number;
      message?: string;
      issues?: string[];
    };

class AttemptTimeout extends Error {
  constructor() {
    super("attempt timed out");
    this.name = "AttemptTimeout";
  }
}

/**
 * Sends one IRIS request through the breaker, with a timeout on every attempt and retries with backoff for the
 * failures worth retrying. Resolves to the parsed body or throws IrisUnavailableError, IrisRejectedError,
 * IrisSchemaError, or the caller's abort reason.
 */
export async function resilientJson<T>(deps: ResilientFetchDeps, request: Request, options: CallOptions<T>): Promise<T> {
  const { settings, clock, log } = deps;
  const url = new URL(request.url);
  const target = `${request.method} ${url.pathname}${url.search}`;
  const signal = options.signal;
  signal?.throwIfAborted();

  const decision = await deps.breaker.acquire();
  if (!decision.allowed) {
    log("iris.rejected_open", { target, circuit: decision.status, retryAfterMs: decision.retryAfterMs });
    throw new IrisUnavailableError({
      reason: "circuit_open",
      retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
    });
  }
  const permit = decision.permit;
  // A probe is one attempt: its job is to learn quickly whether IRIS is back, and its lease is sized for one.
  const maxRetries = permit.kind === "probe" || !isIdempotent(request.method, request.headers) ? 0 : settings.maxRetries;

  let retries = 0;
  let timeouts = 0;
  const finish = (category: FailureCategory | undefined) => {
    const outcome: CallOutcome = { permit, verdict: verdictFor(category), retries, timeouts };
    if (category) outcome.category = category;
    return deps.breaker.report(permit, outcome);
  };
  const abandon = async (reason: unknown): Promise<never> => {
    await deps.breaker.report(permit, { permit, verdict: "neutral", retries, timeouts });
    throw reason;
  };

  for (let attemptNumber = 1; ; attemptNumber += 1) {
    if (signal?.aborted) return abandon(signal.reason);
    const remaining = options.deadline === undefined ? Infinity : options.deadline - clock.now();
    if (remaining <= 0) {
      await finish("timeout");
      log("iris.call.failed", { target, attempts: attemptNumber - 1, category: "timeout", reason: "deadline" });
      throw new IrisUnavailableError({ reason: "deadline_exceeded", retryAfterSeconds: 1, category: "timeout" });
    }

    const result = await attempt(deps, request, options, Math.min(settings.timeoutMs, remaining));
    if (result.ok) {
      await finish(undefined);
      return result.value;
    }
    if (signal?.aborted) return abandon(signal.reason);
    if (result.category === "timeout") {
      timeouts += 1;
      log("iris.timeout", { target, attempt: attemptNumber, timeoutMs: Math.min(settings.timeoutMs, remaining) });
    }

    if (!isRetryable(result.category)) {
      await finish(result.category);
      log("iris.call.failed", { target, attempts: attemptNumber, category: result.category, status: result.status });
      if (result.category === "schema") throw new IrisSchemaError(result.issues ?? []);
      throw new IrisRejectedError(result.status ?? 0, result.message);
    }

    let delayMs =
      result.category === "rate_limited" && result.retryAfterMs !== undefined
        ? result.retryAfterMs
        : backoffDelayMs(retries + 1, settings.backoffBaseMs, deps.random);
    const deadlineLeft = options.deadline === undefined ? Infinity : options.deadline - clock.now();
    if (retries >= maxRetries || delayMs >= deadlineLeft) {
      await finish(result.category);
      log("iris.call.failed", {
        target,
        attempts: attemptNumber,
        category: result.category,
        status: result.status,
        reason: retries >= maxRetries ? "retries exhausted" : "deadline",
      });
      throw new IrisUnavailableError({
        reason: retries >= maxRetries ? "retries_exhausted" : "deadline_exceeded",
        retryAfterSeconds: Math.max(1, Math.ceil((result.retryAfterMs ?? settings.backoffBaseMs) / 1000)),
        category: result.category,
        ...(result.status === undefined ? {} : { status: result.status }),
      });
    }
    retries += 1;
    delayMs = Math.max(0, delayMs);
    log("iris.retry", {
      target,
      attempt: attemptNumber,
      retry: retries,
      delayMs,
      category: result.category,
      status: result.status,
    });
    try {
      const purpose = result.category === "rate_limited" && result.retryAfterMs !== undefined ? "retry-after" : "backoff";
      await clock.sleep(delayMs, signal ? { signal, purpose } : { purpose });
    } catch {
      return abandon(signal?.reason);
    }
  }
}

async function attempt<T>(
  deps: ResilientFetchDeps,
  request: Request,
  options: CallOptions<T>,
  timeoutMs: number,
): Promise<Attempt<T>> {
  const controller = new AbortController();
  const stopTimer = new AbortController();
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onCallerAbort, { once: true });
  let timedOut = false;
  const timer = deps.clock.sleep(timeoutMs, { signal: stopTimer.signal, purpose: "timeout" }).then(
    () => {
      timedOut = true;
      controller.abort(new AttemptTimeout());
    },
    () => undefined,
  );
  try {
    // The timeout covers the body too: a server that stalls mid-body is as hung as one that never answers.
    const response = await deps.fetch(new Request(request.clone(), { signal: controller.signal }));
    const text = await response.text();
    const category = categorizeStatus(response.status);
    if (category) {
      const failure: Attempt<T> = { ok: false, category, status: response.status };
      const message = irisMessage(text);
      if (message !== undefined) failure.message = message;
      if (category === "rate_limited") {
        const retryAfterMs = parseRetryAfterMs(response.headers.get("Retry-After"), deps.clock.now());
        if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
      }
      return failure;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, category: "invalid_body", status: response.status };
    }
    try {
      return { ok: true, value: options.parse(json) };
    } catch (error) {
      const issues = error instanceof SchemaViolation ? error.issues : [String(error)];
      return { ok: false, category: "schema", status: response.status, issues };
    }
  } catch {
    return { ok: false, category: timedOut ? "timeout" : "network" };
  } finally {
    stopTimer.abort();
    options.signal?.removeEventListener("abort", onCallerAbort);
    await timer;
  }
}

function irisMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === "object" && "message" in body && typeof body.message === "string") {
      return body.message.slice(0, 200);
    }
  } catch {
    // Not JSON: nothing to quote.
  }
  return undefined;
}
