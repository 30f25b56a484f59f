import type {} from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/errors.js';
import type { EventQueries, EventView, SeatMapView } from '../events/index.js';
import type { LiveHub } from './live-hub.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * WS /api/v1/events/:id/live — a snapshot on connect, then `{type: "seats", changes}` and
 * `{type: "availability", available, held, sold}` as they happen.
 */
export function registerLiveRoutes(app: FastifyInstance, events: EventQueries, hub: LiveHub): void {
  app.get<{ Params: { id: string } }>(
    '/events/:id/live',
    { websocket: true, schema: { hide: true } },
    async (socket, request) => {
      const { id } = request.params;
      try {
        if (!UUID.test(id)) throw new AppError('VALIDATION_FAILED', 'id must be a UUID');
        // Registering first means no update published while the snapshot loads is missed.
        hub.add(id, socket);
        const event = JSON.parse(await events.getJson(undefined, id)) as EventView;
        const map = JSON.parse(await events.seatMapJson(undefined, id)) as SeatMapView;
        hub.sendSnapshot(socket, {
          type: 'snapshot',
          eventId: id,
          available: event.available,
          held: event.held,
          sold: event.sold,
          seats: map.sections.flatMap((s) =>
            s.rows.flatMap((r) =>
              r.seats.map((seat) => ({ seatId: seat.id, status: seat.status })),
            ),
          ),
        });
      } catch (error) {
        const code = error instanceof AppError ? error.code : 'INTERNAL_ERROR';
        socket.send(JSON.stringify({ type: 'error', code }));
        socket.close(1008, code);
      }
    },
  );
}
