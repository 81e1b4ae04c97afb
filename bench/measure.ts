// Load generation and statistics shared by the suites. Requests go over keep-alive connections (one pool per
// comparison, shared by its variants) at a fixed concurrency; every loop is bounded by a request count and by
// a time limit. Variants are measured in interleaved rounds whose order rotates, so that a burst of noise on
// the shared machine lands on all of them instead of on whichever ran at that moment.
import http from "node:http";
import type { BenchOptions, Ratio, SuiteContext, Table } from "./suite.ts";

export interface RequestSpec {
  url: string;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  body?: string;
  /** The status every answer must have; anything else counts as an error. */
  expectStatus: number;
}

export interface Variant extends RequestSpec {
  name: string;
}

export interface LoadSample {
  latenciesMs: number[];
  elapsedMs: number;
  /** Answers with the expected status. */
  completed: number;
  errors: number;
  /** The first unexpected answer or failure, for the report. */
  firstError?: string;
  /** True when the round's time limit or an abort cut it short. */
  stoppedEarly: boolean;
}

export interface Summary {
  requests: number;
  errors: number;
  rps: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadOptions {
  requests: number;
  concurrency: number;
  /** The whole load stops starting requests after this long. */
  timeLimitMs: number;
  agent: http.Agent;
  signal?: AbortSignal;
  /** A single request's limit. */
  requestTimeoutMs?: number;
}

/** Sends `requests` requests with `concurrency` in flight, and times each one from send to the end of its body. */
export async function runLoad(spec: RequestSpec, options: LoadOptions): Promise<LoadSample> {
  const latenciesMs: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stoppedEarly = false;
  const started = performance.now();
  const until = started + options.timeLimitMs;
  const lane = async (): Promise<void> => {
    for (;;) {
      if (issued >= options.requests) return;
      if (options.signal?.aborted || performance.now() > until) {
        stoppedEarly = true;
        return;
      }
      issued += 1;
      const t0 = performance.now();
      const outcome = await send(spec, options.agent, options.requestTimeoutMs ?? 10_000);
      const ms = performance.now() - t0;
      if (outcome.status === spec.expectStatus) {
        latenciesMs.push(ms);
      } else {
        errors += 1;
        firstError ??= `${outcome.status}: ${outcome.body.slice(0, 200)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, lane));
  const sample: LoadSample = {
    latenciesMs,
    elapsedMs: performance.now() - started,
    completed: latenciesMs.length,
    errors,
    stoppedEarly,
  };
  if (firstError !== undefined) sample.firstError = firstError;
  return sample;
}

function send(spec: RequestSpec, agent: http.Agent, timeoutMs: number): Promise<{ status: number | string; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(spec.url, { method: spec.method ?? "GET", headers: spec.headers ?? {}, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (error) => resolve({ status: "error", body: error.message }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) => resolve({ status: "error", body: error.message }));
    req.end(spec.body);
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Pools samples: latencies together, throughput as answers over the summed elapsed time. */
export function summarize(samples: readonly LoadSample[]): Summary {
  const all = samples.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  const elapsedMs = samples.reduce((sum, s) => sum + s.elapsedMs, 0);
  const total = all.reduce((sum, v) => sum + v, 0);
  return {
    requests: all.length,
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    rps: elapsedMs > 0 ? (all.length * 1000) / elapsedMs : NaN,
    mean: all.length > 0 ? total / all.length : NaN,
    p50: percentile(all, 0.5),
    p90: percentile(all, 0.9),
    p99: percentile(all, 0.99),
    max: all.length > 0 ? (all[all.length - 1] as number) : NaN,
  };
}

export interface InterleavedResult {
  variants: string[];
  /** rounds[r][variant] */
  rounds: Array<Record<string, Summary>>;
  /** Order the variants ran in, per round. */
  orders: string[][];
  pooled: Record<string, Summary>;
  /** Every unexpected answer seen, by variant (first one quoted). */
  errors: Record<string, { count: number; first?: string }>;
}

export interface InterleaveHooks {
  /** Called before each measured (not warm-up) load of a variant. */
  beforeLoad?: (variant: Variant, round: number) => Promise<void>;
}

/**
 * Warm-up, then `rounds` rounds in which every variant runs once; round r starts at variant r (mod n), so each
 * variant runs first, second, ... equally often. Stops between loads once ctx.signal aborts.
 */
export async function interleave(ctx: SuiteContext, variants: readonly Variant[], hooks: InterleaveHooks = {}): Promise<InterleavedResult> {
  const { options, signal, log } = ctx;
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const load = (variant: Variant, requests: number): Promise<LoadSample> =>
    runLoad(variant, { requests, concurrency: options.concurrency, timeLimitMs: options.roundTimeoutMs, agent, signal });
  const samples = new Map<string, LoadSample[]>(variants.map((v) => [v.name, []]));
  const errors: InterleavedResult["errors"] = {};
  const result: InterleavedResult = { variants: variants.map((v) => v.name), rounds: [], orders: [], pooled: {}, errors };
  const noteErrors = (variant: Variant, sample: LoadSample): void => {
    if (sample.errors === 0) return;
    const entry = (errors[variant.name] ??= { count: 0 });
    entry.count += sample.errors;
    if (entry.first === undefined && sample.firstError !== undefined) entry.first = sample.firstError;
  };
  try {
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} requests per variant`);
      for (const variant of variants) {
        signal.throwIfAborted();
        noteErrors(variant, await load(variant, options.warmup));
      }
    }
    for (let round = 0; round < options.rounds; round += 1) {
      const order = variants.map((_, i) => variants[(round + i) % variants.length] as Variant);
      const summaries: Record<string, Summary> = {};
      for (const variant of order) {
        signal.throwIfAborted();
        await hooks.beforeLoad?.(variant, round);
        const sample = await load(variant, options.requests);
        noteErrors(variant, sample);
        if (sample.stoppedEarly && !signal.aborted) log(`  ${variant.name}: round ${round + 1} hit its time limit after ${sample.completed} answers`);
        samples.get(variant.name)?.push(sample);
        summaries[variant.name] = summarize([sample]);
      }
      result.rounds.push(summaries);
      result.orders.push(order.map((v) => v.name));
      log(
        `round ${round + 1}/${options.rounds}: ` +
          order.map((v) => `${v.name} p50 ${fmt(summaries[v.name]?.p50)} ms ${fmt(summaries[v.name]?.rps, 0)} rps`).join(", "),
      );
    }
  } finally {
    agent.destroy();
  }
  for (const variant of variants) result.pooled[variant.name] = summarize(samples.get(variant.name) ?? []);
  return result;
}

export type Metric = "p50" | "p90" | "p99" | "mean" | "rps";

/**
 * numerator / denominator of one metric, pooled over all rounds and round by round. The headline is the median
 * of the per-round ratios for p50, mean and rps (robust to a noisy round), the pooled ratio for p90 and p99
 * (a round's tail rests on too few answers).
 */
export function compare(result: InterleavedResult, numerator: string, denominator: string, metric: Metric, note?: string): Ratio {
  const value = (s: Summary | undefined) => (s ? s[metric] : NaN);
  const perRound = result.rounds.map((r) => value(r[numerator]) / value(r[denominator])).filter(Number.isFinite).sort((a, b) => a - b);
  const pooled = value(result.pooled[numerator]) / value(result.pooled[denominator]);
  const tail = metric === "p90" || metric === "p99";
  const ratio: Ratio = { name: `${numerator} / ${denominator} ${metric}`, value: pooled, basis: "pooled", pooled };
  if (perRound.length > 0) {
    const median = percentile(perRound, 0.5);
    ratio.perRound = { median, min: perRound[0] as number, max: perRound[perRound.length - 1] as number };
    if (!tail) {
      ratio.value = median;
      ratio.basis = "per-round median";
    }
  }
  if (note !== undefined) ratio.note = note;
  return ratio;
}

/** One row per variant: pooled figures over every measured round. */
export function summaryTable(title: string, result: InterleavedResult, labels: Record<string, string> = {}): Table {
  return {
    title,
    columns: ["variant", "answers", "errors", "rps", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms"],
    rows: result.variants.map((name) => {
      const s = result.pooled[name] as Summary;
      return [labels[name] ?? name, s.requests, s.errors, round(s.rps, 0), round(s.mean, 2), round(s.p50, 2), round(s.p90, 2), round(s.p99, 2), round(s.max, 1)];
    }),
  };
}

export function round(value: number, digits: number): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function fmt(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

/** Options merged from the runner's defaults, the suite's defaults and the command line, in that order. */
export function resolveOptions(base: BenchOptions, suite: Partial<BenchOptions> | undefined, cli: Partial<BenchOptions>): BenchOptions {
  return { ...base, ...suite, ...cli };
}
