import createClient, { type Middleware } from 'openapi-fetch';
import { session } from '../session/session';
import type { components, paths } from './schema';

export type { components, paths };

/**
 * The one API client of the app, typed from the served /openapi.json (schema.d.ts is generated
 * by `npm run api:types`). A middleware signs requests with the session's access token and,
 * when one comes back 401, refreshes the token pair once and repeats the request.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin });

const retryCopies = new WeakMap<Request, Request>();

const auth: Middleware = {
  async onRequest({ request }) {
    // After a reload the access token (memory only) is gone: trade the refresh token for one
    // before the first request rather than after its 401.
    if (!session.accessToken() && session.canRefresh() && !isAuthCall(request))
      await session.refresh(refreshTokens);
    const token = session.accessToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    // The body can be read only once: keep a copy in case it has to be sent again.
    if (session.canRefresh() && !isAuthCall(request)) retryCopies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const copy = retryCopies.get(request);
    if (response.status !== 401 || !copy) return response;
    const refreshed = await session.refresh(refreshTokens);
    if (!refreshed) return response;
    copy.headers.set('authorization', `Bearer ${refreshed}`);
    return fetch(copy);
  },
};
api.use(auth);

/** Calls whose 401 says nothing about the session (for logout: it no longer matters). */
const NO_REFRESH = new Set(['/api/v1/auth/refresh', '/api/v1/auth/login', '/api/v1/auth/logout']);

function isAuthCall(request: Request): boolean {
  return NO_REFRESH.has(new URL(request.url).pathname);
}

/** Trades the refresh token for a new pair (rotation); null when it is no longer accepted. */
async function refreshTokens(refreshToken: string) {
  const { data } = await api.POST('/api/v1/auth/refresh', { body: { refreshToken } });
  return data ?? null;
}
