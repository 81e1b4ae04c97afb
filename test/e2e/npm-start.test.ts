// `npm start` end to end: the real script, the real wrangler dev, Postgres, proxy and sandbox. It must reach
// `ready:`, finish its sync, stop every child on Ctrl-C (SIGINT), and start again on the same data directory.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startPostgres } from "../../dev/postgres.ts";
import { type Dataset, SNAPSHOT_QUERIES, type SnapshotRows, expectedSnapshot, snapshotFromRows } from "../support/snapshot.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

function waitForLine(child: ChildProcess, output: () => string, pattern: RegExp, withinMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(output());
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`npm start exited (${code}) before printing ${pattern}:\n${output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`npm start did not print ${pattern} within ${withinMs} ms:\n${output()}`));
    }, withinMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", check);
    child.on("exit", onExit);
    check();
  });
}

async function start(dataDir: string, options: { size?: string; env?: Record<string, string> } = {}): Promise<Started> {
  let text = "";
  const args = [path.join(ROOT, "dev/start.ts"), "--size", options.size ?? "tiny", "--data-dir", dataDir];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: "", DATABASE_URL: "", IRIS_BASE_URL: "", IRIS_API_KEY: "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.on("exit", () => running.delete(child));
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => (text += chunk));
  child.stderr?.on("data", (chunk: string) => (text += chunk));
  const output = () => text;
  const ready = await waitForLine(child, output, /^ready: (http:\/\/127\.0\.0\.1:\d+)$/m, 90_000);
  return { child, output, url: ready[1] as string };
}

async function stop(started: Started): Promise<number | null> {
  if (started.child.exitCode !== null) return started.child.exitCode;
  const exited = new Promise<number | null>((resolve) => started.child.once("exit", (code) => resolve(code)));
  started.child.kill("SIGINT");
  const killer = setTimeout(() => started.child.kill("SIGKILL"), 30_000);
  const code = await exited;
  clearTimeout(killer);
  return code;
}

function processesUsing(dir: string): string[] {
  try {
    return execFileSync("pgrep", ["-af", dir], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.trim() && !line.includes("pgrep"));
  } catch {
    return [];
  }
}

// Under .data/ like every cluster of ours: as root, Postgres runs as its own user, who cannot enter a 0700 tmp dir.
const base = path.join(ROOT, ".data", `e2e-start-${process.pid}`);
const crashDir = `${base}-crash`;
const externalDir = `${base}-external`;
const running = new Set<ChildProcess>();
afterAll(async () => {
  // A failed assertion must not leave a stack running: stop what is left, then anything using the data dirs.
  for (const child of running) if (child.exitCode === null) await stop({ child, output: () => "", url: "" });
  for (const dir of [crashDir, externalDir]) {
    try {
      execFileSync("pkill", ["-9", "-f", dir]);
    } catch {
      // nothing left
    }
    await fs.rm(dir, { recursive: true, force: true });
  }
});

interface RunView {
  id: string;
  status: string;
  streams: Array<{ stream: string; status: string; unitsDone: number }>;
}

function printed(output: string, pattern: RegExp): string {
  const match = pattern.exec(output);
  if (!match?.[1]) throw new Error(`npm start did not print ${pattern}:\n${output}`);
  return match[1];
}

/** What the database holds, read with plain pg over TCP, in the form the sandbox's dataset is compared in. */
async function databaseSnapshot(connectionString: string) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const rows = {} as SnapshotRows;
    for (const table of Object.keys(SNAPSHOT_QUERIES) as Array<keyof SnapshotRows>) {
      rows[table] = (await client.query(SNAPSHOT_QUERIES[table])).rows as Record<string, unknown>[];
    }
    return snapshotFromRows(rows);
  } finally {
    await client.end();
  }
}

describe("npm start", () => {
  // One scenario covers the main job's promises: it reaches ready and syncs; killed mid-sync, the next start
  // recovers (orphaned Postgres and Worker, ports) and resumes the run to equality; Ctrl-C leaves nothing.
  it("resumes a sync killed mid-volumes on the next start, ends equal to the sandbox, and stops cleanly on Ctrl-C", { timeout: 240_000 }, async () => {
    // Small volume units make the volumes stream long enough to be caught in the middle.
    const env = { SYNC_VOLUME_MIDS_PER_UNIT: "2" };
    const first = await start(crashDir, { size: "small", env });
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    const token = printed(first.output(), /ADMIN_API_TOKEN\s+(\S+)/);
    const admin = { Authorization: `Bearer ${token}` };
    let killedRun: string | undefined;
    for (let polls = 0; polls < 2000 && !killedRun; polls++) {
      const res = await fetch(`${first.url}/api/sync-iriscrm`, { headers: admin });
      if (res.ok) {
        const run = (await res.json()) as RunView;
        const volumes = run.streams?.find((s) => s.stream === "volumes");
        if (volumes?.status === "running" && volumes.unitsDone >= 1) killedRun = run.id;
        expect(run.status).not.toBe("succeeded");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(killedRun).toBeDefined();
    // A crash, not a shutdown: the Worker's whole process group and npm start itself die at once.
    const workerPid = Number(await fs.readFile(path.join(crashDir, "worker.pid"), "utf8"));
    process.kill(-workerPid, "SIGKILL");
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));

    const second = await start(crashDir, { size: "small", env });
    const finished = await waitForLine(second.child, second.output, /^run ([0-9a-f-]+): (\w+) in/m, 180_000);
    expect(finished[1]).toBe(killedRun);
    expect(finished[2]).toBe("succeeded");
    expect(second.output()).toContain(`a sync is already in progress (run ${killedRun}); following it`);

    const sandboxUrl = printed(second.output(), /IRIS\s+(http:\/\/\S+)\/api\/v1/);
    const pgPort = printed(second.output(), /postgres\s+127\.0\.0\.1:(\d+)/);
    const dataset = (await (
      await fetch(`${sandboxUrl}/_control/dataset?parts=processors,merchants,residualSummaries,residualRows,batches`)
    ).json()) as Dataset;
    const actual = await databaseSnapshot(`postgresql://postgres:postgres@127.0.0.1:${pgPort}/postgres`);
    const expected = expectedSnapshot(dataset);
    expect(actual.batches.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
    expect([0, 130]).toContain(await stop(second));
    expect(processesUsing(crashDir)).toEqual([]);
    await expect(fetch(`${second.url}/health`)).rejects.toThrow();
  });

  it("uses the Postgres that DATABASE_URL names, starting none of its own, and syncs into it", { timeout: 240_000 }, async () => {
    const external = await startPostgres({ dataDir: path.join(externalDir, "other-pg"), ephemeral: true });
    try {
      const databaseUrl = external.connectionString("postgres");
      const started = await start(externalDir, { env: { DATABASE_URL: databaseUrl } });
      await waitForLine(started.child, started.output, /^run [0-9a-f-]+: succeeded in/m, 120_000);
      expect(started.output()).toMatch(/postgres\s+postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres \(DATABASE_URL\)/);
      expect(started.output()).not.toContain("(embedded");
      expect(processesUsing(path.join(externalDir, "pg"))).toEqual([]);
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const merchants = await client.query<{ n: string }>("select count(*) as n from merchants");
        expect(Number(merchants.rows[0]?.n)).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
      expect([0, 130]).toContain(await stop(started));
    } finally {
      await external.stop();
    }
  });
});
