// `npm start` end to end: the real script, the real wrangler dev, Postgres, proxy and sandbox. It must reach
// `ready:`, finish its sync, stop every child on Ctrl-C (SIGINT), and start again on the same data directory.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

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

async function start(dataDir: string): Promise<Started> {
  let text = "";
  const child = spawn(process.execPath, [path.join(ROOT, "dev/start.ts"), "--size", "tiny", "--data-dir", dataDir], {
    cwd: ROOT,
    env: { ...process.env, PORT: "", DATABASE_URL: "", IRIS_BASE_URL: "", IRIS_API_KEY: "" },
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
const dataDir = path.join(ROOT, ".data", `e2e-start-${process.pid}`);
await fs.mkdir(dataDir, { recursive: true });
const running = new Set<ChildProcess>();
afterAll(async () => {
  // A failed assertion must not leave a stack running: stop what is left, then anything using the data dir.
  for (const child of running) if (child.exitCode === null) await stop({ child, output: () => "", url: "" });
  try {
    execFileSync("pkill", ["-f", dataDir]);
  } catch {
    // nothing left
  }
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("reaches ready, finishes its sync, stops everything on Ctrl-C, and starts again", { timeout: 240_000 }, async () => {
    const first = await start(dataDir);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    await waitForLine(first.child, first.output, /^serving http/m, 120_000);
    expect(first.output()).toMatch(/run [0-9a-f-]+: succeeded|IRIS ping through the resilience layer: 200/);
    expect([0, 130]).toContain(await stop(first));
    expect(processesUsing(dataDir)).toEqual([]);
    await expect(fetch(`${first.url}/health`)).rejects.toThrow();

    const second = await start(dataDir);
    expect((await fetch(`${second.url}/health`)).status).toBe(200);
    await waitForLine(second.child, second.output, /^serving http/m, 120_000);
    expect([0, 130]).toContain(await stop(second));
    expect(processesUsing(dataDir)).toEqual([]);
  });
});
