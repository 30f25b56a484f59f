import { AppError, notFound } from '../../platform/errors.js';
import type { HoldAnswer, HoldRequest } from './hold-batch.statement.js';
import type { HoldView } from './hold.schemas.js';

/**
 * The hold statement's answer to one request as the API gives it: the hold, or today's
 * refusal with its code and wording (API.md), thrown.
 */
export function holdViewOrRefusal(
  eventId: string,
  request: HoldRequest,
  answer: HoldAnswer,
  now: Date,
): HoldView {
  const detail = answer.detail ?? {};
  const quantity = request.seatIds?.length ?? request.quantity ?? 0;
  switch (answer.outcome) {
    case 'HELD':
      return {
        id: request.holdId,
        eventId,
        seatIds: answer.seatIds,
        quantity,
        totalCents: answer.totalCents ?? 0,
        currency: answer.currency ?? '',
        expiresAt: request.expiresAt,
      };
    case 'NOT_FOUND':
      throw notFound('Event');
    case 'SALES_CLOSED':
      throw salesClosed(detail, now);
    case 'WRONG_SEATING': {
      const reserved = request.seatIds !== undefined;
      throw new AppError(
        'VALIDATION_FAILED',
        reserved
          ? 'This event is general admission: ask for a quantity'
          : 'This event has reserved seats: ask for seatIds',
        {
          errors: [
            {
              field: reserved ? 'seatIds' : 'quantity',
              message: `not accepted for ${String(detail.seating)} seating`,
            },
          ],
        },
      );
    }
    case 'TICKET_LIMIT_EXCEEDED':
      throw new AppError(
        'TICKET_LIMIT_EXCEEDED',
        `At most ${Number(detail.max)} tickets per person; you have ${Number(detail.owned)}`,
      );
    case 'DUPLICATE_SEATS':
      throw new AppError('VALIDATION_FAILED', 'The same seat is asked for twice', {
        errors: [{ field: 'seatIds', message: 'must not repeat a seat' }],
      });
    case 'UNKNOWN_SEATS':
      throw new AppError('VALIDATION_FAILED', 'Some seats are not seats of this event', {
        errors: answer.seatIds.map((id) => ({
          field: 'seatIds',
          message: `${id} is not a seat of this event`,
        })),
      });
    case 'SEAT_UNAVAILABLE':
      throw new AppError('SEAT_UNAVAILABLE', 'Some of the seats are already held or sold', {
        unavailableSeatIds: answer.seatIds,
      });
    case 'SOLD_OUT':
      throw new AppError('SOLD_OUT', `Fewer than ${quantity} tickets are left`);
  }
}

function salesClosed(detail: Record<string, unknown>, now: Date): AppError {
  if (detail.status === 'cancelled') return new AppError('SALES_CLOSED', 'The event was cancelled');
  const opens = typeof detail.salesStartAt === 'string' ? new Date(detail.salesStartAt) : null;
  if (opens && now < opens) {
    return new AppError('SALES_CLOSED', `Sales open at ${opens.toISOString()}`);
  }
  return new AppError('SALES_CLOSED', 'Sales for this event have ended');
}
