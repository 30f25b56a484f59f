import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AuthGuards, principalOf } from '../../platform/auth-guard.js';
import { bearerSecurity, problems } from '../../platform/openapi.js';
import { auditContextOf } from '../audit/index.js';
import type { TicketsModule } from './tickets.module.js';
import {
  CheckInBody,
  CheckInSchema,
  GrantScannerBody,
  ManifestSchema,
  MAX_SYNC_SCANS,
  ScannerGrantSchema,
  SyncBody,
  SyncResultSchema,
} from './ticket.schemas.js';

const EventParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ScannerParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
});

const WHO = 'The event organizer, an admin, or a user with the event’s scanner grant.';

/** Scanning at the door, online and offline, and the scanner grants (docs/check-in.md). */
export function checkInRoutes(
  tickets: TicketsModule,
  guards: AuthGuards,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Scanners are often plain users: the grant, not the role, decides (CheckInAccess).
    const signedIn = guards.requireAuth();
    const organizer = guards.requireAuth('organizer', 'admin');
    const tags = ['tickets and check-in'];

    app.post(
      '/events/:id/check-ins',
      {
        onRequest: signedIn,
        schema: {
          tags,
          summary: 'Check a ticket in by its code (exactly once)',
          description: `${WHO} 409 ALREADY_CHECKED_IN carries the first \`checkedInAt\`; 404 TICKET_NOT_FOUND for an unknown code or another event's ticket; 409 TICKET_NOT_VALID for a cancelled ticket.`,
          security: bearerSecurity,
          params: EventParams,
          body: CheckInBody,
          response: { 200: CheckInSchema, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) =>
        tickets.checkIn.checkIn(
          principalOf(request),
          request.params.id,
          request.body.code,
          auditContextOf(request),
        ),
    );

    app.get(
      '/events/:id/check-ins/manifest',
      {
        onRequest: signedIn,
        schema: {
          tags,
          summary: 'Every ticket of the event for offline scanning, by the SHA-256 of its code',
          description: `${WHO} Plain codes are never listed: a scanner hashes what it reads (SHA-256 of the UTF-8 code, lowercase hex) and looks the hash up.`,
          security: bearerSecurity,
          params: EventParams,
          response: { 200: ManifestSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const manifest = await tickets.queries.manifest(principalOf(request), request.params.id);
        return reply.header('cache-control', 'no-store').send(manifest);
      },
    );

    app.post(
      '/events/:id/check-ins/sync',
      {
        onRequest: signedIn,
        schema: {
          tags,
          summary: 'Send scans made offline; the earliest scan of a ticket wins',
          description: `${WHO} At most ${MAX_SYNC_SCANS} scans per request (400 VALIDATION_FAILED above). One result per scan, in order. A ticket is checked in at its earliest scan, across devices and the online scans: an earlier offline scan moves a later check-in back to its time. Scan times in the future count as now.`,
          security: bearerSecurity,
          params: EventParams,
          body: SyncBody,
          response: { 200: SyncResultSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request) =>
        tickets.sync.sync(
          principalOf(request),
          request.params.id,
          request.body,
          auditContextOf(request),
        ),
    );

    app.post(
      '/events/:id/scanners',
      {
        onRequest: organizer,
        schema: {
          tags,
          summary: 'Let a user check tickets in for this event (organizer, admin)',
          description:
            '404 NOT_FOUND for an unknown user. Granting again answers the standing grant.',
          security: bearerSecurity,
          params: EventParams,
          body: GrantScannerBody,
          response: { 201: ScannerGrantSchema, ...problems(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const grant = await tickets.grantScanner.grant(
          principalOf(request),
          request.params.id,
          request.body.userId,
          auditContextOf(request),
        );
        return reply.status(201).send(grant);
      },
    );

    app.delete(
      '/events/:id/scanners/:userId',
      {
        onRequest: organizer,
        schema: {
          tags,
          summary: 'End a user’s scanner grant for this event (organizer, admin)',
          security: bearerSecurity,
          params: ScannerParams,
          response: {
            204: { type: 'null', description: 'Grant ended' },
            ...problems(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        await tickets.revokeScanner.revoke(
          principalOf(request),
          request.params.id,
          request.params.userId,
          auditContextOf(request),
        );
        return reply.status(204).send();
      },
    );
  };
}
