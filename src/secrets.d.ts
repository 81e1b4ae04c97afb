// Secrets live outside wrangler.toml, so `wrangler types` cannot see them; they are declared here beside the
// generated Env. Optional on purpose: a missing one is reported by the config parser, not by a crash.
interface SecretBindings {
  IRIS_API_KEY?: string;
  ADMIN_API_TOKEN?: string;
  PORTAL_API_TOKEN?: string;
  IRIS_WEBHOOK_SECRET?: string;
  DATABASE_URL?: string;
  IRIS_TIMEOUT_SECONDS?: string;
}
interface Env extends SecretBindings {}
declare namespace Cloudflare {
  interface Env extends SecretBindings {}
}
