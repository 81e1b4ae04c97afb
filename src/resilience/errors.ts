import type { FailureCategory } from "./error-category.ts";

/** IRIS cannot be reached now: the circuit is open, or every allowed attempt failed. Routes answer 503. */
export class IrisUnavailableError extends Error {
  readonly reason: "circuit_open" | "retries_exhausted" | "deadline_exceeded";
  readonly retryAfterSeconds: number;
  readonly category: FailureCategory | undefined;
  readonly status: number | undefined;
  constructor(init: {
    reason: IrisUnavailableError["reason"];
    retryAfterSeconds: number;
    category?: FailureCategory;
    status?: number;
  }) {
    super(`IRIS API unavailable (${init.reason}${init.category ? `, last failure: ${init.category}` : ""})`);
    this.name = "IrisUnavailableError";
    this.reason = init.reason;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.category = init.category;
    this.status = init.status;
  }
}

/** IRIS answered with a 4xx that repeating cannot fix (a bad key, a forbidden merchant). Routes answer 502. */
export class IrisRejectedError extends Error {
  readonly status: number;
  readonly irisMessage: string | undefined;
  constructor(status: number, irisMessage?: string) {
    super(`IRIS API rejected the request with ${status}${irisMessage ? `: ${irisMessage}` : ""}`);
    this.name = "IrisRejectedError";
    this.status = status;
    this.irisMessage = irisMessage;
  }
}

/** IRIS answered 2xx with JSON we cannot read as the spec describes. Routes answer 502. */
export class IrisSchemaError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`IRIS API returned an unexpected response: ${issues.slice(0, 5).join("; ")}`);
    this.name = "IrisSchemaError";
    this.issues = issues;
  }
}
