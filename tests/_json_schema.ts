/**
 * A small JSON-schema (draft 2020-12) validator for the tests: the keywords
 * `src/run/eval_metrics.schema.json` uses and no more. A keyword it does not know is an
 * error, so a schema cannot silently ask for a check that is not made.
 */

/** A JSON schema as parsed from its file. */
export type JsonSchema = boolean | { [keyword: string]: unknown };

// Annotations: they describe, they do not constrain.
const ANNOTATIONS = new Set(["$schema", "$id", "title", "description"]);
const CHECKED = new Set([
  "type",
  "enum",
  "const",
  "minimum",
  "maximum",
  "required",
  "properties",
  "additionalProperties",
  "items",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v; // "number", "string", "boolean", "object"
}

function hasType(v: unknown, type: string): boolean {
  if (type === "integer") return typeof v === "number" && Number.isInteger(v);
  return typeOf(v) === type;
}

function equalJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The ways `value` breaks `schema`, one line each naming the JSON path
 * (`$.scenarios[0].offroad`); empty when it validates.
 *
 * @example
 * ```ts
 * validate({ type: "object", required: ["a"] }, {}); // ["$: lacks required a"]
 * ```
 */
export function validate(schema: JsonSchema, value: unknown): string[] {
  return check(schema, value, "$");
}

function check(schema: JsonSchema, value: unknown, path: string): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  for (const k of Object.keys(schema)) {
    if (!ANNOTATIONS.has(k) && !CHECKED.has(k)) throw new Error(`schema keyword ${k} unsupported`);
  }
  const errors: string[] = [];
  const s = schema;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type as string[] : [s.type as string];
    if (!types.some((t) => hasType(value, t))) {
      return [`${path}: ${JSON.stringify(value)} is not of type ${types.join(" or ")}`];
    }
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => equalJson(e, value))) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  }
  if (s.const !== undefined && !equalJson(s.const, value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(s.const)}`);
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) {
      errors.push(`${path}: ${value} is below the minimum ${s.minimum}`);
    }
    if (typeof s.maximum === "number" && value > s.maximum) {
      errors.push(`${path}: ${value} is above the maximum ${s.maximum}`);
    }
  }
  if (Array.isArray(value) && s.items !== undefined) {
    value.forEach((item, i) => errors.push(...check(s.items as JsonSchema, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of (s.required as string[] | undefined) ?? []) {
      if (!Object.hasOwn(obj, key)) errors.push(`${path}: lacks required ${key}`);
    }
    const props = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
    const extra = (s.additionalProperties as JsonSchema | undefined) ?? true;
    for (const [key, v] of Object.entries(obj)) {
      errors.push(...check(Object.hasOwn(props, key) ? props[key] : extra, v, `${path}.${key}`));
    }
  }
  return errors;
}
