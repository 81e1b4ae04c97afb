// Vitest global setup: one real Postgres per test run, reached by the Worker exactly as it reaches Neon (the Neon
// driver over a WebSocket, here through the local proxy). Migrations are applied once, to a template database;
// every test database is a copy of it, which takes milliseconds instead of a migration run.
//
// Provides: pgProxy (NEON_WS_PROXY), databaseUrl (a shared database for tests that only read or use unique keys),
// databaseHarnessUrl (POST /databases answers { databaseUrl } of a fresh copy, for tests that need their own).
// PG_HARNESS_LOG=1 prints the server's log and the setup time.
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { migrate } from "../../dev/migrate.ts";
import { removeAbandonedClusters, startPostgres, type RunningPostgres } from "../../dev/postgres.ts";
import { startWsProxy, type RunningWsProxy } from "../../dev/ws-proxy.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgProxy: string;
    databaseUrl: string;
    databaseHarnessUrl: string;
  }
}

const DATA_ROOT = fileURLToPath(new URL("../../.data/", import.meta.url));
// One cluster directory per vitest process; a run killed before teardown leaves its directory behind, and the
// next run removes it (the pid in the name tells that its owner is gone).
const CLUSTER_PREFIX = "test-pg-";
const TEMPLATE = "app_template";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const verbose = Boolean(process.env.PG_HARNESS_LOG);
  const log = verbose ? (line: string) => console.log(`[postgres] ${line}`) : undefined;

  await removeAbandonedClusters(DATA_ROOT, CLUSTER_PREFIX, log);
  const postgres = await startPostgres({
    dataDir: path.join(DATA_ROOT, `${CLUSTER_PREFIX}${process.pid}`),
    ephemeral: true,
    ...(log ? { log } : {}),
  });
  let proxy: RunningWsProxy | undefined;
  let harness: http.Server | undefined;
  const teardown = async (): Promise<void> => {
    if (harness) await closeServer(harness);
    await proxy?.close();
    await postgres.stop();
  };

  try {
    proxy = await startWsProxy(log ? { log } : {});
    await postgres.createDatabase(TEMPLATE);
    await migrate(postgres.connectionString(TEMPLATE), log ? { log } : {});
    const clones = databaseCloner(postgres);
    const databaseUrl = await clones.create();
    harness = await startHarnessServer(clones.create);

    project.provide("pgProxy", proxy.wsProxy);
    project.provide("databaseUrl", databaseUrl);
    project.provide("databaseHarnessUrl", `http://127.0.0.1:${(harness.address() as AddressInfo).port}`);
  } catch (error) {
    await teardown();
    throw error;
  }
  if (verbose) console.log(`[postgres] harness ready in ${Math.round(performance.now() - started)} ms`);
  return teardown;
}

function databaseCloner(postgres: RunningPostgres): { create: () => Promise<string> } {
  let count = 0;
  return {
    // createDatabase serialises the copies: Postgres refuses two concurrent copies of one template.
    create: async () => {
      const name = `test_${++count}`;
      await postgres.createDatabase(name, TEMPLATE);
      return postgres.connectionString(name);
    },
  };
}

async function startHarnessServer(createDatabase: () => Promise<string>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    req.resume();
    if (req.method !== "POST" || req.url !== "/databases") return reply(404, { error: "POST /databases only" });
    createDatabase().then(
      (databaseUrl) => reply(201, { databaseUrl }),
      (error: Error) => reply(500, { error: error.message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return server;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
