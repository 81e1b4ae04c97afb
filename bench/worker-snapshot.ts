// A copy of the Worker's sources for one benchmark run. `wrangler dev` rebuilds and restarts the Worker whenever a
// file it bundled changes; in a checkout where others edit src/ while a benchmark runs, that restart would land in
// the middle of a measurement (and drop the local queue's messages, stalling a sync). Bundling a private copy
// measures the code as it was when the run started, whatever happens to the checkout meanwhile.
//
// The copy lives in .data/bench/worker-src-<pid>/ and is removed when the process exits (and, if the process was
// killed, by the next run that makes a copy). Package imports still resolve: the copy sits inside the repository,
// so resolution walks up to its node_modules.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SNAPSHOTS = path.join(ROOT, ".data", "bench");
const PREFIX = "worker-src-";
const made = new Map<string, string>();
let cleanupInstalled = false;

/**
 * Copies `config` (relative to the repository root) and `sources` (files or directories it bundles) into this
 * process's snapshot directory, once per config, and returns the copied config's absolute path.
 */
export function workerSnapshot(config: string, sources: readonly string[]): string {
  const done = made.get(config);
  if (done) return done;
  const dir = path.join(SNAPSHOTS, `${PREFIX}${process.pid}`);
  if (made.size === 0) {
    removeAbandonedSnapshots();
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  if (!cleanupInstalled) {
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    cleanupInstalled = true;
  }
  for (const source of [config, ...sources]) {
    const from = path.join(ROOT, source);
    if (!existsSync(from)) throw new Error(`cannot snapshot ${source}: it does not exist`);
    cpSync(from, path.join(dir, source), { recursive: true });
  }
  const copied = path.join(dir, config);
  made.set(config, copied);
  return copied;
}

function removeAbandonedSnapshots(): void {
  if (!existsSync(SNAPSHOTS)) return;
  for (const entry of readdirSync(SNAPSHOTS)) {
    if (!entry.startsWith(PREFIX)) continue;
    const pid = Number(entry.slice(PREFIX.length));
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(path.join(SNAPSHOTS, entry), { recursive: true, force: true });
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
