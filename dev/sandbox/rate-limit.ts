// Laravel's throttle middleware as IRIS runs it: a fixed window per key (here: the API key sent) that opens on
// the first request; blocked requests do not count; Retry-After says when the window ends.

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets; set when blocked. */
  retryAfterSeconds?: number;
}

export class RateLimiter {
  limit: number;
  windowMs: number;
  private readonly clock: () => number;
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, windowMs: number, clock: () => number) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.clock = clock;
  }

  private current(key: string): { start: number; count: number } {
    const now = this.clock();
    let w = this.windows.get(key);
    if (!w || now >= w.start + this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    return w;
  }

  hit(key: string): RateLimitResult {
    const w = this.current(key);
    if (w.count >= this.limit) {
      const left = w.start + this.windowMs - this.clock();
      return { allowed: false, limit: this.limit, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
    }
    w.count++;
    return { allowed: true, limit: this.limit, remaining: this.limit - w.count };
  }

  /** Headers for answers that never reached the limiter (injected faults). */
  peek(key: string): RateLimitResult {
    const w = this.windows.get(key);
    const used = w && this.clock() < w.start + this.windowMs ? w.count : 0;
    return { allowed: used < this.limit, limit: this.limit, remaining: Math.max(0, this.limit - used) };
  }

  reset(): void {
    this.windows.clear();
  }
}
