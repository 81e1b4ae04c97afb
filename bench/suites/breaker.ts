// What the circuit breaker costs a successful IRIS call, and how fast a call is refused while the circuit is open.
// Four routes of bench/bench-worker.ts make the same request to the same sandbox, side by side in interleaved
// rounds: unguarded (plain fetch), resilient (resilience layer, no breaker), guarded (resilience layer and the
// breaker Durable Object, as in production) and open (guarded, circuit held open: a 503 without IRIS).
import { compare, fmt, interleave, type InterleavedResult, percentile, round, summaryTable, type Variant } from "../measure.ts";
import type { StackWorker } from "../stack.ts";
import { defineSuite, type Ratio, type SuiteContext, type SuiteResult, type Table } from "../suite.ts";

const VARIANTS = ["unguarded", "resilient", "guarded", "open"] as const;
type VariantName = (typeof VARIANTS)[number];

const LABELS: Record<VariantName, string> = {
  unguarded: "unguarded (plain fetch)",
  resilient: "resilient (no breaker)",
  guarded: "guarded (breaker DO)",
  open: "open circuit (503)",
};

/** bench-worker's per-variant counters. */
interface Tally {
  requests: number;
  statuses: Record<string, number>;
  calls: Record<string, number>;
  awaited: number;
  deferred: number;
  deferHandOffs: number;
  deferSettled: number;
  callFailures: number;
  logEvents: Record<string, number>;
}

interface CircuitView {
  upstream: string;
  status: string;
  counters: { calls: number; successes: number; failures: number; rejected: number };
}

interface Circuits {
  guarded: CircuitView;
  open: CircuitView;
}

// How long the open upstream's circuit is held open: far longer than any run.
const OPEN_SECONDS = 3600;

export default defineSuite({
  name: "breaker",
  description: "cost of the circuit breaker on a successful IRIS call (guarded vs unguarded) and latency of an open-circuit 503",
  needs: {
    sandbox: { size: "tiny" },
    worker: {
      config: "bench/wrangler.bench.toml",
      // The open circuit belongs to a second upstream: a sandbox instance of its own, which must see no request.
      vars: async ({ sandbox }) => {
        if (!sandbox) throw new Error("the breaker suite needs the sandbox");
        const instance = await sandbox.control<{ baseUrl: string }>("POST", "/instances", {});
        return { BENCH_OPEN_BASE_URL: instance.baseUrl };
      },
    },
  },
  // Short rounds, many of them: a burst of load from a neighbour then spoils one round of one variant, not the result.
  defaults: { rounds: 10, requests: 200, concurrency: 4, warmup: 200 },
  run,
});

async function run(ctx: SuiteContext): Promise<SuiteResult> {
  const { worker, sandbox } = ctx.stack;
  if (!worker || !sandbox) throw new Error("the breaker suite needs the worker and the sandbox");
  const adminCall = async <T>(method: "GET" | "POST", path: string): Promise<T> => {
    const res = await fetch(`${worker.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${worker.adminToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  const openInstance = instancePath(worker);

  // Each route answers as intended before anything is measured.
  const opened = await adminCall<CircuitView>("POST", `/_bench/open?seconds=${OPEN_SECONDS}`);
  if (opened.status !== "open") throw new Error(`forcing the circuit open left it ${opened.status}`);
  const expected: Record<VariantName, number> = { unguarded: 200, resilient: 200, guarded: 200, open: 503 };
  for (const name of VARIANTS) {
    const res = await fetch(`${worker.url}/${name}`, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    if (res.status !== expected[name]) throw new Error(`/${name} answered ${res.status} instead of ${expected[name]}: ${body.slice(0, 300)}`);
  }

  // Counted from here: the worker's tallies, both circuits' counters and both sandbox instances' request counts.
  await adminCall("POST", "/_bench/counters/reset");
  await sandbox.control("POST", "/stats/reset");
  await sandbox.control("POST", `${openInstance}/_control/stats/reset`);
  const circuitsBefore = await adminCall<Circuits>("GET", "/_bench/circuits");

  const variants: Variant[] = VARIANTS.map((name) => ({ name, url: `${worker.url}/${name}`, expectStatus: expected[name] }));
  const result = await interleave(ctx, variants);

  const tallies = await settledTallies(adminCall, ctx);
  const circuitsAfter = await adminCall<Circuits>("GET", "/_bench/circuits");
  const rootStats = await sandbox.control<{ total: number; byRoute: Record<string, number> }>("GET", "/stats");
  const openStats = await sandbox.control<{ total: number }>("GET", `${openInstance}/_control/stats`);

  const ratios: Ratio[] = [
    compare(result, "guarded", "unguarded", "p50", "breaker + resilience layer; 1.00 = no cost"),
    compare(result, "guarded", "unguarded", "p99"),
    compare(result, "guarded", "unguarded", "rps", "below 1.00 = fewer calls per second"),
    compare(result, "resilient", "unguarded", "p50", "resilience layer alone"),
    compare(result, "resilient", "unguarded", "p99"),
    compare(result, "guarded", "resilient", "p50", "the breaker's Durable Object alone"),
    compare(result, "guarded", "resilient", "p99"),
    compare(result, "open", "unguarded", "p50", "open-circuit 503 vs a successful plain call; below 1.00 = faster"),
    compare(result, "open", "unguarded", "p99"),
    compare(result, "open", "unguarded", "rps"),
  ];

  const tables: Table[] = [
    summaryTable(
      `latency and throughput — ${result.rounds.length} rounds × ${ctx.options.requests} requests per variant, concurrency ${ctx.options.concurrency}`,
      result,
      LABELS,
    ),
    roundTripTable(tallies),
    perRoundTable(result),
  ];

  const notes = crossChecks(result, tallies, circuitsBefore, circuitsAfter, rootStats, openStats);
  const added = (a: VariantName, b: VariantName) => fmt(medianDifference(result, a, b));
  notes.unshift(
    `p50 added per call (median of the per-round differences): guarded − unguarded ${added("guarded", "unguarded")} ms, ` +
      `of which the Durable Object (guarded − resilient) ${added("guarded", "resilient")} ms; open-circuit 503 − unguarded ${added("open", "unguarded")} ms ` +
      `(local figures: a DO round trip here never leaves the machine)`,
  );

  const problems = Object.entries(result.errors).map(([name, entry]) => `${name}: ${entry.count} unexpected answers, first: ${entry.first ?? "?"}`);
  if (reachedIrisMismatch(tallies, rootStats, openStats)) problems.push("the sandbox's request counts do not match the worker's (see notes)");
  return {
    tables,
    ratios,
    notes,
    problems,
    data: { rounds: result.rounds, orders: result.orders, pooled: result.pooled, tallies, circuitsBefore, circuitsAfter, sandbox: { root: rootStats, open: openStats } },
  };
}

/** The instance path (/i/<id>) of the open upstream, from the URL the Worker was given. */
function instancePath(worker: StackWorker): string {
  const match = /\/i\/([^/]+)\/api\/v1$/.exec(worker.vars.BENCH_OPEN_BASE_URL ?? "");
  if (!match) throw new Error("BENCH_OPEN_BASE_URL is not a sandbox instance URL");
  return `/i/${match[1]}`;
}

/** Reads the worker's tallies once every report handed to ctx.waitUntil has finished (bounded wait). */
async function settledTallies(
  adminCall: <T>(method: "GET" | "POST", path: string) => Promise<T>,
  ctx: SuiteContext,
): Promise<Record<VariantName, Tally>> {
  const until = Date.now() + 15_000;
  for (;;) {
    const tallies = await adminCall<Record<VariantName, Tally>>("GET", "/_bench/counters");
    const pending = VARIANTS.reduce((sum, v) => sum + (tallies[v].deferHandOffs - tallies[v].deferSettled), 0);
    if (pending === 0) return tallies;
    if (Date.now() > until || ctx.signal.aborted) {
      ctx.log(`${pending} deferred reports still unfinished; counting them as they stand`);
      return tallies;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function roundTripTable(tallies: Record<VariantName, Tally>): Table {
  const per = (n: number, t: Tally) => round(t.requests > 0 ? n / t.requests : NaN, 3);
  return {
    title: "Durable Object round trips per request (warm-up included), counted in the worker",
    columns: ["variant", "requests", "awaited", "deferred", "acquire", "report", "other", "failed"],
    rows: VARIANTS.map((name) => {
      const t = tallies[name];
      const other = Object.entries(t.calls)
        .filter(([method]) => method !== "acquire" && method !== "report")
        .reduce((sum, [, n]) => sum + n, 0);
      return [LABELS[name], t.requests, per(t.awaited, t), per(t.deferred, t), per(t.calls.acquire ?? 0, t), per(t.calls.report ?? 0, t), per(other, t), t.callFailures];
    }),
  };
}

function perRoundTable(result: InterleavedResult): Table {
  return {
    title: "per round p50 ms (order rotates; the ratios' per-round spread comes from these)",
    columns: ["round", "order", ...VARIANTS.map((v) => `${v} p50`), "guarded/unguarded"],
    rows: result.rounds.map((r, i) => [
      i + 1,
      (result.orders[i] ?? []).map((name) => name.slice(0, 4)).join(">"),
      ...VARIANTS.map((v) => round(r[v]?.p50 ?? NaN, 2)),
      round((r.guarded?.p50 ?? NaN) / (r.unguarded?.p50 ?? NaN), 2),
    ]),
  };
}

function crossChecks(
  result: InterleavedResult,
  tallies: Record<VariantName, Tally>,
  before: Circuits,
  after: Circuits,
  rootStats: { total: number; byRoute: Record<string, number> },
  openStats: { total: number },
): string[] {
  const notes: string[] = [];
  const guardedReports = after.guarded.counters.calls - before.guarded.counters.calls;
  const guardedSuccesses = after.guarded.counters.successes - before.guarded.counters.successes;
  notes.push(
    `guarded circuit (${after.guarded.upstream}, ${after.guarded.status}): ${guardedReports} outcomes reported, ${guardedSuccesses} successes, for ${tallies.guarded.requests} guarded requests`,
  );
  const rejected = after.open.counters.rejected - before.open.counters.rejected;
  const openCalls = after.open.counters.calls - before.open.counters.calls;
  notes.push(
    `open circuit (${after.open.upstream}, ${after.open.status}): ${rejected} rejections handed over by the isolate afterwards, for ${tallies.open.requests} open requests; ${openCalls} outcomes reported`,
  );
  const reachedIris = tallies.unguarded.requests + tallies.resilient.requests + tallies.guarded.requests;
  notes.push(
    `sandbox: ${rootStats.total} requests reached the guarded upstream (expected ${reachedIris} = unguarded + resilient + guarded), ${openStats.total} reached the open one (expected 0)`,
  );
  const logs = Object.entries(tallies.open.logEvents).map(([event, n]) => `${event} ×${n}`);
  if (logs.length > 0) notes.push(`open route log events (counted, not printed): ${logs.join(", ")}`);
  if (result.rounds.length < 3) notes.push("fewer than 3 rounds: the per-round spread says little");
  return notes;
}

function medianDifference(result: InterleavedResult, a: VariantName, b: VariantName): number {
  const differences = result.rounds.map((r) => (r[a]?.p50 ?? NaN) - (r[b]?.p50 ?? NaN)).filter(Number.isFinite).sort((x, y) => x - y);
  return percentile(differences, 0.5);
}

function reachedIrisMismatch(tallies: Record<VariantName, Tally>, rootStats: { total: number }, openStats: { total: number }): boolean {
  return rootStats.total !== tallies.unguarded.requests + tallies.resilient.requests + tallies.guarded.requests || openStats.total !== 0;
}
