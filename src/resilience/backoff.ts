/** Share of a delay by which each retry is spread either way, so isolates that failed together retry apart. */
export const JITTER_RATIO = 0.2;

/**
 * Delay before retry number `retry` (1-based): `baseMs × 2^(retry-1)`, spread by ±20 %.
 * `random` returns a number in [0, 1); 0.5 gives the undisturbed delay.
 */
export function backoffDelayMs(retry: number, baseMs: number, random: () => number): number {
  const nominal = baseMs * 2 ** (retry - 1);
  const spread = 1 - JITTER_RATIO + 2 * JITTER_RATIO * random();
  return Math.round(nominal * spread);
}

/**
 * Reads a `Retry-After` header: delta seconds or an HTTP date. Returns milliseconds to wait from `nowMs`, never
 * negative, or undefined when the header is missing or unreadable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Delay before a queue message whose handling crashed is delivered again: 5 s, 10 s, 20 s ... at most 5 minutes. */
export function redeliveryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}
