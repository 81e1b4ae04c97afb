import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app.ts";
import { requireToken } from "../../middleware/auth.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { irisFor } from "../../services.ts";

const ProcessorsProbe = z.object({ processors: z.array(z.unknown()) });

const ping = describeRoute({
  summary: "One IRIS call through the resilience layer",
  description: "Calls IRIS GET /processors; 503 with Retry-After while the circuit is open, 502 when IRIS refuses the request.",
  tags: ["iris"],
  responses: { 200: { description: "IRIS answered." }, 502: { description: "IRIS refused the request." }, 503: { description: "IRIS is unavailable." } },
});

/** One real IRIS call through the resilience layer, so the breaker can be exercised end to end. */
export const irisRoutes = new Hono<AppEnv>().get("/ping", ping, requireToken({ allow: ["admin", "portal"] }), async (c) => {
  const started = c.var.clock.now();
  const body = await irisFor(c).get("/processors", { schema: ProcessorsProbe });
  return c.json({ status: "ok", processors: body.processors.length, ms: c.var.clock.now() - started });
});
