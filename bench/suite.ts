// The contract between the runner (bench/run.ts) and a suite (bench/suites/<name>.ts). A suite says what it
// needs started, the runner starts it (bench/stack.ts), hands it over in `ctx`, prints what the suite returns
// and stops everything afterwards, also when the suite throws or the user presses Ctrl-C.
import type { Stack, StackNeeds } from "./stack.ts";

export interface BenchOptions {
  /** Measured rounds; every round runs each variant once, in an order that rotates from round to round. */
  rounds: number;
  /** Requests per variant per round. */
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Requests per variant sent before the first round and thrown away. */
  warmup: number;
  /** Upper bound on one variant's round, in ms: a round stops early rather than run away on a slow machine. */
  roundTimeoutMs: number;
}

export interface SuiteContext {
  options: BenchOptions;
  /** What `needs` asked for, running. */
  stack: Stack;
  /** Progress lines, printed to stderr so that stdout keeps only the results. */
  log: (line: string) => void;
  /** Aborted on Ctrl-C or SIGTERM: loops check it and stop, the runner then stops the stack. */
  signal: AbortSignal;
}

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

/**
 * A side-by-side comparison measured in the same run: numerator / denominator of one metric. `value` is the
 * headline: the median of the round-by-round ratios for central figures (p50, mean, rps), which a burst of
 * noise in one round cannot move far; the pooled ratio for tail figures (p90, p99), which need every answer.
 */
export interface Ratio {
  name: string;
  value: number;
  /** Which of the two `value` is. */
  basis: "per-round median" | "pooled";
  /** The ratio of the figures pooled over all rounds. */
  pooled: number;
  /** Spread of the round-by-round ratios, when there were rounds. */
  perRound?: { median: number; min: number; max: number };
  /** How to read it, e.g. "lower is better" or "1.00 = no cost". */
  note?: string;
}

export interface SuiteResult {
  tables: Table[];
  ratios: Ratio[];
  /** Cross-checks and remarks printed after the tables. */
  notes?: string[];
  /** What went wrong while measuring (errors, failed cross-checks): printed, and the run exits 1. */
  problems?: string[];
  /** Anything else worth keeping in the JSON result (raw per-round figures, counters). */
  data?: Record<string, unknown>;
}

export interface Suite {
  name: string;
  description: string;
  needs: StackNeeds;
  /** Defaults of this suite; command-line options override them. */
  defaults?: Partial<BenchOptions>;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

/** Identity function that gives a suite file its types; the file default-exports the result. */
export function defineSuite(suite: Suite): Suite {
  if (!/^[a-z][a-z0-9-]*$/.test(suite.name)) throw new Error(`suite name "${suite.name}" must be kebab-case`);
  return suite;
}
