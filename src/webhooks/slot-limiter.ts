// At most `max` holders at a time; the others wait in arrival order. An isolate may serve many deliveries at once
// and each needs its own database connection while it is stored: this keeps a burst from opening more
// connections than the database accepts, at the cost of a few milliseconds' wait. No I/O object is shared: only
// plain promises, and each request opens and closes its own connection.
//
// A holder whose request was cancelled never releases its slot (its `finally` never runs), so every slot carries
// a lease: once it passes, the slot counts as free again.

export class SlotLimiter {
  readonly max: number;
  private readonly leaseMs: number;
  private readonly holders = new Map<number, number>();
  private readonly waiters: Array<{ now: () => number; grant: (id: number) => void }> = [];
  private lastId = 0;

  constructor(max: number, leaseMs: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`bad slot count ${max}`);
    this.max = max;
    this.leaseMs = leaseMs;
  }

  /** Slots held now (leases not yet passed). */
  held(now: number): number {
    this.expire(now);
    return this.holders.size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Runs `work` holding a slot. `now` is the caller's clock. */
  async run<T>(now: () => number, work: () => Promise<T>): Promise<T> {
    const id = await this.acquire(now);
    try {
      return await work();
    } finally {
      this.release(id, now());
    }
  }

  private acquire(now: () => number): Promise<number> {
    this.expire(now());
    this.handOut();
    if (this.waiters.length === 0 && this.holders.size < this.max) return Promise.resolve(this.take(now()));
    return new Promise<number>((grant) => this.waiters.push({ now, grant }));
  }

  private release(id: number, now: number): void {
    this.holders.delete(id);
    this.expire(now);
    this.handOut();
  }

  /** Free slots go to the longest waiting first. */
  private handOut(): void {
    while (this.waiters.length > 0 && this.holders.size < this.max) {
      const waiter = this.waiters.shift()!;
      waiter.grant(this.take(waiter.now()));
    }
  }

  private take(now: number): number {
    const id = ++this.lastId;
    this.holders.set(id, now + this.leaseMs);
    return id;
  }

  private expire(now: number): void {
    for (const [id, until] of this.holders) if (until <= now) this.holders.delete(id);
  }
}
