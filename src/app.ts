import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { type Config, configFor } from "./config.ts";
import { errorToResponse } from "./http-errors.ts";
import { type Role, requireToken } from "./middleware/auth.ts";
import { corsPolicy, securityHeaders } from "./middleware/http-policy.ts";
import { requestLog } from "./middleware/request-log.ts";
import { type Clock, systemClock } from "./resilience/clock.ts";
import { analyticsRoutes } from "./routes/analytics/index.ts";
import { circuitRoutes } from "./routes/circuit/index.ts";
import { docsRoutes } from "./routes/docs/index.ts";
import { healthRoutes } from "./routes/health/index.ts";
import { irisRoutes } from "./routes/iris/index.ts";
import { merchantRoutes } from "./routes/merchants/index.ts";
import { residualRoutes } from "./routes/residuals/index.ts";
import { syncRoutes } from "./routes/sync/index.ts";
import { volumeRoutes } from "./routes/volumes/index.ts";
import { webhookAdminRoutes, webhookRoutes } from "./routes/webhooks/index.ts";

export interface AppVariables {
  requestId: string;
  config: Config;
  clock: Clock;
  random: () => number;
  role: Role;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };

export interface AppOptions {
  /** Injected in tests so retries and timeouts pass without real waiting. */
  clock?: Clock;
  random?: () => number;
}

export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(securityHeaders());
  app.use(requestLog());
  app.use(async (c, next) => {
    c.set("clock", clock);
    c.set("random", random);
    c.set("config", configFor(c.env));
    await next();
  });
  app.use(corsPolicy());
  // Every /api route needs a token; admin routes narrow this to the admin token themselves.
  app.use("/api/*", requireToken({ allow: ["admin", "portal"] }));

  app.route("/", healthRoutes);
  app.route("/api/iris", irisRoutes);
  app.route("/api", circuitRoutes);
  app.route("/api", syncRoutes);
  app.route("/api", merchantRoutes);
  app.route("/api", residualRoutes);
  app.route("/api", volumeRoutes);
  app.route("/api", analyticsRoutes);
  app.route("/api", webhookAdminRoutes);
  // IRIS deliveries authenticate with the secret in their URL, not a bearer token: outside /api.
  app.route("/", webhookRoutes);
  app.route("/", docsRoutes(() => app.routes));

  app.notFound((c) => c.json({ error: "not found", details: `${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError(errorToResponse);
  return app;
}
