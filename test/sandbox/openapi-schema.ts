/* eslint-disable @typescript-eslint/no-explicit-any -- the sandbox's JSON answers are checked by assertions and schemas here, not by static types */
// Turns response schemas of IRIS's OpenAPI 3.0 document into strict JSON Schemas for Ajv:
// $refs inlined, allOf of objects merged, OpenAPI-only keywords dropped, `nullable` honoured, and - to catch
// invented or missing fields - every object that lists properties gets additionalProperties: false and all
// of them required. The spec never says `required`, so "strict" is our reading: IRIS prints every field,
// with null when empty. Known differences between the document and the backend are listed in SPEC_ERRATA and
// applied to a copy of the document before conversion, each with its reason.

import { readFileSync } from "node:fs";
import { parse } from "yaml";

type Json = any;

export interface Erratum {
  /** JSON pointer into the spec document, e.g. "/components/schemas/Meta/properties/from". */
  at: string;
  why: string;
  apply: (schema: Json) => void;
}

const nullable = (s: Json): void => {
  s.nullable = true;
};
const decimal = (s: Json): void => {
  s.type = "number";
};
const optional =
  (...names: string[]) =>
  (s: Json): void => {
    s["x-optional"] = [...(s["x-optional"] ?? []), ...names];
  };

const LARAVEL_NULL = "IRIS runs on Laravel, which prints absent values as null; the spec never marks them nullable";
const DECIMAL_MONEY = "money typed integer in the spec, but residual amounts carry cents (MerchantRow.bps's own example is 0.29)";

export const SPEC_ERRATA: Erratum[] = [
  ...["closed", "deactivated", "first_batch", "last_batch"].map((p) => ({
    at: `/components/schemas/BriefMerchantInfo/properties/${p}`,
    why: `${LARAVEL_NULL} (open or never-batched merchants)`,
    apply: nullable,
  })),
  ...["prev", "next"].map((p) => ({ at: `/components/schemas/Links/properties/${p}`, why: `${LARAVEL_NULL} (first/last page)`, apply: nullable })),
  ...["from", "to"].map((p) => ({ at: `/components/schemas/Meta/properties/${p}`, why: `${LARAVEL_NULL} (empty page)`, apply: nullable })),
  ...["recurring_start_date", "recurring_payment_count", "recurring_max_payment_count", "recurring_period"].map((p) => ({
    at: `/components/schemas/LineItems/properties/${p}`,
    why: `${LARAVEL_NULL} (non-recurring items; the spec's own text says "null if there is no limit")`,
    apply: nullable,
  })),
  ...["sales_amount", "income", "expense", "net", "bps", "agent_net"].map((p) => ({
    at: `/components/schemas/MerchantRow/properties/${p}`,
    why: DECIMAL_MONEY,
    apply: decimal,
  })),
  { at: "/components/schemas/SummaryResponse/properties/sum_agent_net", why: DECIMAL_MONEY, apply: decimal },
  ...["income", "expense", "agent_net"].map((p) => ({ at: `/components/schemas/LineItems/properties/${p}`, why: DECIMAL_MONEY, apply: decimal })),
  { at: "/components/schemas/LineItems/properties/agents/items/properties/agent_net", why: DECIMAL_MONEY, apply: decimal },
  {
    at: "/components/schemas/ReportPublished/properties/data/properties/reports/items/properties/sum_agent_net",
    why: DECIMAL_MONEY,
    apply: decimal,
  },
  {
    at: "/paths/~1leads~1{leadId}/get/responses/200/content/application~1json/schema/properties/details/items",
    why: "record (a record id) exists for repeatable sets, not for tabs",
    apply: optional("record"),
  },
  ...["LeadUpdatedEventInfo", "LeadStatusUpdatedEventInfo", "LeadCreatedEventInfo"].map((name) => ({
    at: `/components/schemas/${name}/properties/data`,
    why: "'leads' is only sent when the subscription's 'Multiple at once' option is on, 'lead' otherwise",
    apply: optional("lead", "leads"),
  })),
];

export function loadSpec(path: string): Json {
  const spec = parse(repairYaml(readFileSync(path, "utf8")), { maxAliasCount: -1 }) as Json;
  for (const e of SPEC_ERRATA) {
    const target = pointer(spec, e.at);
    if (target === undefined) throw new Error(`erratum points nowhere: ${e.at}`);
    e.apply(target);
  }
  return spec;
}

/**
 * The published document has a multi-line double-quoted description whose continuation lines are indented
 * like its key, which YAML 1.2 forbids (the strict `yaml` parser refuses the whole file). Indent such
 * continuation lines two more spaces; nothing else is touched.
 */
export function repairYaml(text: string): string {
  const lines = text.split("\n");
  let keyIndent = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (keyIndent >= 0) {
      const indent = line.length - line.trimStart().length;
      if (line.trim() !== "" && indent <= keyIndent) lines[i] = `${" ".repeat(keyIndent + 2 - indent)}${line}`;
      if (hasClosingQuote(line)) keyIndent = -1;
      continue;
    }
    const open = /^(\s*)[^\s#"'][^:]*:\s+"(.*)$/.exec(line);
    if (open && !hasClosingQuote(open[2]!)) keyIndent = open[1]!.length;
  }
  return lines.join("\n");
}

function hasClosingQuote(rest: string): boolean {
  return /(^|[^\\])"/.test(rest);
}

export function pointer(doc: Json, at: string): Json {
  let node = doc;
  for (const raw of at.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === undefined || node === null) return undefined;
    node = node[key];
  }
  return node;
}

/** The JSON Schema of an operation's response, e.g. ("/merchants", "get", "200"). */
export function responseSchema(spec: Json, path: string, method: string, status: string): Json {
  let response = spec.paths?.[path]?.[method]?.responses?.[status];
  if (response === undefined) throw new Error(`spec has no ${method.toUpperCase()} ${path} ${status}`);
  if (response.$ref) response = pointer(spec, response.$ref.slice(1));
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`no JSON schema for ${method.toUpperCase()} ${path} ${status}`);
  return toJsonSchema(spec, schema);
}

/** A reusable response (components/responses/<name>) as JSON Schema. */
export function namedResponseSchema(spec: Json, name: string): Json {
  const schema = spec.components?.responses?.[name]?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`spec has no components/responses/${name}`);
  return toJsonSchema(spec, schema);
}

/** Allowed values of an operation's query parameter, from its enum. */
export function parameterEnum(spec: Json, path: string, method: string, name: string): unknown[] {
  const params: Json[] = spec.paths?.[path]?.[method]?.parameters ?? [];
  const param = params.find((p) => p.in === "query" && p.name === name);
  if (!param?.schema?.enum) throw new Error(`spec has no enum for ${name} of ${method.toUpperCase()} ${path}`);
  return param.schema.enum;
}

const DROPPED = new Set(["example", "examples", "xml", "externalDocs", "deprecated", "discriminator", "readOnly", "writeOnly", "nullable", "x-optional", "default"]);

export function toJsonSchema(spec: Json, schema: Json): Json {
  return strict(convert(spec, schema, 0));
}

function convert(spec: Json, schema: Json, depth: number): Json {
  if (depth > 40) throw new Error("schema nesting too deep (cyclic $ref?)");
  if (schema === null || typeof schema !== "object") return schema;
  if (schema.$ref) {
    // In OpenAPI 3.0 a $ref's siblings are ignored (the chargeback samples put `type: array` next to one).
    return convert(spec, pointer(spec, schema.$ref.slice(1)), depth + 1);
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key) || key.startsWith("x-")) continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, convert(spec, v, depth + 1)]));
    } else if (key === "items") {
      // Some samples write `items: [ $ref ]` (a tuple in JSON Schema terms); they mean "items of that shape".
      out.items = convert(spec, Array.isArray(value) ? value[0] : value, depth + 1);
    } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
      out[key] = (value as Json[]).map((v) => convert(spec, v, depth + 1));
    } else if (key === "format" && schema.type !== "string") {
      continue;
    } else {
      out[key] = value;
    }
  }
  if (out.allOf && out.allOf.every((s: Json) => s.type === "object" || s.properties)) {
    const merged: Json = { type: "object", properties: {} };
    for (const part of out.allOf) Object.assign(merged.properties, part.properties ?? {});
    const optionals = new Set<string>();
    for (const part of out.allOf) for (const name of part["x-optional-names"] ?? []) optionals.add(name);
    delete out.allOf;
    Object.assign(out, merged);
    out["x-optional-names"] = [...optionals];
  }
  if (schema["x-optional"]) out["x-optional-names"] = [...(out["x-optional-names"] ?? []), ...schema["x-optional"]];
  if (schema.nullable === true && out.type) out.type = [out.type, "null"];
  if (schema.nullable === true && out.enum) out.enum = [...out.enum, null];
  return out;
}

/** additionalProperties: false and every listed property required, except the errata's optional ones. */
function strict(schema: Json): Json {
  if (schema === null || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map(strict);
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "x-optional-names") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Json).map(([n, s]) => [n, strict(s)])) : strict(v);
  }
  if (out.properties && Object.keys(out.properties).length > 0) {
    const optionalNames = new Set<string>(schema["x-optional-names"] ?? []);
    out.additionalProperties = false;
    out.required = Object.keys(out.properties).filter((n) => !optionalNames.has(n));
  }
  return out;
}
