import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { CreateBookingInput } from '../../src/modules/bookings/booking.schemas.js';
import type { CreateHoldInput } from '../../src/modules/holds/hold.schemas.js';
import type { SignedIn } from './test-app.js';

/** A hold request's body, as the holds module's schema types it. */
export type HoldBody = CreateHoldInput;

/** Anything that answers injected requests: a TestApp, or one of its instances' Fastify apps. */
export interface Injector {
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
}

/**
 * The test kit's typed client for the booking path's requests, their bodies typed by the
 * modules' own schemas: one place that knows the routes, instead of a copy per test.
 */
export const api = {
  /** POST /events/:id/holds (`{quantity}` or `{seatIds}`). */
  hold: (
    to: Injector,
    user: SignedIn,
    eventId: string,
    body: CreateHoldInput,
    headers: Record<string, string> = {},
  ) =>
    to.inject({
      method: 'POST',
      url: `/api/v1/events/${eventId}/holds`,
      headers: { ...user.auth, ...headers },
      payload: body,
    }),

  /** DELETE /holds/:id */
  releaseHold: (to: Injector, user: SignedIn, holdId: string) =>
    to.inject({ method: 'DELETE', url: `/api/v1/holds/${holdId}`, headers: user.auth }),

  /** POST /bookings with a payment token (tok_visa unless told). */
  book: (
    to: Injector,
    user: SignedIn,
    holdId: string,
    token: CreateBookingInput['payment']['token'] = 'tok_visa',
    headers: Record<string, string> = {},
  ) =>
    to.inject({
      method: 'POST',
      url: '/api/v1/bookings',
      headers: { ...user.auth, ...headers },
      payload: { holdId, payment: { token } },
    }),
};
