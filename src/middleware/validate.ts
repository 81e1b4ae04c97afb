import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { ApiError } from "../http-errors.ts";
import { markRequest } from "../openapi/registry.ts";

/**
 * zod validation whose failures answer 400 `{ error, details }`, naming each bad field. The middleware carries
 * its schema, so the OpenAPI document shows the same parameters and body that are checked.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(target: Target, schema: Schema) {
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) {
      throw new ApiError(400, `invalid ${target}`, {
        details: result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
      });
    }
  });
  return markRequest(middleware, target, schema);
}
