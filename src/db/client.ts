// Per-request database access through the Neon driver in WebSocket mode, the mode that supports interactive
// transactions. A Worker may not carry I/O objects (sockets) from one request to another, so every request gets
// its own Pool and ends it when done (ctx.waitUntil(database.end())); nothing here is a module-level singleton.
import { Pool, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";

export interface DatabaseEnv {
  DATABASE_URL?: string;
  /** host:port/path of a WebSocket-to-TCP proxy in front of a plain Postgres (local runs and tests only). */
  NEON_WS_PROXY?: string;
}

export class DatabaseNotConfiguredError extends Error {
  override readonly name = "DatabaseNotConfiguredError";
  constructor() {
    super("DATABASE_URL is not configured");
  }
}

export type AnySchema = Record<string, unknown>;

export interface CreateDbOptions<TSchema extends AnySchema> {
  /** Tables and relations for drizzle's relational queries (`db.query.*`). */
  schema?: TSchema;
  /** Connections this request may open at once; the driver's default (10) when omitted. */
  maxConnections?: number;
}

export interface Database<TSchema extends AnySchema = Record<string, never>> {
  db: NeonDatabase<TSchema>;
  pool: Pool;
  /** Closes the pool's connections. Idempotent. */
  end(): Promise<void>;
}

export function createDb<TSchema extends AnySchema = Record<string, never>>(
  env: DatabaseEnv,
  options: CreateDbOptions<TSchema> = {},
): Database<TSchema> {
  const connectionString = env.DATABASE_URL;
  if (!connectionString) throw new DatabaseNotConfiguredError();
  if (env.NEON_WS_PROXY) useLocalProxy(env.NEON_WS_PROXY);

  const pool = new Pool({ connectionString, ...(options.maxConnections ? { max: options.maxConnections } : {}) });
  let ending: Promise<void> | undefined;
  // An idle connection that drops (server restart, proxy gone) is reported on the pool, not to a query, and
  // an 'error' event without a listener would be thrown as an uncaught error. Once end() is called, errors are
  // the hang-up itself: the server side closes the WebSocket after Terminate, and workerd reports that as
  // "Network connection lost" on each closing connection, even after end() has resolved.
  pool.on("error", (error: Error) => {
    if (!ending) console.warn("database connection dropped:", error.message);
  });
  const db = drizzle<TSchema>({ client: pool, ...(options.schema ? { schema: options.schema } : {}) });

  return { db, pool, end: () => (ending ??= pool.end()) };
}

/**
 * Points the driver at a local WebSocket-to-TCP proxy instead of Neon's own endpoint. neonConfig is global to
 * the isolate, and it is set from the env on every call rather than once: the env arrives only with a request,
 * and every request of an isolate carries the same NEON_WS_PROXY, so rewriting it is idempotent. Deployed
 * Workers leave NEON_WS_PROXY empty and keep the driver's defaults.
 */
function useLocalProxy(proxy: string): void {
  // The function form receives the database host and port but, unlike the string form, appends nothing;
  // the proxy needs `?address=` to know which Postgres to dial.
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  // Plain ws:// and no TLS inside the Postgres protocol: the proxy and the local Postgres speak neither.
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}
