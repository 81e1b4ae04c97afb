/**
 * Time as the resilience layer sees it. Injected so tests move time by hand instead of waiting, and so the
 * Durable Object and every isolate judge leases and reset times by the caller's clock.
 */
export interface Clock {
  now(): number;
  /**
   * Resolves after `ms`, or rejects with the signal's reason once it aborts. `purpose` says what the wait is for,
   * so a test clock can let backoff waits pass at once while holding a timeout until the test advances time.
   */
  sleep(ms: number, options?: { signal?: AbortSignal; purpose?: SleepPurpose }): Promise<void>;
}

export type SleepPurpose = "backoff" | "retry-after" | "timeout";

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, options) =>
    new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
