import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { initialJavaScript } from '../scripts/web-initial-js.js';

// `npm run web:budget` (without --measure, as CI runs it) against builds made up for the test:
// what counts as initial JavaScript, and the exit code on either side of the 200 KiB budget.

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '..', 'scripts', 'web-budget.ts');
const TSX = resolve(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');

function fakeBuild(files: Record<string, Buffer | string>, head: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'evently-web-budget-'));
  mkdirSync(join(dir, 'assets'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><html><head>${head}</head><body></body></html>`,
  );
  return dir;
}

async function budget(dir: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(TSX, [SCRIPT, '--dist', dir]);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('npm run web:budget', () => {
  it('counts the scripts and modulepreloads of index.html, gzipped, and nothing lazy or foreign', () => {
    const entry = 'console.log("entry");'.repeat(50);
    const vendor = 'export const vendor = 1;'.repeat(40);
    const dir = fakeBuild(
      {
        'assets/entry.js': entry,
        'assets/vendor.js': vendor,
        'assets/lazy-page.js': 'never counted',
        'assets/style.css': 'body{}',
      },
      `<script type="module" crossorigin src="/assets/entry.js"></script>
       <link rel="modulepreload" crossorigin href="/assets/vendor.js">
       <link rel="stylesheet" href="/assets/style.css">
       <script src="https://cdn.example.test/other.js"></script>`,
    );
    expect(initialJavaScript(dir)).toEqual([
      {
        file: '/assets/entry.js',
        bytes: entry.length,
        gzipBytes: gzipSync(entry, { level: 9 }).length,
      },
      {
        file: '/assets/vendor.js',
        bytes: vendor.length,
        gzipBytes: gzipSync(vendor, { level: 9 }).length,
      },
    ]);
  });

  it('passes a build under 200 KiB of gzipped JavaScript and fails one over it', async () => {
    const small = fakeBuild(
      { 'assets/entry.js': randomBytes(50 * 1024) },
      '<script type="module" src="/assets/entry.js"></script>',
    );
    const within = await budget(small);
    expect(within.code).toBe(0);
    expect(within.stdout).toMatch(/within the budget of 200 KiB gzip/);

    // Random bytes do not compress: 150 + 60 KiB stay above 200 KiB gzipped.
    const big = fakeBuild(
      { 'assets/entry.js': randomBytes(150 * 1024), 'assets/chunk.js': randomBytes(60 * 1024) },
      `<script type="module" src="/assets/entry.js"></script>
       <link rel="modulepreload" href="/assets/chunk.js">`,
    );
    const over = await budget(big);
    expect(over.code).toBe(1);
    expect(over.stdout).toMatch(/OVER the budget of 200 KiB gzip \(210\.\d KiB\)/);
  }, 30_000);

  it('fails with the command to run when there is no build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'evently-web-budget-'));
    const result = await run(TSX, [SCRIPT, '--dist', empty]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(result).toMatchObject({ code: 1 });
    expect((result as { stderr: string }).stderr).toMatch(/run `npm run build:web` first/);
  }, 30_000);
});
