import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { DB } from '../../platform/database/schema.js';
import type { Principal } from '../../platform/principal.js';
import type { AuditContext } from '../audit/index.js';
import type { CheckInAccess } from './check-in-access.js';
import { recordCheckIn } from './check-in-effects.js';
import type { LockedTicket, TicketRepository } from './ticket.repository.js';
import type { SyncInput, SyncOutcome, SyncResultView } from './ticket.schemas.js';

type Scan = SyncInput['scans'][number];

interface Decided {
  outcome: SyncOutcome;
  checkedInAt: Date | null;
}

/**
 * `POST /events/:id/check-ins/sync`: scans made offline, sent when the device is back.
 *
 * The rule (docs/check-in.md): the earliest scan of a ticket wins, wherever and whenever it
 * was made. A valid ticket is checked in at its earliest scan's time; a ticket already checked
 * in later than that (online, or by another device's sync) has its time moved back to it. The
 * winning scan is answered `checked_in`, every other scan of the ticket `already_checked_in`
 * with the time that stands. A scan time in the future (a device clock running ahead) counts
 * as now. Resending a batch changes nothing: its scans are then answered `already_checked_in`
 * with their own time.
 */
export class SyncCheckIns {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      tickets: TicketRepository;
      access: CheckInAccess;
      clock: Clock;
    },
  ) {}

  async sync(
    actor: Principal,
    eventId: string,
    input: SyncInput,
    audit: AuditContext,
  ): Promise<SyncResultView> {
    await this.deps.access.assertMayCheckIn(actor, eventId);
    const now = this.deps.clock.now();
    const scans = input.scans.map((scan) => ({
      ...scan,
      code: scan.code.trim(),
      at: new Date(Math.min(new Date(scan.scannedAt).getTime(), now.getTime())),
    }));
    const winners = earliestScanOf(scans);

    const decided = await this.deps.db.transaction().execute(async (trx) => {
      const tickets = await this.deps.tickets.lockByCodes(eventId, [...winners.keys()], trx);
      const byCode = new Map<string, Decided>();
      for (const ticket of tickets) {
        const winner = winners.get(ticket.code)!;
        byCode.set(ticket.code, await this.settle(trx, ticket, winner, { eventId, audit }));
      }
      return byCode;
    });

    return {
      results: scans.map((scan, index) => {
        const result = decided.get(scan.code);
        if (!result) return { code: scan.code, outcome: 'not_found', checkedInAt: null };
        const won = winners.get(scan.code)!.index === index;
        const outcome =
          won || result.outcome !== 'checked_in' ? result.outcome : 'already_checked_in';
        return { code: scan.code, outcome, checkedInAt: result.checkedInAt?.toISOString() ?? null };
      }),
    };
  }

  /** Applies a ticket's earliest scan of this batch to the locked row. */
  private async settle(
    trx: Kysely<DB>,
    ticket: LockedTicket,
    scan: Scan & { at: Date },
    context: { eventId: string; audit: AuditContext },
  ): Promise<Decided> {
    if (ticket.status === 'cancelled') return { outcome: 'not_valid', checkedInAt: null };
    const current = ticket.checked_in_at;
    if (ticket.status === 'checked_in' && current && current.getTime() <= scan.at.getTime()) {
      return { outcome: 'already_checked_in', checkedInAt: current };
    }
    await this.deps.tickets.setCheckedIn(ticket.id, scan.at, trx);
    await recordCheckIn(trx, {
      ticket: { ...ticket, event_id: context.eventId },
      checkedInAt: scan.at,
      replaces: ticket.status === 'checked_in' ? (current ?? undefined) : undefined,
      source: { via: 'sync', deviceId: scan.deviceId, scannedAt: scan.at },
      audit: context.audit,
    });
    return { outcome: 'checked_in', checkedInAt: scan.at };
  }
}

/** Each code's earliest scan in the batch (the first of equal times), with its position. */
function earliestScanOf<T extends { code: string; at: Date }>(
  scans: T[],
): Map<string, T & { index: number }> {
  const winners = new Map<string, T & { index: number }>();
  scans.forEach((scan, index) => {
    const best = winners.get(scan.code);
    if (!best || scan.at.getTime() < best.at.getTime()) winners.set(scan.code, { ...scan, index });
  });
  return winners;
}
