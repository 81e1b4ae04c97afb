// Small seeded randomness. Everything the sandbox invents comes from these functions so that one seed always
// reproduces the same instance; Math.random() is never used for data or faults.

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for test data; returns floats in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes integers into one 32-bit seed, so an entity's randomness depends only on its own coordinates
 * (seed, merchant, day...) and not on the order in which entities happen to be generated.
 */
export function hashSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    // Split into two 32-bit halves so day numbers, mids and large seeds all contribute.
    const lo = part >>> 0;
    const hi = Math.floor(part / 4294967296) >>> 0;
    for (const word of [lo, hi]) {
      h = Math.imul(h ^ word, 0x01000193);
      h ^= h >>> 13;
      h = Math.imul(h, 0x5bd1e995);
      h ^= h >>> 15;
    }
  }
  return h >>> 0;
}

export function rngFor(...parts: number[]): Rng {
  return mulberry32(hashSeed(...parts));
}

/** Integer in [min, max], both inclusive. */
export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function chance(rng: Rng, probability: number): boolean {
  return rng() < probability;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pick from an empty list");
  return items[Math.floor(rng() * items.length)] as T;
}

/** Picks `count` distinct items (or all of them when fewer exist), keeping the input order. */
export function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  const indexes = items.map((_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (indexes.length - i));
    const tmp = indexes[i] as number;
    indexes[i] = indexes[j] as number;
    indexes[j] = tmp;
  }
  return indexes
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => items[i] as T);
}

/** Multiplicative noise around 1 with a long right tail, the usual shape of sales amounts. */
export function logNormalish(rng: Rng, spread: number): number {
  // Sum of three uniforms approximates a normal well enough for invented money.
  const normal = (rng() + rng() + rng() - 1.5) * 2;
  return Math.exp(normal * spread);
}
