// Injected failures for the IRIS surface. The decision for the n-th request depends only on the settings, the
// seed and n: the fault RNG is advanced by the same amount for every request whatever it decides, so a seed
// replays the same sequence of faults request by request.

import { hashSeed, mulberry32, type Rng } from "./prng.ts";

export interface FaultSettings {
  /** Share of requests answered with a 5xx (500, 502, 503 or 504). */
  errorRate: number;
  /** Share of requests that never get an answer (until the client gives up or the sandbox closes). */
  hangRate: number;
  /** Every `every` requests, the next `length` get 429 with Retry-After. */
  rateLimitBurst?: { every: number; length: number; retryAfterSeconds?: number };
  /** Share of requests whose socket is destroyed without any response. */
  dropRate: number;
  /** Share of successful answers whose JSON body is cut short (still status 200). */
  malformedRate: number;
  /** Added delay before answering, uniformly distributed. */
  latencyMs?: { min: number; max: number };
  /** Every request answers 503. */
  outage: boolean;
  /**
   * What the next requests do, in order, before the rates above apply again: "ok", "hang", "drop", "malformed",
   * a status such as "500" or "503", or "429:<retry-after seconds>". Lets a test say exactly "fail twice, then
   * answer" without depending on the seed.
   */
  script?: string[];
}

export type FaultProfileName = "none" | "chaos" | "flaky" | "outage";

export const FAULT_PROFILES: Readonly<Record<FaultProfileName, FaultSettings>> = {
  none: { errorRate: 0, hangRate: 0, dropRate: 0, malformedRate: 0, outage: false },
  chaos: {
    errorRate: 0.2,
    hangRate: 0.05,
    dropRate: 0.02,
    malformedRate: 0.01,
    rateLimitBurst: { every: 40, length: 3, retryAfterSeconds: 1 },
    latencyMs: { min: 2, max: 25 },
    outage: false,
  },
  flaky: {
    errorRate: 0.05,
    hangRate: 0.01,
    dropRate: 0.01,
    malformedRate: 0.005,
    rateLimitBurst: { every: 150, length: 2, retryAfterSeconds: 1 },
    latencyMs: { min: 0, max: 10 },
    outage: false,
  },
  outage: { errorRate: 0, hangRate: 0, dropRate: 0, malformedRate: 0, outage: true },
};

export type FaultKind = "none" | "outage" | "burst" | "hang" | "drop" | "error" | "malformed";

export interface FaultDecision {
  index: number;
  kind: FaultKind;
  /** For "error": the status to answer; for "outage" 503; for "burst" 429. */
  status?: number;
  retryAfterSeconds?: number;
  /** For "malformed": the fraction of the body that is sent. */
  cut?: number;
  latencyMs: number;
}

/** Accepts a profile name or partial settings (missing numbers mean 0); throws on anything unusable. */
export function resolveFaults(input: unknown): FaultSettings {
  if (input === undefined || input === null) return { ...FAULT_PROFILES.none };
  if (typeof input === "string") {
    const profile = FAULT_PROFILES[input as FaultProfileName];
    if (!profile) throw new Error(`unknown fault profile "${input}" (none, chaos, flaky, outage)`);
    return structuredClone(profile);
  }
  if (typeof input !== "object") throw new Error("faults must be a profile name or an object");
  const raw = input as Record<string, unknown>;
  const rate = (name: string): number => {
    const v = raw[name] ?? 0;
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new Error(`faults.${name} must be a number between 0 and 1`);
    return v;
  };
  const settings: FaultSettings = {
    errorRate: rate("errorRate"),
    hangRate: rate("hangRate"),
    dropRate: rate("dropRate"),
    malformedRate: rate("malformedRate"),
    outage: raw.outage === true,
  };
  if (settings.errorRate + settings.hangRate + settings.dropRate + settings.malformedRate > 1) {
    throw new Error("faults: errorRate + hangRate + dropRate + malformedRate must not exceed 1");
  }
  if (raw.rateLimitBurst !== undefined && raw.rateLimitBurst !== null) {
    const b = raw.rateLimitBurst as Record<string, unknown>;
    const every = b.every;
    const length = b.length;
    const retryAfter = b.retryAfterSeconds ?? 1;
    if (!Number.isInteger(every) || (every as number) < 1 || !Number.isInteger(length) || (length as number) < 1) {
      throw new Error("faults.rateLimitBurst needs integer every >= 1 and length >= 1");
    }
    if (!Number.isInteger(retryAfter) || (retryAfter as number) < 0) throw new Error("faults.rateLimitBurst.retryAfterSeconds must be an integer >= 0");
    settings.rateLimitBurst = { every: every as number, length: length as number, retryAfterSeconds: retryAfter as number };
  }
  if (raw.script !== undefined && raw.script !== null) {
    if (!Array.isArray(raw.script)) throw new Error("faults.script must be an array of steps");
    for (const step of raw.script) parseScriptStep(step);
    settings.script = raw.script as string[];
  }
  if (raw.latencyMs !== undefined && raw.latencyMs !== null) {
    const l = raw.latencyMs as Record<string, unknown>;
    if (typeof l.min !== "number" || typeof l.max !== "number" || l.min < 0 || l.max < l.min) {
      throw new Error("faults.latencyMs needs 0 <= min <= max");
    }
    settings.latencyMs = { min: l.min, max: l.max };
  }
  return settings;
}

const ERROR_STATUSES = [500, 502, 503, 504] as const;

/** Reads one scripted step; throws on anything it does not know. */
export function parseScriptStep(step: unknown): Pick<FaultDecision, "kind" | "status" | "retryAfterSeconds" | "cut"> {
  if (typeof step !== "string") throw new Error("faults.script steps are strings");
  if (step === "ok") return { kind: "none" };
  if (step === "hang" || step === "drop") return { kind: step };
  if (step === "malformed") return { kind: "malformed", cut: 0.5 };
  const limited = /^429(?::(\d+))?$/.exec(step);
  if (limited) return { kind: "burst", status: 429, retryAfterSeconds: Number(limited[1] ?? 1) };
  if (/^5\d\d$/.test(step)) return { kind: "error", status: Number(step) };
  throw new Error(`unknown faults.script step "${step}" (ok, hang, drop, malformed, 5xx, 429:<seconds>)`);
}

/** Pure: what happens to request number `index` given four uniform draws for it. */
export function decideFault(settings: FaultSettings, index: number, draws: readonly [number, number, number, number]): FaultDecision {
  const [u1, u2, u3, u4] = draws;
  const latency = settings.latencyMs ? settings.latencyMs.min + Math.floor(u4 * (settings.latencyMs.max - settings.latencyMs.min + 1)) : 0;
  const base = { index, latencyMs: latency };
  if (settings.outage) return { ...base, kind: "outage", status: 503 };
  const burst = settings.rateLimitBurst;
  if (burst && index % (burst.every + burst.length) >= burst.every) {
    return { ...base, kind: "burst", status: 429, retryAfterSeconds: burst.retryAfterSeconds ?? 1 };
  }
  let edge = settings.hangRate;
  if (u1 < edge) return { ...base, kind: "hang", latencyMs: 0 };
  edge += settings.dropRate;
  if (u1 < edge) return { ...base, kind: "drop" };
  edge += settings.errorRate;
  if (u1 < edge) return { ...base, kind: "error", status: ERROR_STATUSES[Math.floor(u2 * ERROR_STATUSES.length)]! };
  edge += settings.malformedRate;
  if (u1 < edge) return { ...base, kind: "malformed", cut: 0.2 + u3 * 0.6 };
  return { ...base, kind: "none" };
}

/** Per-instance fault state: settings plus the seeded sequence. Changing settings keeps the sequence going. */
export class FaultInjector {
  settings: FaultSettings;
  private readonly seed: number;
  private rng: Rng;
  private index = 0;
  private scriptPosition = 0;
  readonly counts: Record<FaultKind, number> = { none: 0, outage: 0, burst: 0, hang: 0, drop: 0, error: 0, malformed: 0 };

  constructor(seed: number, settings: FaultSettings) {
    this.seed = seed;
    this.settings = settings;
    this.rng = mulberry32(hashSeed(seed, 0xfa17));
  }

  next(): FaultDecision {
    const draws = [this.rng(), this.rng(), this.rng(), this.rng()] as const;
    const script = this.settings.script;
    const scripted = script && this.scriptPosition < script.length ? parseScriptStep(script[this.scriptPosition++]) : undefined;
    const decision = scripted ? { index: this.index++, latencyMs: 0, ...scripted } : decideFault(this.settings, this.index++, draws);
    this.counts[decision.kind]++;
    return decision;
  }

  /** Restarts the sequence from the seed, so a test can replay it. */
  reset(): void {
    this.rng = mulberry32(hashSeed(this.seed, 0xfa17));
    this.index = 0;
    this.scriptPosition = 0;
    for (const k of Object.keys(this.counts) as FaultKind[]) this.counts[k] = 0;
  }

  get requests(): number {
    return this.index;
  }
}
