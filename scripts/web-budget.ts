/**
 * `npm run web:budget`: the web app's budgets (issue 13).
 *
 * - Always: the initial JavaScript of the build in dist/web (the scripts and modulepreloads of
 *   index.html), gzipped; exits 1 above INITIAL_JS_BUDGET_KB. Fast: no server, no browser. CI
 *   runs this form.
 * - With `--measure`: also starts Evently embedded, creates a 20,000-seat event through the API
 *   and times the seat map in Chromium (scripts/web-budget-measure.ts). The timings are reported,
 *   not enforced: on a shared machine they vary with its load, which is printed with them.
 *
 * `--dist <dir>` checks another build (the budget's own test uses it).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INITIAL_JS_BUDGET_KB, initialJavaScript, kb } from './web-initial-js.js';

const args = process.argv.slice(2);
const distAt = args.indexOf('--dist');
const distDir =
  distAt >= 0
    ? resolve(args[distAt + 1] ?? '.')
    : resolve(import.meta.dirname, '..', 'dist', 'web');

if (!existsSync(join(distDir, 'index.html'))) {
  console.error(`web:budget: no build in ${distDir}: run \`npm run build:web\` first.`);
  process.exit(1);
}

const files = initialJavaScript(distDir);
const total = files.reduce((sum, f) => sum + f.gzipBytes, 0);
const withinBudget = total <= INITIAL_JS_BUDGET_KB * 1024;
console.log('Initial JavaScript (index.html scripts and modulepreloads, gzip -9):\n');
console.log('| file | raw KiB | gzip KiB |');
console.log('| --- | ---: | ---: |');
for (const f of files) console.log(`| ${f.file} | ${kb(f.bytes)} | ${kb(f.gzipBytes)} |`);
console.log(`| **total** | ${kb(files.reduce((s, f) => s + f.bytes, 0))} | **${kb(total)}** |`);
console.log(
  `\n${withinBudget ? 'within' : 'OVER'} the budget of ${INITIAL_JS_BUDGET_KB} KiB gzip (${kb(total)} KiB)`,
);

if (args.includes('--measure')) {
  const { measureSeatMap } = await import('./web-budget-measure.js');
  await measureSeatMap();
}
process.exit(withinBudget ? 0 : 1);
