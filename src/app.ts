import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { type Config, configFor } from "./config.ts";
import { errorToResponse } from "./http-errors.ts";
import type { Role } from "./middleware/auth.ts";
import { requestLog } from "./middleware/request-log.ts";
import { type Clock, systemClock } from "./resilience/clock.ts";
import { circuitRoutes } from "./routes/circuit/index.ts";
import { healthRoutes } from "./routes/health/index.ts";
import { irisRoutes } from "./routes/iris/index.ts";
import { syncRoutes } from "./routes/sync/index.ts";

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
  app.use(requestLog());
  app.use(async (c, next) => {
    c.set("clock", clock);
    c.set("random", random);
    c.set("config", configFor(c.env));
    await next();
  });

  app.route("/", healthRoutes);
  app.route("/api/iris", irisRoutes);
  app.route("/api", circuitRoutes);
  app.route("/api", syncRoutes);

  app.notFound((c) => c.json({ error: "not found", details: `${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError(errorToResponse);
  return app;
}
