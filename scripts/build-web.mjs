// `npm run build:web` (also run by `npm install` through `prepare`, and by `npm start` with
// --if-missing): builds web/ with Vite into dist/web, which the server serves at /.
// A production install (`npm ci --omit=dev`, as in the Docker image's runtime stage) has no
// Vite and no web/ sources: it skips with a note; the image copies the build from its build stage.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const built = join(root, 'dist', 'web', 'index.html');

if (process.argv.includes('--if-missing') && existsSync(built)) process.exit(0);
if (!existsSync(join(root, 'web', 'index.html'))) {
  console.log('build:web: no web/ sources here, skipped');
  process.exit(0);
}
let vite;
try {
  vite = await import('vite');
} catch {
  console.log('build:web: Vite is not installed (a production install?), skipped');
  process.exit(0);
}
await vite.build({ root: join(root, 'web'), logLevel: 'warn' });
console.log(`build:web: built ${built}`);
