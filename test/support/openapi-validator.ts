// OpenAPI 3.1 validation inside workerd. @seriousme/openapi-schema-validator reads its schema files with node:fs,
// which the Worker runtime lacks, so its published 3.1 schema and reference checker are wired to ajv here, the
// same way its Validator does.
import oas31 from "@seriousme/openapi-schema-validator/schemas/v3.1/schema.json";
import { checkRefs } from "@seriousme/openapi-schema-validator/resolve.js";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type Json = Record<string, unknown>;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat("media-range", true);
const validateDocument = ajv.compile(oas31);

/** Every Schema Object in the document (parameters, bodies, responses, components). */
export function schemaObjects(doc: Json): Array<{ where: string; schema: Json }> {
  const found: Array<{ where: string; schema: Json }> = [];
  const components = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  for (const [name, schema] of Object.entries(components)) found.push({ where: `components.schemas.${name}`, schema });
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const p of (op.parameters ?? []) as Json[]) found.push({ where: `${where} parameter ${String(p.name)}`, schema: p.schema as Json });
      const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      for (const [media, content] of Object.entries(body ?? {})) found.push({ where: `${where} body ${media}`, schema: content.schema as Json });
      for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        for (const [media, content] of Object.entries((response.content ?? {}) as Record<string, Json>)) {
          found.push({ where: `${where} ${status} ${media}`, schema: content.schema as Json });
        }
      }
    }
  }
  return found;
}

/** Problems with the document: against the OpenAPI 3.1 schema, its references, and each schema's own dialect. */
export function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (!validateDocument(doc)) {
    for (const e of validateDocument.errors ?? []) problems.push(`${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
  }
  const refs = checkRefs(doc);
  if (!refs.valid) problems.push(`references: ${refs.errors ?? ""}`);
  // The OpenAPI schema lets Schema Objects be anything; check each against JSON Schema 2020-12 itself.
  for (const { where, schema } of schemaObjects(doc)) {
    if (!ajv.validateSchema({ $schema: "https://json-schema.org/draft/2020-12/schema", ...schema })) {
      problems.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
    }
  }
  return problems;
}
