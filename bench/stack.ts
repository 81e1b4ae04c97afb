// Starts what a benchmark suite needs, from the same dev/ modules `npm start` uses: an ephemeral embedded
// Postgres (migrated) behind the WebSocket proxy, the IRIS sandbox in this process, and a Worker under
// `wrangler dev` with its settings in a private env file. stop() takes all of it down again; a crash of this
// process still kills the Worker's process group on the way out.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "../dev/migrate.ts";
import { freePort, removeAbandonedClusters, startPostgres } from "../dev/postgres.ts";
import { type FaultProfileName, type SizeName, startSandbox } from "../dev/sandbox/index.ts";
import { startWsProxy } from "../dev/ws-proxy.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BENCH_DATA = path.join(ROOT, ".data", "bench");
const LOG_DIR = path.join(ROOT, ".data", "logs");
const TEMPLATE_DATABASE = "bench_template";
const WORKER_PID_FILE = "worker.pid";

export interface StackNeeds {
  /** An ephemeral Postgres with the migrations applied, reached by the Worker through the WebSocket proxy. */
  postgres?: boolean;
  /** The IRIS sandbox. Its rate limit is lifted unless given: a benchmark measures us, not IRIS's throttle. */
  sandbox?: {
    size?: SizeName;
    seed?: number;
    faults?: FaultProfileName;
    rateLimitPerMinute?: number;
    /** "Today" of the generated data; pin it to make runs comparable. */
    now?: string;
  };
  /** A Worker under `wrangler dev`. */
  worker?: {
    /** Wrangler config, relative to the repository root (e.g. "wrangler.toml" or "bench/wrangler.bench.toml"). */
    config: string;
    /** Extra Worker settings, added to the ones derived from the stack (they win on a clash). */
    vars?: (stack: StackServices) => Record<string, string> | Promise<Record<string, string>>;
    /** Path polled until it answers 2xx; default /health. */
    readyPath?: string;
    /** Pass --test-scheduled, so that GET /__scheduled?cron=... runs scheduled(). */
    testScheduled?: boolean;
  };
}

export interface StackPostgres {
  port: number;
  /** A database with every migration applied, for the Worker (DATABASE_URL). */
  databaseUrl: string;
  /** NEON_WS_PROXY value for the Worker. */
  wsProxy: string;
  /** A fresh copy of the migrated template (milliseconds), for suites that want a clean database per round. */
  createDatabase(name: string): Promise<string>;
}

export interface StackSandbox {
  /** Root of the sandbox, without /api/v1. */
  url: string;
  /** IRIS base URL for the Worker (url + /api/v1). */
  irisBaseUrl: string;
  apiKey: string;
  /** Calls the sandbox's control API (/_control...) and returns its JSON answer. */
  control<T = unknown>(method: "GET" | "POST" | "PUT" | "DELETE", controlPath: string, body?: unknown): Promise<T>;
}

export interface StackWorker {
  url: string;
  adminToken: string;
  portalToken: string;
  webhookSecret: string;
  /** Every setting the Worker was given, secrets included: for the suite, never for printing. */
  vars: Readonly<Record<string, string>>;
}

export interface StackServices {
  postgres?: StackPostgres;
  sandbox?: StackSandbox;
  worker?: StackWorker;
}

export interface Stack extends StackServices {
  /** Stops everything that was started, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartStackOptions {
  /** Progress lines (what started where). */
  log?: (line: string) => void;
  /** Also pass the components' own lines (Postgres, proxy, every sandbox request) to `log`. */
  verbose?: boolean;
  signal?: AbortSignal;
}

/** Process groups of Workers still running; killed synchronously if this process exits without stopping them. */
const liveGroups = new Set<number>();
process.on("exit", () => killLiveGroupsNow());

/** Last resort (a second Ctrl-C, an exit without stop()): SIGKILL every Worker process group still alive. */
export function killLiveGroupsNow(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}

export async function startStack(needs: StackNeeds, options: StartStackOptions = {}): Promise<Stack> {
  const log = options.log ?? (() => {});
  const signal = options.signal;
  const verbose = options.verbose ?? false;
  const stoppers: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  const services: StackServices = {};
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const failures: string[] = [];
      for (const { name, stop: stopOne } of stoppers.reverse()) {
        try {
          await stopOne();
        } catch (error) {
          failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (failures.length > 0) throw new Error(`could not stop ${failures.join("; ")}`);
    })();
    return stopped;
  };

  try {
    await fs.mkdir(BENCH_DATA, { recursive: true });
    await fs.mkdir(LOG_DIR, { recursive: true });
    // The components' own lines go to a file; on the terminal only with --verbose.
    const stackLog = createWriteStream(path.join(LOG_DIR, "bench-stack.log"), { flags: "a" });
    stoppers.push({ name: "stack log", stop: () => new Promise<void>((resolve) => stackLog.end(() => resolve())) });
    const component = (name: string) => (line: string) => {
      stackLog.write(`${new Date().toISOString()} [${name}] ${line}\n`);
      if (verbose) log(`[${name}] ${line}`);
    };
    await removeAbandoned(log);
    const runDir = path.join(BENCH_DATA, `run-${process.pid}`);
    await fs.rm(runDir, { recursive: true, force: true });
    await fs.mkdir(runDir, { recursive: true, mode: 0o700 });
    stoppers.push({ name: "run directory", stop: () => fs.rm(runDir, { recursive: true, force: true }) });

    if (needs.postgres) {
      signal?.throwIfAborted();
      const started = Date.now();
      const pg = await startPostgres({ dataDir: path.join(BENCH_DATA, `pg-${process.pid}`), ephemeral: true, log: component("postgres") });
      stoppers.push({ name: "postgres", stop: () => pg.stop() });
      const proxy = await startWsProxy({ log: component("ws-proxy") });
      stoppers.push({ name: "websocket proxy", stop: () => proxy.close() });
      await pg.createDatabase(TEMPLATE_DATABASE);
      await migrate(pg.connectionString(TEMPLATE_DATABASE), { log: component("migrate") });
      const createDatabase = async (name: string): Promise<string> => {
        await pg.createDatabase(name, TEMPLATE_DATABASE);
        return pg.connectionString(name);
      };
      services.postgres = { port: pg.port, databaseUrl: await createDatabase("bench"), wsProxy: proxy.wsProxy, createDatabase };
      log(`postgres ready on 127.0.0.1:${pg.port} in ${Date.now() - started} ms`);
    }

    if (needs.sandbox) {
      signal?.throwIfAborted();
      const s = needs.sandbox;
      const sandbox = await startSandbox({
        size: s.size ?? "tiny",
        ...(s.seed === undefined ? {} : { seed: s.seed }),
        ...(s.faults === undefined ? {} : { faults: s.faults }),
        ...(s.now === undefined ? {} : { now: s.now }),
        rateLimitPerMinute: s.rateLimitPerMinute ?? 100_000_000,
        // One line per request: only when asked, so that a quiet run spends nothing on it.
        ...(verbose ? { log: component("sandbox") } : {}),
      });
      stoppers.push({ name: "IRIS sandbox", stop: () => sandbox.close() });
      services.sandbox = {
        url: sandbox.url,
        irisBaseUrl: `${sandbox.url}/api/v1`,
        apiKey: sandbox.apiKey,
        control: (method, controlPath, body) => controlCall(sandbox.url, method, controlPath, body),
      };
      log(`sandbox (${s.size ?? "tiny"}) ready at ${sandbox.url}`);
    }

    if (needs.worker) {
      signal?.throwIfAborted();
      services.worker = await startWorker(needs.worker, services, runDir, stoppers, log, signal);
    }
  } catch (error) {
    await stop().catch((stopError: unknown) => log(String(stopError)));
    throw error;
  }
  return { ...services, stop };
}

async function startWorker(
  need: NonNullable<StackNeeds["worker"]>,
  services: StackServices,
  runDir: string,
  stoppers: Array<{ name: string; stop: () => Promise<unknown> }>,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<StackWorker> {
  const wrangler = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  if (!existsSync(wrangler)) throw new Error("wrangler is not installed: run npm install");
  const config = path.resolve(ROOT, need.config);
  if (!existsSync(config)) throw new Error(`wrangler config ${need.config} does not exist`);

  const secret = () => randomBytes(24).toString("base64url");
  const vars: Record<string, string> = { ADMIN_API_TOKEN: secret(), PORTAL_API_TOKEN: secret(), IRIS_WEBHOOK_SECRET: secret() };
  if (services.sandbox) {
    vars.IRIS_BASE_URL = services.sandbox.irisBaseUrl;
    vars.IRIS_API_KEY = services.sandbox.apiKey;
  }
  if (services.postgres) {
    vars.DATABASE_URL = services.postgres.databaseUrl;
    vars.NEON_WS_PROXY = services.postgres.wsProxy;
  }
  Object.assign(vars, (await need.vars?.(services)) ?? {});

  // Settings reach the Worker through a file only we can read: never on a command line, where `ps` shows them.
  const envFile = path.join(runDir, "worker.env");
  await fs.writeFile(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n", { mode: 0o600 });
  await fs.chmod(envFile, 0o600);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(LOG_DIR, "bench-worker.log");
  const out = createWriteStream(logFile, { flags: "a" });
  out.write(`--- ${new Date().toISOString()} wrangler dev --config ${need.config} on ${url}\n`);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      "--config",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--env-file",
      envFile,
      // A fresh state directory per run: no circuit left open by an earlier run.
      "--persist-to",
      path.join(runDir, "wrangler-state"),
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
      ...(need.testScheduled ? ["--test-scheduled"] : []),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_INCLUDE_PROCESS_ENV: "false", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that stopping it also stops the workerd it starts.
      detached: true,
    },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  if (child.pid !== undefined) {
    liveGroups.add(child.pid);
    await fs.writeFile(path.join(runDir, WORKER_PID_FILE), String(child.pid));
  }
  stoppers.push({
    name: "worker",
    stop: async () => {
      await stopProcessGroup(child);
      out.end();
    },
  });
  const started = Date.now();
  await waitUntilReady(`${url}${need.readyPath ?? "/health"}`, child, 60_000, signal, logFile);
  log(`worker (${need.config}) ready at ${url} in ${Date.now() - started} ms; log in ${path.relative(ROOT, logFile)}`);
  return {
    url,
    adminToken: vars.ADMIN_API_TOKEN as string,
    portalToken: vars.PORTAL_API_TOKEN as string,
    webhookSecret: vars.IRIS_WEBHOOK_SECRET as string,
    vars,
  };
}

/** SIGTERM to the whole group (wrangler and its workerd), SIGKILL after 5 s, then wait for wrangler to exit. */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited =
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signalGroup = (name: NodeJS.Signals): void => {
    try {
      process.kill(-pid, name);
    } catch {
      // the group is gone
    }
  };
  signalGroup("SIGTERM");
  const timer = setTimeout(() => signalGroup("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
  // workerd may outlive wrangler by a moment; whatever is left of the group goes now.
  await waitForGroupExit(pid, 3000);
  signalGroup("SIGKILL");
  liveGroups.delete(pid);
}

async function waitForGroupExit(pgid: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitUntilReady(url: string, child: ChildProcess, withinMs: number, signal: AbortSignal | undefined, logFile: string): Promise<void> {
  const until = Date.now() + withinMs;
  let last = "";
  while (Date.now() < until) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited (${child.signalCode ?? child.exitCode}) before it was ready; see ${logFile}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.ok) return;
      last = `${res.status} ${text.slice(0, 200)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the worker did not answer ${url} within ${withinMs / 1000}s (last: ${last}); see ${logFile}`);
}

/** `controlPath` is relative to the root's /_control ("/stats"), or a whole instance path ("/i/<id>/_control/stats"). */
async function controlCall<T>(base: string, method: string, controlPath: string, body: unknown): Promise<T> {
  const target = controlPath.startsWith("/i/") ? controlPath : `/_control${controlPath.startsWith("/") ? "" : "/"}${controlPath}`;
  const res = await fetch(`${base}${target}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox control ${method} ${target}: ${res.status} ${text.slice(0, 200)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Leftovers of runs killed before they could clean up (their pid is in the directory name and is dead): a
 * Worker process group that outlived its runner, the run directory, an ephemeral Postgres cluster.
 */
async function removeAbandoned(log: (line: string) => void): Promise<void> {
  await removeAbandonedClusters(BENCH_DATA, "pg-", log);
  for (const entry of await fs.readdir(BENCH_DATA)) {
    const match = /^run-(\d+)$/.exec(entry);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const dir = path.join(BENCH_DATA, entry);
    const group = Number(await fs.readFile(path.join(dir, WORKER_PID_FILE), "utf8").catch(() => ""));
    if (Number.isInteger(group) && group > 0 && (await isWranglerOf(group, dir))) {
      try {
        process.kill(-group, "SIGKILL");
        log(`stopped worker process group ${group} left by an earlier run`);
      } catch {
        // already gone
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
    log(`removed ${entry} left by an earlier run`);
  }
}

/** Whether `pid` is still the wrangler started for `runDir` (and not some process that reused the pid). */
async function isWranglerOf(pid: number, runDir: string): Promise<boolean> {
  try {
    const args = (await fs.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    return args.some((arg) => arg.endsWith("wrangler.js")) && args.some((arg) => arg.startsWith(runDir));
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
