import { Type } from '@sinclair/typebox';

/** The problem document every error response carries (RFC 9457). */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    ),
  },
  { additionalProperties: true },
);

/** Declares the error statuses a route can answer with, for the OpenAPI document. */
export function problems(...statuses: number[]): Record<number, typeof Problem> {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}

export const bearerSecurity = [{ bearerAuth: [] }];

type Json = unknown;

/**
 * The served document says what the server accepts: a field or parameter with a default may be
 * left out (the validator fills it in), so it is not `required` there, though TypeBox lists it
 * as required in the schema it hands the validator. For @fastify/swagger's `transformObject`.
 */
export function optionalWhereDefaulted<T>(document: T): T {
  visit(document);
  return document;
}

function visit(node: Json): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const object = node as Record<string, Json>;
  const properties = object.properties as Record<string, { default?: unknown }> | undefined;
  if (Array.isArray(object.required) && properties && typeof properties === 'object') {
    const required = (object.required as string[]).filter(
      (name) => properties[name]?.default === undefined,
    );
    if (required.length > 0) object.required = required;
    else delete object.required;
  }
  // An OpenAPI parameter: {in, name, required, schema}.
  if (typeof object.in === 'string' && object.required === true) {
    const schema = object.schema as { default?: unknown } | undefined;
    if (schema?.default !== undefined) object.required = false;
  }
  for (const value of Object.values(object)) visit(value);
}
