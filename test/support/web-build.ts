import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WEB_ROOT } from '../../src/platform/web-app.js';

/** Fails with the command to run when the web app has not been built (npm install builds it). */
export function assertWebAppBuilt(): void {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(`The web app is not built (${WEB_ROOT}): run \`npm run build:web\`.`);
  }
}

/** The name of one file of the build under /assets (names are content hashes). */
export function builtAsset(): string {
  assertWebAppBuilt();
  const name = readdirSync(join(WEB_ROOT, 'assets')).find((file) => file.endsWith('.js'));
  if (!name) throw new Error(`No script in ${join(WEB_ROOT, 'assets')}: rebuild the web app.`);
  return name;
}
