// OpenAPI 3.1 from the app's route table and the marks its handlers carry (see ./registry.ts).
import { z } from "zod";
import { type RequestMark, type RouteDoc, marksOf } from "./registry.ts";

export interface RouteEntry {
  method: string;
  path: string;
  handler: unknown;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

type Json = Record<string, unknown>;

interface Endpoint {
  method: string;
  path: string;
  requests: RequestMark[];
  allow: readonly string[] | undefined;
  doc: RouteDoc | undefined;
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

/** Hono's `:id{[0-9]+}` and `:id?` become `{id}`; a wildcard becomes `{path}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}").replace(/\*/g, "{path}");
}

/** Whether middleware registered on `pattern` (Hono syntax) runs for a route registered on `path`. */
export function patternCovers(pattern: string, path: string): boolean {
  if (pattern === "*" || pattern === "/*") return true;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "/" && pattern[i + 1] === "*" && i + 2 === pattern.length) {
      source += "(?:/.*)?";
      break;
    }
    if (ch === "*") source += ".*";
    else if (ch === ":") {
      const m = /^:[A-Za-z0-9_]+(\{[^}]*\})?\??/.exec(pattern.slice(i));
      source += "[^/]+";
      i += (m?.[0].length ?? 1) - 1;
    } else source += ch.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`).test(path);
}

function collectEndpoints(routes: readonly RouteEntry[]): Endpoint[] {
  const endpoints = new Map<string, Endpoint>();
  const middleware: Array<{ index: number; pattern: string; allow: readonly string[] }> = [];
  routes.forEach((route, index) => {
    const marks = marksOf(route.handler);
    if (route.method === "ALL") {
      if (marks.auth) middleware.push({ index, pattern: route.path, allow: marks.auth.allow });
      return;
    }
    const key = `${route.method} ${route.path}`;
    let endpoint = endpoints.get(key);
    if (!endpoint) {
      // Middleware registered after a route's handler never runs for it, so only earlier ones count.
      const guards = middleware.filter((m) => m.index < index && patternCovers(m.pattern, route.path));
      endpoint = {
        method: route.method,
        path: route.path,
        requests: [],
        allow: guards.length ? intersect(guards.map((g) => g.allow)) : undefined,
        doc: undefined,
      };
      endpoints.set(key, endpoint);
    }
    if (marks.request) endpoint.requests.push(marks.request);
    if (marks.auth) endpoint.allow = endpoint.allow ? intersect([endpoint.allow, marks.auth.allow]) : marks.auth.allow;
    if (marks.doc) endpoint.doc = marks.doc;
  });
  return [...endpoints.values()];
}

function intersect(lists: ReadonlyArray<readonly string[]>): string[] {
  const [first = [], ...rest] = lists;
  return first.filter((role) => rest.every((list) => list.includes(role)));
}

/**
 * zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect). Named definitions are moved into components so that their
 * references resolve against the whole document.
 */
function jsonSchema(schema: z.ZodType, io: "input" | "output", components: Json): Json {
  let result: Json;
  try {
    result = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Json;
  } catch {
    return {};
  }
  delete result.$schema;
  const defs = result.$defs as Json | undefined;
  delete result.$defs;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node && typeof node === "object") {
      const out: Json = {};
      for (const [k, v] of Object.entries(node)) {
        out[k] = k === "$ref" && typeof v === "string" ? v.replace(/^#\/\$defs\//, "#/components/schemas/") : rewrite(v);
      }
      return out;
    }
    return node;
  };
  for (const [name, def] of Object.entries(defs ?? {})) components[name] = rewrite(def);
  return rewrite(result) as Json;
}

function parametersOf(mark: RequestMark, location: "query" | "path" | "header" | "cookie", components: Json): Json[] {
  const schema = jsonSchema(mark.schema, "input", components);
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === "path" || required.has(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
    };
  });
}

const LOCATIONS = { query: "query", param: "path", header: "header", cookie: "cookie" } as const;

function operationFor(endpoint: Endpoint, path: string, components: Json): Json {
  const doc = endpoint.doc;
  const parameters: Json[] = [];
  let requestBody: Json | undefined;
  for (const mark of endpoint.requests) {
    if (mark.target === "json" || mark.target === "form") {
      const mediaType = mark.target === "json" ? "application/json" : "application/x-www-form-urlencoded";
      requestBody = { required: true, content: { [mediaType]: { schema: jsonSchema(mark.schema, "input", components) } } };
    } else {
      parameters.push(...parametersOf(mark, LOCATIONS[mark.target], components));
    }
  }
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (!parameters.some((p) => p.in === "path" && p.name === name)) {
      parameters.push({ name, in: "path", required: true, schema: { type: "string" } });
    }
  }

  const responses: Json = {};
  for (const [status, response] of Object.entries(doc?.responses ?? { 200: { description: "Success" } })) {
    const content: Json = {};
    if (response.schema) content["application/json"] = { schema: jsonSchema(response.schema, "output", components) };
    if (response.csv) content["text/csv"] = { schema: { type: "string", description: "RFC 4180 CSV with a header row" } };
    if (response.mediaType) content[response.mediaType] = { schema: { type: "string" } };
    responses[status] = { description: response.description, ...(Object.keys(content).length ? { content } : {}) };
  }
  const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ERROR_REF } } });
  if (endpoint.requests.length && !responses["400"]) responses["400"] = errorResponse("A parameter or the body is invalid; `details` names each problem.");
  if (endpoint.allow) {
    responses["401"] ??= errorResponse("No token, or a wrong one.");
    if (!endpoint.allow.includes("portal")) responses["403"] ??= errorResponse("The token is valid but may not use this route.");
  }

  const segments = path.split("/").filter(Boolean);
  const tag = segments[0] === "api" ? (segments[1] ?? "api") : (segments[0] ?? "root");
  const roles = endpoint.allow ? `Needs \`Authorization: Bearer <token>\` with the ${endpoint.allow.join(" or ")} token.` : "Public.";
  return {
    operationId: `${endpoint.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+/g, "_")}`.replace(/_$/, ""),
    summary: doc?.summary ?? `${endpoint.method} ${path}`,
    description: [doc?.description, roles].filter(Boolean).join("\n\n"),
    tags: doc?.tags ?? [tag.replace(/\{.*\}/, "") || "root"],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    security: endpoint.allow ? [{ bearerAuth: [] }] : [],
    ...(endpoint.allow ? { "x-roles": [...endpoint.allow] } : {}),
  };
}

/** The OpenAPI 3.1 document for every method and path in `routes` (Hono's `app.routes`). */
export function generateOpenApi(routes: readonly RouteEntry[], info: OpenApiInfo): Json {
  const schemas: Json = {
    Error: {
      type: "object",
      properties: { error: { type: "string" }, details: {} },
      required: ["error"],
      description: "Every error answer: a short message and, where useful, details (for 400: one entry per bad field).",
    },
  };
  const paths: Record<string, Json> = {};
  for (const endpoint of collectEndpoints(routes)) {
    const path = openApiPath(endpoint.path);
    paths[path] ??= {};
    (paths[path] as Json)[endpoint.method.toLowerCase()] = operationFor(endpoint, path, schemas);
  }
  return {
    openapi: "3.1.0",
    info,
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "PORTAL_API_TOKEN for reads, ADMIN_API_TOKEN for everything." },
      },
    },
  };
}
