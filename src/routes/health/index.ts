import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { breakerFor } from "../../services.ts";

export const healthRoutes = new Hono<AppEnv>().get("/health", async (c) => {
  const view = await breakerFor(c).snapshot();
  return c.json({ status: "ok", circuit: view.status });
});
