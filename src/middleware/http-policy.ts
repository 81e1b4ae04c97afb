// Browser-facing policy for every answer: which origins may call the API from a page, and the security headers.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../app.ts";

/**
 * CORS for the origins in CORS_ORIGINS only; any other origin gets no Access-Control-Allow-Origin, so browsers
 * refuse it the answer. Preflights are answered here, before auth, because browsers send them without a token.
 */
export function corsPolicy(): MiddlewareHandler<AppEnv> {
  return cors({
    origin: (origin, c) => ((c.var as AppEnv["Variables"]).config.corsOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Accept"],
    exposeHeaders: ["X-Request-Id", "X-Total-Count", "X-Data-Freshness", "X-Data-Freshness-Streams", "Content-Disposition", "Retry-After"],
    maxAge: 600,
  }) as MiddlewareHandler<AppEnv>;
}

/**
 * Security headers on every answer, errors included. The API serves no pages but /docs, so the default policy
 * forbids everything; a route that serves a page sets its own Content-Security-Policy, which is kept.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    strictTransportSecurity: "max-age=31536000; includeSubDomains",
    crossOriginResourcePolicy: "same-origin",
    overwrite: false,
  }) as MiddlewareHandler<AppEnv>;
}
