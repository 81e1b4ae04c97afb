import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app.ts";
import { requireToken } from "../../middleware/auth.ts";
import { validate } from "../../middleware/validate.ts";
import { describeRoute } from "../../openapi/registry.ts";
import { breakerFor } from "../../services.ts";

const OpenBody = z.object({ seconds: z.number().int().positive().max(86_400) }).strict();

export const circuitRoutes = new Hono<AppEnv>()
  .use("/circuit", requireToken({ allow: ["admin"] }))
  .use("/circuit/*", requireToken({ allow: ["admin"] }))
  .use("/metrics", requireToken({ allow: ["admin"] }))
  .get("/circuit", describeRoute({ summary: "The IRIS circuit breaker's state and counters", tags: ["circuit"] }), async (c) => c.json(await breakerFor(c).snapshot()))
  .post("/circuit/reset", describeRoute({ summary: "Close the circuit", tags: ["circuit"] }), async (c) => c.json(await breakerFor(c).reset()))
  .post("/circuit/open", describeRoute({ summary: "Open the circuit for some seconds", tags: ["circuit"] }), validate("json", OpenBody), async (c) => c.json(await breakerFor(c).open(c.req.valid("json").seconds)))
  .get("/metrics", describeRoute({ summary: "Circuit counters: calls, failures by category, retries, timeouts", tags: ["circuit"] }), async (c) => {
    const view = await breakerFor(c).snapshot();
    return c.json({ circuit: { upstream: view.upstream, status: view.status, ...view.counters } });
  });
