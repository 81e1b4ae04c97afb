export interface SizeKnobs {
  merchants: number;
  processors: number;
  /** Months of published residual reports, ending with the month before "now". */
  residualMonths: number;
  /** Days of batches that exist, ending yesterday. */
  batchDays: number;
  /** Share of merchants (0..1) that batch inside the batch window. */
  batchMerchantShare?: number;
}

export type SizeName = "tiny" | "small" | "large";

export const SIZE_PRESETS: Readonly<Record<SizeName, Required<SizeKnobs>>> = {
  tiny: { merchants: 30, processors: 2, residualMonths: 3, batchDays: 7, batchMerchantShare: 0.6 },
  small: { merchants: 300, processors: 4, residualMonths: 13, batchDays: 30, batchMerchantShare: 0.7 },
  // Batches only for a tenth of the merchants over three days keeps the volumes stream benchmarkable.
  large: { merchants: 50_000, processors: 4, residualMonths: 24, batchDays: 3, batchMerchantShare: 0.1 },
};

export function resolveSize(size: SizeName | SizeKnobs | undefined): Required<SizeKnobs> {
  if (size === undefined) return { ...SIZE_PRESETS.small };
  if (typeof size === "string") {
    const preset = SIZE_PRESETS[size];
    if (!preset) throw new Error(`unknown size "${String(size)}" (tiny, small, large or explicit knobs)`);
    return { ...preset };
  }
  const knobs: Required<SizeKnobs> = {
    merchants: size.merchants,
    processors: size.processors,
    residualMonths: size.residualMonths,
    batchDays: size.batchDays,
    batchMerchantShare: size.batchMerchantShare ?? 0.6,
  };
  const positive = (n: number, name: string, min: number): void => {
    if (!Number.isInteger(n) || n < min) throw new Error(`size.${name} must be an integer >= ${min}`);
  };
  positive(knobs.merchants, "merchants", 1);
  // Ids of generated card transactions pack the merchant index in six digits.
  if (knobs.merchants > 500_000) throw new Error("size.merchants must be <= 500000");
  positive(knobs.processors, "processors", 1);
  positive(knobs.residualMonths, "residualMonths", 0);
  positive(knobs.batchDays, "batchDays", 0);
  if (knobs.processors > 12) throw new Error("size.processors must be <= 12");
  if (!(knobs.batchMerchantShare >= 0 && knobs.batchMerchantShare <= 1)) {
    throw new Error("size.batchMerchantShare must be between 0 and 1");
  }
  return knobs;
}
