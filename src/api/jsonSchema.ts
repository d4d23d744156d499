// zod → JSON Schema, one conversion for both API documents: OpenAPI 3.1 takes JSON Schema
// 2020-12, AsyncAPI 3.0's default schema format is a superset of draft-07.
import { z } from "zod";

export type JsonSchema = Record<string, unknown>;

export type JsonSchemaTarget = "draft-2020-12" | "draft-07";

/** `io: "input"` is what a caller may send (defaults optional), `"output"` what the server answers. */
export function jsonSchemaOf(
  schema: z.ZodType,
  io: "input" | "output",
  target: JsonSchemaTarget = "draft-2020-12",
): JsonSchema {
  // Refinements (printable text, distinct ids) have no JSON Schema: the checks the document can show are kept.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target, unrepresentable: "any" }) as JsonSchema;
  return rest;
}
