import { z } from "zod";
import { irisCallsPerInvocation } from "./sync/budget.ts";

/** Everything the Worker reads from its bindings' string values, parsed and checked once. */
export interface Config {
  irisBaseUrl: string;
  irisApiKey: string;
  maxRetries: number;
  backoffBaseMs: number;
  timeoutMs: number;
  circuitMaxFailures: number;
  circuitResetSeconds: number;
  adminApiToken: string;
  portalApiToken: string;
  webhookSecret: string | undefined;
  webhookAllowedIps: string[];
  webhookMaxBodyBytes: number;
  databaseUrl: string | undefined;
  neonWsProxy: string | undefined;
  corsOrigins: string[];
  sync: SyncConfig;
}

export interface SyncConfig {
  /** IRIS requests one queue invocation may make; the Workers Free plan allows 50 subrequests in all. */
  subrequestBudget: number;
  residualWindowMonths: number;
  /** First month a full residual run goes back to, as YYYY-MM. */
  residualFirstMonth: string;
  merchantLagMinutes: number;
  volumeWindowDays: number;
  merchantsPerPage: number;
  /** How long a claimed unit is presumed alive without a checkpoint; after that the sweep hands it to another worker. */
  unitLeaseSeconds: number;
  /** A pending unit whose queue message is older than this is presumed lost and sent again by the sweep. */
  staleUnitSeconds: number;
  /** Merchants per volumes unit (grown automatically when a plan would need more queue sends than it may make). */
  volumeMidsPerUnit: number;
  /** Days an incremental volumes window reaches back before the end of the last completed one. */
  volumeOverlapDays: number;
}

export interface ConfigIssue {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join("; ")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

type RawEnv = Record<string, unknown>;

const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

const integer = (opts: { min: number; max: number; default: number }) =>
  z.unknown().transform((input, ctx): number => {
    const value = blankToUndefined(input);
    if (value === undefined) return opts.default;
    const text = String(value).trim();
    if (!/^-?\d+$/.test(text)) {
      ctx.addIssue({ code: "custom", message: "must be a whole number" });
      return z.NEVER;
    }
    const n = Number(text);
    if (n < opts.min || n > opts.max) {
      ctx.addIssue({ code: "custom", message: `must be between ${opts.min} and ${opts.max}` });
      return z.NEVER;
    }
    return n;
  });

const secret = (minLength: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
      .min(minLength, `must be at least ${minLength} characters`),
  );

const optionalSecret = (minLength: number) =>
  z.preprocess(blankToUndefined, z.string().min(minLength, `must be at least ${minLength} characters`).optional());

const list = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
);

const httpUrl = z.preprocess(
  blankToUndefined,
  z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === "http:" || u.protocol === "https:";
      } catch {
        return false;
      }
    }, "must be an http(s) URL")
    .transform((v) => v.replace(/\/+$/, "")),
);

const EnvSchema = z.object({
  IRIS_BASE_URL: httpUrl,
  IRIS_API_KEY: secret(1),
  IRIS_MAX_RETRIES: integer({ min: 0, max: 10, default: 3 }),
  IRIS_BACKOFF_BASE_MS: integer({ min: 0, max: 600_000, default: 1000 }),
  IRIS_TIMEOUT_MS: integer({ min: 1, max: 600_000, default: 30_000 }),
  IRIS_TIMEOUT_SECONDS: integer({ min: 1, max: 600, default: 30 }),
  IRIS_CIRCUIT_MAX_FAILURES: integer({ min: 1, max: 1000, default: 5 }),
  IRIS_CIRCUIT_RESET_SECONDS: integer({ min: 1, max: 86_400, default: 60 }),
  ADMIN_API_TOKEN: secret(16),
  PORTAL_API_TOKEN: secret(16),
  IRIS_WEBHOOK_SECRET: optionalSecret(16),
  IRIS_WEBHOOK_ALLOWED_IPS: list,
  WEBHOOK_MAX_BODY_BYTES: integer({ min: 1024, max: 10_485_760, default: 1_048_576 }),
  DATABASE_URL: z.preprocess(blankToUndefined, z.string().startsWith("postgres", "must be a postgres:// URL").optional()),
  NEON_WS_PROXY: z.preprocess(blankToUndefined, z.string().optional()),
  CORS_ORIGINS: list,
  SYNC_SUBREQUEST_BUDGET: integer({ min: 5, max: 10_000, default: 50 }),
  SYNC_RESIDUAL_WINDOW_MONTHS: integer({ min: 1, max: 120, default: 3 }),
  SYNC_RESIDUAL_FIRST_MONTH: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM")
      .optional()
      .default("2024-01"),
  ),
  SYNC_MERCHANT_LAG_MINUTES: integer({ min: 0, max: 10_080, default: 60 }),
  SYNC_VOLUME_WINDOW_DAYS: integer({ min: 1, max: 366, default: 35 }),
  SYNC_MERCHANTS_PER_PAGE: integer({ min: 1, max: 1000, default: 500 }),
  SYNC_UNIT_LEASE_SECONDS: integer({ min: 10, max: 86_400, default: 600 }),
  SYNC_STALE_UNIT_SECONDS: integer({ min: 10, max: 604_800, default: 1800 }),
  SYNC_VOLUME_MIDS_PER_UNIT: integer({ min: 1, max: 10_000, default: 50 }),
  SYNC_VOLUME_OVERLAP_DAYS: integer({ min: 0, max: 60, default: 2 }),
});

/** Every variable the Worker reads; `npm start` passes any of them found in its environment to the Worker. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/**
 * Parses the Worker's env. Every problem is reported at once, by variable name only: values are never echoed,
 * because some of them are secrets.
 */
export function parseConfig(env: RawEnv): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.shape)) raw[key] = env[key];
  // IRIS_TIMEOUT_SECONDS only counts when IRIS_TIMEOUT_MS is absent; both defaults would otherwise collide.
  const hasMs = blankToUndefined(env.IRIS_TIMEOUT_MS) !== undefined;
  const hasSeconds = blankToUndefined(env.IRIS_TIMEOUT_SECONDS) !== undefined;
  if (hasMs) raw.IRIS_TIMEOUT_SECONDS = undefined;

  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? "env"),
      message: issue.message,
    }));
    throw new ConfigError(issues);
  }
  const e = parsed.data;
  if (irisCallsPerInvocation(e.SYNC_SUBREQUEST_BUDGET, e.IRIS_MAX_RETRIES) < 1) {
    // Each value is fine alone; together a sync unit could never afford one IRIS call and would stall forever.
    throw new ConfigError([
      {
        variable: "SYNC_SUBREQUEST_BUDGET",
        message: `must leave room for one IRIS call with IRIS_MAX_RETRIES=${e.IRIS_MAX_RETRIES} (at least ${e.IRIS_MAX_RETRIES + 6})`,
      },
    ]);
  }
  const timeoutMs = !hasMs && hasSeconds ? e.IRIS_TIMEOUT_SECONDS * 1000 : e.IRIS_TIMEOUT_MS;
  return {
    irisBaseUrl: e.IRIS_BASE_URL,
    irisApiKey: e.IRIS_API_KEY,
    maxRetries: e.IRIS_MAX_RETRIES,
    backoffBaseMs: e.IRIS_BACKOFF_BASE_MS,
    timeoutMs,
    circuitMaxFailures: e.IRIS_CIRCUIT_MAX_FAILURES,
    circuitResetSeconds: e.IRIS_CIRCUIT_RESET_SECONDS,
    adminApiToken: e.ADMIN_API_TOKEN,
    portalApiToken: e.PORTAL_API_TOKEN,
    webhookSecret: e.IRIS_WEBHOOK_SECRET,
    webhookAllowedIps: e.IRIS_WEBHOOK_ALLOWED_IPS,
    webhookMaxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    databaseUrl: e.DATABASE_URL,
    neonWsProxy: e.NEON_WS_PROXY,
    corsOrigins: e.CORS_ORIGINS,
    sync: {
      subrequestBudget: e.SYNC_SUBREQUEST_BUDGET,
      residualWindowMonths: e.SYNC_RESIDUAL_WINDOW_MONTHS,
      residualFirstMonth: e.SYNC_RESIDUAL_FIRST_MONTH,
      merchantLagMinutes: e.SYNC_MERCHANT_LAG_MINUTES,
      volumeWindowDays: e.SYNC_VOLUME_WINDOW_DAYS,
      merchantsPerPage: e.SYNC_MERCHANTS_PER_PAGE,
      unitLeaseSeconds: e.SYNC_UNIT_LEASE_SECONDS,
      staleUnitSeconds: e.SYNC_STALE_UNIT_SECONDS,
      volumeMidsPerUnit: e.SYNC_VOLUME_MIDS_PER_UNIT,
      volumeOverlapDays: e.SYNC_VOLUME_OVERLAP_DAYS,
    },
  };
}

// The env object is the same for every request an isolate serves, so a parse per isolate is enough.
const parsedConfigs = new WeakMap<object, Config | ConfigError>();

/** Parses `env` once per env object; throws the same ConfigError on every call while it is invalid. */
export function configFor(env: object): Config {
  let entry = parsedConfigs.get(env);
  if (!entry) {
    try {
      entry = parseConfig(env as RawEnv);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      entry = error;
      console.error(JSON.stringify({ level: "error", event: "config.invalid", issues: error.issues }));
    }
    parsedConfigs.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}
