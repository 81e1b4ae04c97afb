/**
 * Why one attempt at an IRIS request failed. The category decides whether the attempt is retried and whether the
 * failed call counts against the circuit breaker.
 */
export type FailureCategory =
  | "network" // the connection failed or dropped before an answer
  | "timeout" // no complete answer within the per-attempt timeout
  | "server" // 5xx
  | "request_timeout" // 408
  | "rate_limited" // 429
  | "invalid_body" // a 2xx whose body is not JSON: a cut-off transfer, worth another try
  | "client" // any other 4xx: our request is wrong or not allowed, repeating it cannot help
  | "schema"; // valid JSON in a shape we do not understand: repeating it cannot help either

const RETRYABLE: ReadonlySet<FailureCategory> = new Set([
  "network",
  "timeout",
  "server",
  "request_timeout",
  "rate_limited",
  "invalid_body",
]);

export function isRetryable(category: FailureCategory): boolean {
  return RETRYABLE.has(category);
}

/** The category of a non-2xx status, or undefined for a success. */
export function categorizeStatus(status: number): FailureCategory | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 408) return "request_timeout";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server";
  return "client";
}

/**
 * What a finished call (all its attempts) tells the breaker about IRIS's health:
 * - "failure": IRIS could not answer (counts towards opening);
 * - "success": IRIS answered, even if it refused us (a 4xx or a schema we reject means IRIS is up);
 * - "neutral": says nothing either way (rate limited, or our caller gave up first).
 */
export type CallVerdict = "success" | "failure" | "neutral";

export function verdictFor(finalCategory: FailureCategory | undefined): CallVerdict {
  if (finalCategory === undefined) return "success";
  if (finalCategory === "rate_limited") return "neutral";
  if (finalCategory === "client" || finalCategory === "schema") return "success";
  return "failure";
}

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** Only a request that is safe to repeat may be retried. */
export function isIdempotent(method: string, headers: Headers): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase()) || headers.has("Idempotency-Key");
}
