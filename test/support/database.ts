// Worker-side test helpers for the Postgres harness (test/harness/postgres-setup.ts). Runs in workerd: fetch only.
import { env } from "cloudflare:workers";

/** A fresh database, migrated (copied from the template), that no other test touches. Returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const harness = env.TEST_DATABASE_HARNESS_URL;
  if (!harness) throw new Error("TEST_DATABASE_HARNESS_URL is not bound: the Postgres global setup did not run");
  const res = await fetch(`${harness}/databases`, { method: "POST" });
  if (!res.ok) throw new Error(`creating a test database failed: ${res.status} ${await res.text()}`);
  const { databaseUrl } = await res.json<{ databaseUrl: string }>();
  return databaseUrl;
}

/** The test env with DATABASE_URL pointing at a fresh database of its own (and, optionally, more overrides). */
export async function testEnv(overrides: Partial<Env> = {}): Promise<Env> {
  return { ...env, DATABASE_URL: await createTestDatabase(), ...overrides };
}
