import { env } from "cloudflare:workers";
import { sql, TransactionRollbackError } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createDb, DatabaseNotConfiguredError, type Database, type DatabaseEnv } from "../src/db/client.ts";
import { createTestDatabase, testEnv } from "./support/database.ts";

const opened: Database[] = [];
function open(databaseEnv: DatabaseEnv, maxConnections?: number): Database {
  const database = createDb(databaseEnv, maxConnections ? { maxConnections } : {});
  opened.push(database);
  return database;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.end()));
});

async function count(databaseEnv: DatabaseEnv, table: string): Promise<number> {
  // A separate pool, hence a separate connection: what it sees has been committed.
  const { db } = open(databaseEnv);
  const result = await db.execute(sql`select count(*)::int as n from ${sql.identifier(table)}`);
  return result.rows[0]?.n as number;
}

describe("database access from the Worker over the Neon WebSocket path", () => {
  it("runs a query on the local Postgres through the WebSocket proxy", async () => {
    expect(env.NEON_WS_PROXY).toMatch(/^127\.0\.0\.1:\d+\/v1$/);
    const { db } = open(env);
    const result = await db.execute(sql`select current_database() as name, 6 * 7 as answer, version() as version`);
    const row = result.rows[0];
    expect(row?.answer).toBe(42);
    expect(env.DATABASE_URL).toContain(`/${String(row?.name)}`);
    expect(row?.version).toMatch(/^PostgreSQL \d+/);
  });

  it("commits a transaction so that another connection sees its writes", async () => {
    const ownEnv = await testEnv();
    const { db } = open(ownEnv);
    await db.execute(sql`create table ledger (id int primary key, note text not null)`);
    const returned = await db.transaction(async (tx) => {
      await tx.execute(sql`insert into ledger values (1, 'first'), (2, 'second')`);
      const inside = await tx.execute(sql`select count(*)::int as n from ledger`);
      return inside.rows[0]?.n;
    });
    expect(returned).toBe(2);
    expect(await count(ownEnv, "ledger")).toBe(2);
  });

  it("rolls a transaction back when its callback throws", async () => {
    const ownEnv = await testEnv();
    const { db } = open(ownEnv);
    await db.execute(sql`create table ledger (id int primary key)`);
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into ledger values (1)`);
        throw new Error("abandon the transfer");
      }),
    ).rejects.toThrow("abandon the transfer");
    expect(await count(ownEnv, "ledger")).toBe(0);
  });

  it("rolls a transaction back on tx.rollback() and keeps the connection usable", async () => {
    const ownEnv = await testEnv();
    const { db } = open(ownEnv, 1);
    await db.execute(sql`create table ledger (id int primary key)`);
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into ledger values (1)`);
        tx.rollback();
      }),
    ).rejects.toBeInstanceOf(TransactionRollbackError);
    // With a single connection, this proves it came back to the pool outside any transaction.
    await db.execute(sql`insert into ledger values (2)`);
    expect(await count(ownEnv, "ledger")).toBe(1);
  });

  it("serves concurrent queries of one request over several connections", async () => {
    const { db } = open(env, 8);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => db.execute(sql`select ${i}::int as i, pg_backend_pid() as pid`)),
    );
    expect(results.map((result) => result.rows[0]?.i)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(new Set(results.map((result) => result.rows[0]?.pid)).size).toBeGreaterThan(1);
  });

  it("gives each test database the migrated schema and keeps it apart from the others", async () => {
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    expect(first).not.toBe(second);
    const a = open({ ...env, DATABASE_URL: first }).db;
    const b = open({ ...env, DATABASE_URL: second }).db;
    for (const db of [a, b]) {
      const applied = await db.execute(sql`select count(*)::int as n from _migrations.applied`);
      expect(applied.rows[0]?.n).toBeGreaterThan(0);
    }
    await a.execute(sql`create table only_in_first (id int)`);
    const seen = await b.execute(sql`select to_regclass('only_in_first') as t`);
    expect(seen.rows[0]?.t).toBeNull();
  });

  it("refuses to build a client without DATABASE_URL", () => {
    expect(() => createDb({ ...env, DATABASE_URL: "" })).toThrow(DatabaseNotConfiguredError);
    expect(() => createDb({ NEON_WS_PROXY: env.NEON_WS_PROXY })).toThrow("DATABASE_URL is not configured");
  });
});
