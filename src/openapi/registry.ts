// The OpenAPI registry lives on the handlers themselves. `validate()` and `requireToken()` mark the middleware
// they return with their schema and roles, and `describeRoute()` adds a no-op middleware carrying a summary and
// response schemas. The generator (./generate.ts) walks the app's route table, so every route the Worker serves
// is listed, and each shows what its own middleware says about it: a route nobody described still appears, with
// its parameters, body and auth, and describing it is one line in its chain.
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";

const REQUEST = Symbol.for("iris-portal-edge.openapi.request");
const AUTH = Symbol.for("iris-portal-edge.openapi.auth");
const DOC = Symbol.for("iris-portal-edge.openapi.doc");

export type RequestTarget = "query" | "param" | "json" | "form" | "header" | "cookie";

export interface ResponseDoc {
  description: string;
  /** The JSON body, as the zod schema the route's answers satisfy. */
  schema?: z.ZodType;
  /** The route also answers text/csv (with `format=csv` or `Accept: text/csv`). */
  csv?: boolean;
  /** Any other media type the answer comes in, as a plain string (e.g. text/html). */
  mediaType?: string;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tags?: string[];
  /** Keyed by status. 400, 401 and 403 are added for validated and authenticated routes. */
  responses?: Record<number, ResponseDoc>;
}

export interface RequestMark {
  target: RequestTarget;
  schema: z.ZodType;
}

export interface HandlerMarks {
  requests: RequestMark[];
  auth?: { allow: readonly string[] };
  doc?: RouteDoc;
}

type Marked = { [REQUEST]?: RequestMark; [AUTH]?: { allow: readonly string[] }; [DOC]?: RouteDoc };

/** Marks a validator middleware with the schema it checks. Returns the same function. */
export function markRequest<T extends object>(handler: T, target: RequestTarget, schema: z.ZodType): T {
  (handler as Marked)[REQUEST] = { target, schema };
  return handler;
}

/** Marks an auth middleware with the roles it lets through. Returns the same function. */
export function markAuth<T extends object>(handler: T, allow: readonly string[]): T {
  (handler as Marked)[AUTH] = { allow };
  return handler;
}

/**
 * A no-op middleware that documents the route it is placed in:
 * `.get("/things", describeRoute({ summary: "...", responses: { 200: { description, schema } } }), handler)`.
 */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  const handler: MiddlewareHandler = async (_c, next) => {
    await next();
  };
  (handler as Marked)[DOC] = doc;
  return handler;
}

/** What one handler says about its route. A sub-app with its own onError wraps handlers; the original is kept. */
export function marksOf(handler: unknown): Partial<HandlerMarks> & { request?: RequestMark } {
  if (typeof handler !== "function") return {};
  const h = handler as Marked & { __COMPOSED_HANDLER?: unknown };
  if (h.__COMPOSED_HANDLER) return marksOf(h.__COMPOSED_HANDLER);
  return {
    ...(h[REQUEST] ? { request: h[REQUEST] } : {}),
    ...(h[AUTH] ? { auth: h[AUTH] } : {}),
    ...(h[DOC] ? { doc: h[DOC] } : {}),
  };
}
