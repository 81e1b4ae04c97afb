// Bindings that `wrangler types` cannot see: secrets (set with `wrangler secret put`) and tuning variables that
// are left out of wrangler.toml so their defaults live in one place, src/config.ts. All optional on purpose: a
// missing required one is reported by the config parser, not by a crash.
interface OptionalBindings {
  IRIS_API_KEY?: string;
  ADMIN_API_TOKEN?: string;
  PORTAL_API_TOKEN?: string;
  IRIS_WEBHOOK_SECRET?: string;
  DATABASE_URL?: string;
  IRIS_MAX_RETRIES?: string;
  IRIS_BACKOFF_BASE_MS?: string;
  IRIS_TIMEOUT_MS?: string;
  IRIS_TIMEOUT_SECONDS?: string;
  IRIS_CIRCUIT_MAX_FAILURES?: string;
  IRIS_CIRCUIT_RESET_SECONDS?: string;
  IRIS_WEBHOOK_ALLOWED_IPS?: string;
  WEBHOOK_MAX_BODY_BYTES?: string;
  CORS_ORIGINS?: string;
  SYNC_SUBREQUEST_BUDGET?: string;
  SYNC_RESIDUAL_WINDOW_MONTHS?: string;
  SYNC_RESIDUAL_FIRST_MONTH?: string;
  SYNC_MERCHANT_LAG_MINUTES?: string;
  SYNC_VOLUME_WINDOW_DAYS?: string;
  SYNC_MERCHANTS_PER_PAGE?: string;
  SYNC_UNIT_LEASE_SECONDS?: string;
  SYNC_STALE_UNIT_SECONDS?: string;
  SYNC_VOLUME_MIDS_PER_UNIT?: string;
  SYNC_VOLUME_OVERLAP_DAYS?: string;
  /** Set by test pools only: where a test asks for a fresh database. */
  TEST_DATABASE_HARNESS_URL?: string;
  /** Set by test pools only: the IRIS sandbox's root, where a test asks for its own instance. */
  TEST_SANDBOX_URL?: string;
}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging with the generated Env
interface Env extends OptionalBindings {}
declare namespace Cloudflare {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging with the generated Env
interface Env extends OptionalBindings {}
}
