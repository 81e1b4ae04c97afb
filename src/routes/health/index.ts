import { Hono } from "hono";
import type { AppEnv } from "../../app.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { breakerFor } from "../../services.ts";

const health = describeRoute({
  summary: "Liveness and the IRIS circuit's state",
  description: 'Public. `{ "status": "ok", "circuit": "closed" | "open" | "half_open" }`.',
  tags: ["health"],
});

export const healthRoutes = new Hono<AppEnv>().get("/health", health, async (c) => {
  const view = await breakerFor(c).snapshot();
  return c.json({ status: "ok", circuit: view.status });
});
