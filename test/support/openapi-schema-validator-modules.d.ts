// The package ships types for its Validator class only; its reference checker and its JSON schemas are used here.
declare module "@seriousme/openapi-schema-validator/resolve.js" {
  export function checkRefs(tree: Record<string, unknown>): { valid: boolean; errors?: string };
}
