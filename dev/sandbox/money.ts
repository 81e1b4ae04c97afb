// Money stays in integer cents inside the sandbox; it becomes a string ("91.57") or a number (91.57) only at
// the edge, the way each IRIS endpoint prints it. Sums are therefore exact.

export function centsToString(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Residual endpoints print money as JSON numbers; 12345 cents -> 123.45 (shortest float that round-trips). */
export function centsToNumber(cents: number): number {
  return Number(centsToString(cents));
}

/** Hundredths (used for bps) as a two-decimal string, like money. */
export const hundredthsToString = centsToString;
export const hundredthsToNumber = centsToNumber;
