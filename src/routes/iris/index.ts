import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app.ts";
import { requireToken } from "../../middleware/auth.ts";
import { irisFor } from "../../services.ts";

const ProcessorsProbe = z.object({ processors: z.array(z.unknown()) });

/** One real IRIS call through the resilience layer, so the breaker can be exercised end to end. */
export const irisRoutes = new Hono<AppEnv>().get("/ping", requireToken({ allow: ["admin", "portal"] }), async (c) => {
  const started = c.var.clock.now();
  const body = await irisFor(c).get("/processors", { schema: ProcessorsProbe });
  return c.json({ status: "ok", processors: body.processors.length, ms: c.var.clock.now() - started });
});
