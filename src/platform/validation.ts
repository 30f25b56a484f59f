import { Ajv, type Options } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    // Unknown fields are rejected, never silently dropped (the API contract says 400).
    removeAdditional: false,
    useDefaults: true,
    allErrors: true,
    strict: false,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated strictly ("5" is not a number); query strings and path parameters
 * arrive as text, so those are coerced to the declared types.
 */
export function registerValidation(app: FastifyInstance): void {
  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
  // PostgreSQL cannot store U+0000 in text: such a request is refused here, field by field,
  // before any handler runs, instead of failing later at the database as a 500.
  app.addHook('preValidation', async (request) => {
    const fields = [
      ...fieldsWithNul(request.body, ''),
      ...fieldsWithNul(request.query, 'querystring'),
      ...fieldsWithNul(request.params, 'params'),
    ];
    if (fields.length > 0) {
      throw new AppError('VALIDATION_FAILED', `${fields.join(', ')}: contains U+0000`, {
        errors: fields.map((field) => ({
          field,
          message: 'must not contain the character U+0000',
        })),
      });
    }
  });
}

const NUL = '\u0000';

/** The paths (as the validation errors name fields) of the strings that hold a NUL. */
function fieldsWithNul(value: unknown, path: string): string[] {
  if (typeof value === 'string') return value.includes(NUL) ? [path || 'body'] : [];
  if (typeof value !== 'object' || value === null) return [];
  const found: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes(NUL)) found.push(at);
    else found.push(...fieldsWithNul(item, at));
  }
  return found;
}
