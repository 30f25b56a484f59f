import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.js';
import { sendProblem } from './error-handler.js';

/**
 * Where `npm run build:web` writes the single-page app: `dist/web` at the repository root
 * (two levels up from this file both as src/platform/*.ts and, in the image, dist/platform/*.js).
 */
export const WEB_ROOT = resolve(import.meta.dirname, '..', '..', 'dist', 'web');

/** Paths that belong to the API and the operations endpoints, never to the app. */
const SERVER_PATHS = /^\/(api|health|metrics|docs|openapi\.json)(\/|$|\?)/;

/**
 * The Content-Security-Policy of everything but /docs: scripts, styles and connections from
 * this origin only, no inline script or style, no plugins, no framing by other sites.
 */
export const APP_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'self'"],
  // Not helmet's default upgrade-insecure-requests: an instance served over plain HTTP on a
  // LAN address (a box-office laptop) would have its own scripts rewritten to https and fail.
  upgradeInsecureRequests: null,
};

/** Answers a request the router did not match with the app's page; false: not a page request. */
export type PageFallback = (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>;

/**
 * Serves the web front end's files: `/assets/*`, whose names are content hashes, so cached for
 * a year and immutable. A missing file is the problem-document 404.
 */
export async function registerWebAssets(app: FastifyInstance, root = WEB_ROOT): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    wildcard: true,
    index: false,
    maxAge: '365d',
    immutable: true,
    // One route (GET /assets/*), left out of the API document like the other tooling.
    schemaHide: true,
  });
}

/**
 * `index.html` for any GET the router did not match that asks for HTML, outside the server's
 * own paths, so every app route is bookmarkable; never cached, so a new build is picked up at
 * the next navigation. Run by the not-found handler rather than as a catch-all route: a
 * wildcard route would also swallow the router's own refusals (a path parameter over its
 * length limit is a 414, not a page).
 */
export function appPageFallback(root = WEB_ROOT): PageFallback {
  let indexHtml: Buffer | undefined;
  return async (request, reply) => {
    if (!wantsAppPage(request)) return false;
    indexHtml ??= await readFile(join(root, 'index.html')).catch(() => undefined);
    if (!indexHtml) {
      await sendProblem(
        reply,
        new AppError(
          'SERVICE_UNAVAILABLE',
          'The web app is not built: run `npm run build:web` (npm install and npm start do it).',
        ),
      );
      return true;
    }
    await reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(indexHtml);
    return true;
  };
}

function wantsAppPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (SERVER_PATHS.test(request.url)) return false;
  return (request.headers.accept ?? '').includes('text/html');
}
