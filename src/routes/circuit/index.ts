import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app.ts";
import { requireToken } from "../../middleware/auth.ts";
import { validate } from "../../middleware/validate.ts";
import { breakerFor } from "../../services.ts";

const OpenBody = z.object({ seconds: z.number().int().positive().max(86_400) }).strict();

export const circuitRoutes = new Hono<AppEnv>()
  .use("/circuit", requireToken({ allow: ["admin"] }))
  .use("/circuit/*", requireToken({ allow: ["admin"] }))
  .use("/metrics", requireToken({ allow: ["admin"] }))
  .get("/circuit", async (c) => c.json(await breakerFor(c).snapshot()))
  .post("/circuit/reset", async (c) => c.json(await breakerFor(c).reset()))
  .post("/circuit/open", validate("json", OpenBody), async (c) => c.json(await breakerFor(c).open(c.req.valid("json").seconds)))
  .get("/metrics", async (c) => {
    const view = await breakerFor(c).snapshot();
    return c.json({ circuit: { upstream: view.upstream, status: view.status, ...view.counters } });
  });
