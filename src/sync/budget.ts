// Subrequest accounting for one Worker invocation. Workers count every outbound request (fetch, Durable Object
// call, queue send, the database's WebSocket) against a per-invocation limit, 50 on the Free plan; a sync unit
// asks before each IRIS call whether the worst case still fits, and otherwise stops at its last checkpoint and
// continues in a fresh invocation.

/** A resilient IRIS call talks to the circuit breaker twice: acquire before, report after. */
export const BREAKER_RPCS_PER_CALL = 2;
/** The database connection (one WebSocket per invocation). */
export const DATABASE_CONNECTIONS = 1;
/** Kept back for the queue sends an invocation makes when it stops: its continuation or its follow-up units. */
export const QUEUE_SEND_RESERVE = 2;
/** Messages per queue sendBatch call. */
export const QUEUE_BATCH_SIZE = 100;

/** The most subrequests one IRIS call can spend: every attempt the resilience layer may make, plus the breaker. */
export function worstCaseIrisCost(maxRetries: number): number {
  return 1 + maxRetries + BREAKER_RPCS_PER_CALL;
}

/** How many IRIS calls surely fit in a fresh invocation; 0 means the settings cannot make progress at all. */
export function irisCallsPerInvocation(limit: number, maxRetries: number): number {
  const free = limit - DATABASE_CONNECTIONS - QUEUE_SEND_RESERVE;
  return Math.max(0, Math.floor(free / worstCaseIrisCost(maxRetries)));
}

export class SubrequestBudget {
  readonly limit: number;
  readonly maxRetries: number;
  private used: number;

  constructor(options: { limit: number; maxRetries: number; used?: number }) {
    this.limit = options.limit;
    this.maxRetries = options.maxRetries;
    this.used = options.used ?? DATABASE_CONNECTIONS;
  }

  get spent(): number {
    return this.used;
  }

  get remaining(): number {
    return this.limit - this.used;
  }

  canAfford(subrequests: number): boolean {
    return this.used + subrequests <= this.limit;
  }

  /** Whether one more IRIS call fits, keeping the reserve for the queue sends that end the invocation. */
  canAffordIrisCall(): boolean {
    return this.canAfford(worstCaseIrisCost(this.maxRetries) + QUEUE_SEND_RESERVE);
  }

  /** Records subrequests actually made (or, when the real count is unknown, their worst case). */
  charge(subrequests: number): void {
    if (!Number.isInteger(subrequests) || subrequests < 0) throw new RangeError(`bad subrequest count ${subrequests}`);
    this.used += subrequests;
  }

  /** Records one IRIS call given the HTTP attempts it made; the breaker's two calls are charged with it. */
  chargeIrisCall(attempts: number): void {
    this.charge(attempts + BREAKER_RPCS_PER_CALL);
  }
}
