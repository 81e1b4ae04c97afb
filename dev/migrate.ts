// Applies migrations/*.sql (written by `drizzle-kit generate`) in file-name order, each in its own transaction,
// recording what ran so that a second run does nothing. Library: migrate(url). CLI: `npm run db:migrate`
// (DATABASE_URL from the environment).
//
// It talks plain TCP through `pg` rather than through the Neon driver: tooling runs in Node, where TCP is
// available both to the local Postgres and to Neon (with ?sslmode=require), so it needs neither the WebSocket
// proxy nor its configuration.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export interface MigrateOptions {
  /** Defaults to the repository's migrations/ folder. */
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** File names applied by this call, in order. */
  applied: string[];
}

const DEFAULT_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));
// In its own schema so that drizzle-kit (which looks at "public") never sees it as a table to drop.
const TRACKING_SCHEMA = "_migrations";
const TRACKING_TABLE = `"${TRACKING_SCHEMA}"."applied"`;
// Any fixed number shared by all migrators: concurrent runs against one database queue up instead of racing.
const ADVISORY_LOCK_KEY = 727_001;

export async function migrate(connectionString: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const dir = options.migrationsDir ?? DEFAULT_DIR;
  const log = options.log ?? (() => {});
  const files = await listMigrations(dir);
  if (files.length === 0) return { applied: [] };

  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${TRACKING_SCHEMA}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${TRACKING_TABLE}`);
    const done = new Map(rows.map((row) => [row.name, row.checksum]));

    const applied: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(dir, file), "utf8");
      const checksum = createHash("sha256").update(text).digest("hex");
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new Error(
            `migration ${file} was changed after it was applied; add a new migration instead ` +
              `(for a local database, recreate it: remove .data/pg)`,
          );
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        for (const [index, statement] of splitStatements(text).entries()) {
          try {
            await client.query(statement);
          } catch (error) {
            throw new Error(`migration ${file}, statement ${index + 1}: ${(error as Error).message}\n${statement}`, { cause: error });
          }
        }
        await client.query(`INSERT INTO ${TRACKING_TABLE} (name, checksum) VALUES ($1, $2)`, [file, checksum]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
      applied.push(file);
      log(`applied ${file}`);
    }
    return { applied };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Migration files in the order they must run: drizzle-kit names them 0000_x.sql, 0001_y.sql, ... */
export async function listMigrations(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries.filter((name) => name.endsWith(".sql")).sort();
}

/** drizzle-kit separates statements with `--> statement-breakpoint` (at a line end or on a line of its own). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/-->\s*statement-breakpoint/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("DATABASE_URL is not set (e.g. DATABASE_URL=postgresql://user:pass@host:5432/db npm run db:migrate)");
    process.exit(1);
  }
  try {
    const { applied } = await migrate(url, { log: (line) => console.log(line) });
    console.log(applied.length ? `${applied.length} migration(s) applied` : "database is up to date");
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
