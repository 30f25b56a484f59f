import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { PageQuery, pageOf } from '../../platform/pagination.js';
import { auditContextOf } from '../audit/index.js';
import { UserSchema } from '../users/index.js';
import {
  AuthResponse,
  LoginBody,
  RefreshBody,
  RegisterBody,
  SessionIdParams,
  SessionSchema,
} from './auth.schemas.js';
import type { AuthModule } from './auth.module.js';
import type { ClientInfo } from './session-tokens.js';

const clientOf = (request: FastifyRequest): ClientInfo => ({
  ip: request.ip ?? null,
  userAgent: request.headers['user-agent'] ?? null,
});

export function authRoutes(auth: AuthModule, guards: AuthGuards): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['auth'];

    app.post(
      '/auth/register',
      {
        schema: {
          tags,
          summary: 'Create an account (always with the role user)',
          body: RegisterBody,
          response: { 201: AuthResponse, ...problems(400, 409) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await auth.signIn.register(request.body, clientOf(request), auditContextOf(request)),
          ),
    );

    app.post(
      '/auth/login',
      {
        schema: {
          tags,
          summary: 'Exchange email and password for tokens',
          body: LoginBody,
          response: { 200: AuthResponse, ...problems(400, 401) },
        },
      },
      async (request) =>
        auth.signIn.login(request.body, clientOf(request), auditContextOf(request)),
    );

    app.post(
      '/auth/refresh',
      {
        schema: {
          tags,
          summary: 'Rotate a refresh token; reusing an old one revokes the whole session',
          body: RefreshBody,
          response: { 200: AuthResponse, ...problems(400, 401) },
        },
      },
      async (request) => auth.refresh.refresh(request.body.refreshToken, auditContextOf(request)),
    );

    app.post(
      '/auth/logout',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'End this session: its access and refresh tokens stop working at once',
          security: bearerSecurity,
          response: { 204: { type: 'null', description: 'Logged out' }, ...problems(401) },
        },
      },
      async (request, reply) => {
        await auth.signOut.logout(principalOf(request), auditContextOf(request));
        return reply.status(204).send();
      },
    );

    app.get(
      '/auth/me',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'The signed-in user',
          security: bearerSecurity,
          response: { 200: UserSchema, ...problems(401) },
        },
      },
      async (request) => auth.account.me(principalOf(request)),
    );

    app.get(
      '/auth/sessions',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'My active sessions (one per login), newest first',
          security: bearerSecurity,
          querystring: Type.Object(PageQuery, { additionalProperties: false }),
          response: { 200: pageOf(SessionSchema), ...problems(400, 401) },
        },
      },
      async (request) => auth.account.listSessions(principalOf(request), request.query),
    );

    app.delete(
      '/auth/sessions/:id',
      {
        onRequest: guards.requireAuth(),
        schema: {
          tags,
          summary: 'End one of my sessions: its access and refresh tokens stop working at once',
          description:
            'Ending the current session is the same as logging out; ending an already ended one is harmless.',
          security: bearerSecurity,
          params: SessionIdParams,
          response: {
            204: { type: 'null', description: 'Session ended' },
            ...problems(400, 401, 404),
          },
        },
      },
      async (request, reply) => {
        await auth.signOut.endSession(
          principalOf(request),
          request.params.id,
          auditContextOf(request),
        );
        return reply.status(204).send();
      },
    );
  };
}
