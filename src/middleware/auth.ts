import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import type { AppEnv } from "../app.ts";
import { ApiError } from "../http-errors.ts";
import { markAuth } from "../openapi/registry.ts";

export type Role = "admin" | "portal";

/**
 * Bearer-token auth. The admin token opens everything; the portal token opens only routes that allow "portal".
 * Tokens are compared in constant time.
 */
export function requireToken(options: { allow: Role[] }): MiddlewareHandler<AppEnv> {
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) throw unauthorized();
    const token = match[1].trim();
    const { adminApiToken, portalApiToken } = c.var.config;
    const [isAdmin, isPortal] = await Promise.all([
      timingSafeEqual(token, adminApiToken),
      timingSafeEqual(token, portalApiToken),
    ]);
    const role: Role | undefined = isAdmin ? "admin" : isPortal ? "portal" : undefined;
    if (!role) throw unauthorized();
    if (!options.allow.includes(role)) throw new ApiError(403, "forbidden", { details: "this route needs the admin token" });
    c.set("role", role);
    await next();
  };
  // Carried for the OpenAPI document, which shows each route's roles.
  return markAuth(middleware, options.allow);
}

function unauthorized(): ApiError {
  return new ApiError(401, "unauthorized", { details: "send Authorization: Bearer <token>" }, { "WWW-Authenticate": 'Bearer realm="api"' });
}
