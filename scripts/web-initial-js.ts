import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The initial JavaScript may weigh this much, gzipped, in KiB (issue 13). */
export const INITIAL_JS_BUDGET_KB = 200;

export interface SizedFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

/**
 * The scripts a first visit downloads before the app runs: every `<script src>` and `<link
 * rel="modulepreload">` of the built index.html (Vite lists the entry's static imports as
 * modulepreloads; lazy pages are not among them), each gzipped at level 9 as a server would.
 */
export function initialJavaScript(distDir: string): SizedFile[] {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const files = new Set<string>();
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const isScript = /^<script/i.test(tag);
    if (!isScript && !/\brel=["']?modulepreload/i.test(tag)) continue;
    const url = /\b(?:src|href)=["']?([^"'\s>]+)/i.exec(tag)?.[1];
    // Only this origin's files count (and exist in the build); a CDN script would not pass the CSP.
    if (url && url.startsWith('/') && !url.startsWith('//')) files.add(url.split(/[?#]/)[0]!);
  }
  return [...files].map((url) => {
    const content = readFileSync(join(distDir, url));
    return { file: url, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
}

export const kb = (bytes: number) => (bytes / 1024).toFixed(1);
