import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderApiTypes, SCHEMA_FILE, servedDocument } from '../scripts/api-types.js';

// The web app's API types are generated from the document the server serves; a route or schema
// change that is not followed by `npm run api:types` fails here instead of drifting.
describe('web/src/api/schema.d.ts', () => {
  it('is what `npm run api:types` generates from the served /openapi.json now', async () => {
    const generated = await renderApiTypes(await servedDocument());
    expect(
      readFileSync(SCHEMA_FILE, 'utf8') === generated,
      'web/src/api/schema.d.ts is out of date: run `npm run api:types` and commit it',
    ).toBe(true);
  }, 60_000);
});
