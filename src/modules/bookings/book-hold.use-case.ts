import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { DB } from '../../platform/database/schema.js';
import { AppError, notFound } from '../../platform/errors.js';
import { GroupCommitter } from '../../platform/group-commit.js';
import type { Principal } from '../../platform/principal.js';
import type { SagaRow } from '../../platform/saga/saga.repository.js';
import { activeTraceContext } from '../../platform/telemetry.js';
import type { AuditContext } from '../audit/index.js';
import {
  startBookings,
  type BookingStart,
  type BookingStarted,
} from './booking-start.statement.js';
import type { BookingOutcome } from './booking-outcome.js';
import type { BookingRow } from './booking.repository.js';
import type { SagaEffects } from './booking.saga.js';
import type { BookingView } from './booking.schemas.js';
import type { SagaDriver } from './saga-driver.js';

export interface BookHoldInput {
  holdId: string;
  token: string;
}

type Started = { existing: BookingRow | undefined } | { booking: BookingRow; saga: SagaRow };

/**
 * `POST /bookings`: pays for a hold. The start (booking row, saga at `charge`) is one
 * statement shared by the starts that arrive together; then the saga runs inline, or, with
 * `Prefer: respond-async`, on a worker. A repeat for the same hold (a retry, a double submit)
 * joins the booking already under way instead of paying twice.
 */
export class BookHold {
  /** Booking starts that arrive together share one statement (one commit). */
  private readonly starts: GroupCommitter<BookingStart, BookingStarted>;

  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      driver: SagaDriver;
      outcome: BookingOutcome;
      clock: Clock;
      settings: { leaseMs: number; maxBatch: number };
    },
  ) {
    this.starts = new GroupCommitter(
      (_key, starts) => startBookings(deps.db, deps.clock.now(), starts),
      { maxBatch: deps.settings.maxBatch },
    );
  }

  /** Starts the booking and drives its saga in this request; answers how it ended. */
  async book(actor: Principal, input: BookHoldInput, audit: AuditContext): Promise<BookingView> {
    const started = await this.start(actor, input, audit, 'inline');
    if ('existing' in started) {
      const existing = assertJoinable(started.existing);
      return this.deps.outcome.answer((await this.deps.outcome.awaitSettled(existing.id)).id);
    }
    const effects: SagaEffects = { released: [], eventIds: new Set() };
    await this.deps.driver.drive(started.saga, effects);
    return this.deps.outcome.answer(started.booking.id, effects.confirmed);
  }

  /**
   * `Prefer: respond-async`: records the booking and its saga and returns at once; a worker
   * picks the saga up from the queue (`saga.start`), so accepting bookings is not limited by
   * how fast the payment provider answers.
   */
  async bookAsync(
    actor: Principal,
    input: BookHoldInput,
    audit: AuditContext,
  ): Promise<BookingRow> {
    const started = await this.start(actor, input, audit, 'worker');
    if ('existing' in started) return assertJoinable(started.existing);
    return started.booking;
  }

  private async start(
    actor: Principal,
    input: BookHoldInput,
    audit: AuditContext,
    runner: 'inline' | 'worker',
  ): Promise<Started> {
    const now = this.deps.clock.now();
    const started = await this.starts.submit('start', {
      bookingId: randomUUID(),
      holdId: input.holdId,
      userId: actor.userId,
      token: input.token,
      audit,
      // Inline: this request owns it. For a worker: no owner yet, so the first claim is a
      // first attempt (and the recovery loop is the fallback if the message were lost).
      lockedUntil:
        runner === 'inline' ? new Date(now.getTime() + this.deps.settings.leaseMs) : null,
      queue: runner === 'worker',
      traceContext: activeTraceContext() ?? null,
    });
    const { hold } = started;
    if (!hold || hold.user_id !== actor.userId) throw notFound('Hold');
    if (started.booking && started.saga) return { booking: started.booking, saga: started.saga };
    if (started.booking) throw bookingInProgress();
    // A repeat of a request that booked this hold (or a double submit) answers with that
    // booking.
    if (started.live) return { existing: started.live };
    if (hold.status !== 'active' || hold.expires_at <= now) {
      throw new AppError(
        'HOLD_EXPIRED',
        'The hold has expired or was released; hold the seats again',
      );
    }
    return { existing: undefined };
  }
}

const bookingInProgress = () => new AppError('BOOKING_IN_PROGRESS', 'Retry in a moment');

/** The booking a repeat joins; none (a start racing this one) means try again shortly. */
function assertJoinable(existing: BookingRow | undefined): BookingRow {
  if (!existing) throw bookingInProgress();
  return existing;
}
