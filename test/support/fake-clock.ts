import type { Clock, SleepPurpose } from "../../src/resilience/clock.ts";

interface Sleeper {
  due: number;
  purpose: SleepPurpose | undefined;
  resolve: () => void;
}

/**
 * A clock that moves only when told. Waits whose purpose is listed in `autoAdvance` pass at once, moving the
 * clock forward by their length (so backoff waits can be checked without waiting); every other wait (a timeout,
 * say) stays pending until the test calls advance().
 */
export class FakeClock implements Clock {
  private time: number;
  private readonly autoAdvance: ReadonlySet<SleepPurpose>;
  private readonly sleepers = new Set<Sleeper>();
  private readonly watchers: Array<{ purpose: SleepPurpose; resolve: () => void }> = [];
  readonly sleeps: Array<{ ms: number; purpose: SleepPurpose | undefined }> = [];

  constructor(options: { start?: number; autoAdvance?: SleepPurpose[] } = {}) {
    this.time = options.start ?? Date.UTC(2026, 11, 4, 12, 0, 0);
    this.autoAdvance = new Set(options.autoAdvance ?? ["backoff", "retry-after"]);
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, options: { signal?: AbortSignal; purpose?: SleepPurpose } = {}): Promise<void> {
    const { signal, purpose } = options;
    this.sleeps.push({ ms, purpose });
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (purpose && this.autoAdvance.has(purpose)) {
      this.time += ms;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        due: this.time + ms,
        purpose,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers.add(sleeper);
      for (const w of this.watchers.splice(0)) {
        if (w.purpose === purpose) w.resolve();
        else this.watchers.push(w);
      }
    });
  }

  /** Moves time forward, waking every wait that falls due. */
  advance(ms: number): void {
    this.time += ms;
    for (const s of [...this.sleepers]) {
      if (s.due <= this.time) {
        this.sleepers.delete(s);
        s.resolve();
      }
    }
  }

  /** Resolves once a wait of this purpose is pending (for example: an attempt is now in flight with its timeout). */
  pending(purpose: SleepPurpose): Promise<void> {
    if ([...this.sleepers].some((s) => s.purpose === purpose)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ purpose, resolve }));
  }

  delays(purpose: SleepPurpose): number[] {
    return this.sleeps.filter((s) => s.purpose === purpose).map((s) => s.ms);
  }
}
