import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import type { TicketsModule } from './tickets.module.js';
import { TicketSchema } from './ticket.schemas.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** `GET /tickets/:id`, `GET /tickets/:id/qr.svg`, `GET /bookings/:id/tickets.pdf`. */
export function ticketRoutes(
  tickets: TicketsModule,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.requireAuth());
    // A ticket's code gets its holder in: no shared cache may keep a copy.
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
    });
    const tags = ['tickets and check-in'];

    app.get(
      '/tickets/:id',
      {
        schema: {
          tags,
          summary:
            'A ticket with its code, seat and check-in state (holder, event organizer, admin)',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: TicketSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => tickets.queries.get(principalOf(request), request.params.id),
    );

    app.get(
      '/tickets/:id/qr.svg',
      {
        schema: {
          tags,
          summary: 'The ticket code as a QR image (holder, event organizer, admin)',
          security: bearerSecurity,
          params: IdParams,
          produces: ['image/svg+xml'],
          response: {
            200: Type.Unsafe<string>({ type: 'string', description: 'image/svg+xml' }),
            ...problems(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const svg = await tickets.queries.qrSvg(principalOf(request), request.params.id);
        return reply.type('image/svg+xml').send(svg);
      },
    );

    app.get(
      '/bookings/:id/tickets.pdf',
      {
        schema: {
          tags,
          summary:
            'The booking’s tickets as a PDF, one page each, streamed (holder, event organizer, admin)',
          description:
            '409 INVALID_STATE when the booking has no valid ticket (pending, failed or cancelled).',
          security: bearerSecurity,
          params: IdParams,
          produces: ['application/pdf'],
          response: {
            200: Type.Unsafe<Readable>({
              type: 'string',
              format: 'binary',
              description: 'application/pdf',
            }),
            ...problems(400, 401, 403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const pdf = await tickets.print.print(principalOf(request), request.params.id);
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="tickets-${request.params.id}.pdf"`)
          .send(pdf);
      },
    );
  };
}
