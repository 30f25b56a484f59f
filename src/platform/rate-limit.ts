import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './error-handler.js';
import { AppError } from './errors.js';
import { Problem } from './openapi.js';
import type { RateLimitDecision, RateLimitStore } from './ports/rate-limit-store.js';

export interface RateLimitSettings {
  windowMs: number;
  /** Requests per client IP per window, on every limited route. */
  ipMax: number;
  /** Requests per signed-in user per window, on every limited route. */
  userMax: number;
  /** Tighter limits per client IP for some routes (the app names them: login, sign-up…). */
  perIp?: RouteLimit[];
  /** Tighter limits per user for some routes (the app names them: holds…). */
  perUser?: RouteLimit[];
}

/** A tighter window for some routes, each written `METHOD /route/:template`. */
export interface RouteLimit {
  name: string;
  limit: number;
  routes: string[];
}

interface Rule {
  name: string;
  limit: number;
  applies(method: string, route: string): boolean;
}

interface Shown {
  limit: number;
  decision: RateLimitDecision;
}

// Operations endpoints answer load balancers and scrapers, which must never be turned away.
function isExempt(route: string | undefined): boolean {
  if (route === undefined) return false;
  return (
    route === '/metrics' ||
    route === '/openapi.json' ||
    route === '/docs' ||
    route.startsWith('/docs/') ||
    route.startsWith('/health/')
  );
}

/**
 * The client's window key: IPv4-mapped addresses count as IPv4, and an IPv6 client counts by
 * its /64, since one subscriber routinely holds a whole /64 and could rotate through it.
 */
export function clientKeyOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const groups = [...left, ...middle, ...right].slice(0, 4).map((g) => g.replace(/^0+(?=.)/, ''));
  return `${groups.join(':')}::/64`;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

/**
 * Per-IP limits for every request (checked before authentication, so a flood of bad tokens is
 * limited too) and per-user limits keyed by the verified principal once the route's guard has
 * run. Tighter rules come first and a refusal stops the checks, so a refused login does not
 * also use up the general allowance. If the store is down, requests go through: rate limits
 * protect capacity, they are not worth an outage.
 */
export function registerRateLimiting(
  app: FastifyInstance,
  store: RateLimitStore,
  settings: RateLimitSettings,
): void {
  const tighter = (limits: RouteLimit[] = []): Rule[] =>
    limits.map(({ name, limit, routes }) => {
      const listed = new Set(routes);
      return { name, limit, applies: (m, r) => listed.has(`${m} ${r}`) };
    });
  const ipRules: Rule[] = [
    ...tighter(settings.perIp),
    { name: 'all', limit: settings.ipMax, applies: () => true },
  ];
  const userRules: Rule[] = [
    ...tighter(settings.perUser),
    { name: 'all', limit: settings.userMax, applies: () => true },
  ];
  const shown = new WeakMap<FastifyRequest, Shown>();
  let lastWarnAt = 0;

  // Headers describe the tightest window the request went through; a refusal always shows its own.
  function show(reply: FastifyReply, limit: number, decision: RateLimitDecision): void {
    const current = shown.get(reply.request);
    const tighter =
      !current ||
      !decision.allowed ||
      decision.remaining < current.decision.remaining ||
      (decision.remaining === current.decision.remaining &&
        decision.resetMs > current.decision.resetMs);
    if (!tighter) return;
    shown.set(reply.request, { limit, decision });
    void reply.headers({
      'ratelimit-limit': String(limit),
      'ratelimit-remaining': String(decision.remaining),
      'ratelimit-reset': String(seconds(decision.resetMs)),
    });
  }

  async function enforce(
    request: FastifyRequest,
    reply: FastifyReply,
    scope: string,
    rules: Rule[],
  ): Promise<FastifyReply | undefined> {
    const route = request.routeOptions.url ?? '';
    for (const rule of rules) {
      if (!rule.applies(request.method, route)) continue;
      let decision: RateLimitDecision;
      try {
        decision = await store.hit(
          `ratelimit:{${scope}}:${rule.name}`,
          rule.limit,
          settings.windowMs,
        );
      } catch (error) {
        // One line per ten seconds is enough to notice; one per request would flood the logs.
        if (Date.now() - lastWarnAt > 10_000) {
          lastWarnAt = Date.now();
          request.log.warn(
            { err: error },
            'rate-limit store unavailable; requests are not limited',
          );
        }
        return undefined;
      }
      show(reply, rule.limit, decision);
      if (!decision.allowed) {
        const retryAfter = Math.max(1, seconds(decision.retryAfterMs));
        return sendProblem(
          reply,
          new AppError('RATE_LIMITED', `Too many requests; try again in ${retryAfter} s`, {
            headers: { 'retry-after': String(retryAfter) },
          }),
        );
      }
    }
    return undefined;
  }

  // Every limited route may answer 429, and the OpenAPI document says so.
  app.addHook('onRoute', (route) => {
    if (isExempt(route.url) || !route.schema || route.schema.hide) return;
    route.schema.response = { 429: Problem, ...(route.schema.response as object | undefined) };
  });

  app.addHook('onRequest', async (request, reply) => {
    if (isExempt(request.routeOptions.url)) return;
    return enforce(request, reply, `ip:${clientKeyOf(request.ip)}`, ipRules);
  });

  // preValidation runs after the routes' own onRequest guards, so the principal is verified,
  // and before validation, so a user's malformed requests count as well.
  app.addHook('preValidation', async (request, reply) => {
    if (!request.principal || isExempt(request.routeOptions.url)) return;
    return enforce(request, reply, `user:${request.principal.userId}`, userRules);
  });
}
