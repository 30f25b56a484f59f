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
  onRequest({ request }) {
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

function isAuthCall(request: Request): boolean {
  const path = new URL(request.url).pathname;
  return path === '/api/v1/auth/refresh' || path === '/api/v1/auth/login';
}

/** Trades the refresh token for a new pair (rotation); null when it is no longer accepted. */
async function refreshTokens(refreshToken: string) {
  const { data } = await api.POST('/api/v1/auth/refresh', { body: { refreshToken } });
  return data ?? null;
}
