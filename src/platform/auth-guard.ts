import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { UserRole } from './database/schema.js';
import type { Authenticator, Principal } from './principal.js';
import { AppError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthGuards {
  /** Requires a valid token; with roles, also one of them. */
  requireAuth(...roles: UserRole[]): onRequestAsyncHookHandler;
  /** Reads a token when present (public routes that show more to owners); a bad one is 401. */
  optionalAuth: onRequestAsyncHookHandler;
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
  return match[1];
}

export function createAuthGuards(auth: Authenticator): AuthGuards {
  return {
    requireAuth(...roles: UserRole[]) {
      return async (request: FastifyRequest, _reply: FastifyReply) => {
        const principal = await auth.authenticate(bearerOf(request));
        if (roles.length > 0 && !roles.includes(principal.role)) {
          throw new AppError('FORBIDDEN', `This needs the role ${roles.join(' or ')}`);
        }
        request.principal = principal;
      };
    },
    async optionalAuth(request: FastifyRequest) {
      const bearer = bearerOf(request);
      if (bearer) request.principal = await auth.authenticate(bearer);
    },
  };
}

/** The principal set by requireAuth; a route without the guard calling this is a bug. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route is missing its requireAuth guard');
  return request.principal;
}
