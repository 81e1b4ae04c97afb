// Request counters of one instance's IRIS surface. The per-invocation counts (header X-Invocation-Id) let tests
// check that no single Worker invocation exceeded its subrequest budget.

export interface StatsSnapshot {
  total: number;
  byRoute: Record<string, number>;
  /** HTTP status codes as strings, plus "hung", "dropped" and "aborted" (client left during injected latency). */
  byStatus: Record<string, number>;
  byInvocation: Record<string, number>;
  /** Requests that carried no X-Invocation-Id. */
  withoutInvocation: number;
  maxPerInvocation: number;
  faults: Record<string, number>;
}

export class RequestStats {
  private total = 0;
  private byRoute = new Map<string, number>();
  private byStatus = new Map<string, number>();
  private byInvocation = new Map<string, number>();
  private withoutInvocation = 0;
  private faults = new Map<string, number>();

  request(route: string, invocationId: string | undefined): void {
    this.total++;
    bump(this.byRoute, route);
    if (invocationId) bump(this.byInvocation, invocationId);
    else this.withoutInvocation++;
  }

  outcome(status: number | "hung" | "dropped" | "aborted"): void {
    bump(this.byStatus, String(status));
  }

  fault(kind: string): void {
    if (kind !== "none") bump(this.faults, kind);
  }

  snapshot(): StatsSnapshot {
    let max = 0;
    for (const n of this.byInvocation.values()) max = Math.max(max, n);
    return {
      total: this.total,
      byRoute: Object.fromEntries(this.byRoute),
      byStatus: Object.fromEntries(this.byStatus),
      byInvocation: Object.fromEntries(this.byInvocation),
      withoutInvocation: this.withoutInvocation,
      maxPerInvocation: max,
      faults: Object.fromEntries(this.faults),
    };
  }

  reset(): void {
    this.total = 0;
    this.withoutInvocation = 0;
    this.byRoute.clear();
    this.byStatus.clear();
    this.byInvocation.clear();
    this.faults.clear();
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
