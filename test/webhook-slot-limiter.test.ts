import { describe, expect, it } from "vitest";
import { SlotLimiter } from "../src/webhooks/slot-limiter.ts";

/** A task that holds its slot until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("the slot limiter", () => {
  it("runs at most max tasks at once and starts the waiting ones in arrival order", async () => {
    const limiter = new SlotLimiter(2, 10_000);
    const now = () => 0;
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const done = gates.map((g, i) =>
      limiter.run(now, async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    expect(limiter.held(0)).toBe(2);
    expect(limiter.waiting).toBe(3);

    gates[1]!.open();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]!.open();
    gates[4]!.open();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.held(0)).toBe(0);
    expect(limiter.waiting).toBe(0);
  });

  it("frees a slot when its task fails", async () => {
    const limiter = new SlotLimiter(1, 10_000);
    await expect(limiter.run(() => 0, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limiter.run(() => 0, async () => "next")).toBe("next");
  });

  it("counts a slot free once its lease has passed, so a holder that never returns cannot block the rest", async () => {
    const limiter = new SlotLimiter(1, 1000);
    let time = 0;
    const now = () => time;
    void limiter.run(now, () => new Promise<never>(() => undefined)); // a cancelled request: never finishes
    await settle();
    const late = limiter.run(now, async () => "ran");
    await settle();
    expect(limiter.waiting).toBe(1);
    time = 1000;
    expect(await limiter.run(now, async () => "after the lease")).toBe("after the lease");
    expect(await late).toBe("ran");
  });

  it("refuses a limit below one", () => {
    expect(() => new SlotLimiter(0, 1000)).toThrow(RangeError);
  });
});
