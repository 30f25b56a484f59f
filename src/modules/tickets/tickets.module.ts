import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { DB } from '../../platform/database/schema.js';
import type { EventLookup, EventOwnership } from '../events/index.js';
import type { UserAccounts } from '../users/index.js';
import type { VenueLookup } from '../venues/index.js';
import { CheckInAccess } from './check-in-access.js';
import { CheckIn } from './check-in.use-case.js';
import { GrantScanner } from './grant-scanner.use-case.js';
import { PrintBookingTickets } from './print-booking-tickets.use-case.js';
import { RevokeScanner } from './revoke-scanner.use-case.js';
import { ScannerGrantRepository } from './scanner-grant.repository.js';
import { SyncCheckIns } from './sync-check-ins.use-case.js';
import { TicketQueries } from './ticket-queries.js';
import { TicketRepository } from './ticket.repository.js';

/** The tickets use cases, one per file, with the reads. */
export interface TicketsModule {
  queries: TicketQueries;
  print: PrintBookingTickets;
  checkIn: CheckIn;
  sync: SyncCheckIns;
  grantScanner: GrantScanner;
  revokeScanner: RevokeScanner;
  /** What the live updates read after a check-in: the event's counts. */
  counts: CheckInCounts;
}

/** An event's check-in figures (realtime reads them after each `ticket.checked_in`). */
export interface CheckInCounts {
  countsOf(eventId: string): Promise<{ checkedIn: number; total: number }>;
}

export function createTicketsModule(deps: {
  db: Kysely<DB>;
  events: EventLookup;
  ownership: EventOwnership;
  venues: Pick<VenueLookup, 'findById'>;
  users: Pick<UserAccounts, 'findById'>;
  clock: Clock;
}): TicketsModule {
  const { db, events, clock } = deps;
  const tickets = new TicketRepository(db);
  const grants = new ScannerGrantRepository(db);
  const access = new CheckInAccess({ events, grants });
  return {
    queries: new TicketQueries({ tickets, events, access, now: () => clock.now() }),
    print: new PrintBookingTickets({ tickets, events, venues: deps.venues }),
    checkIn: new CheckIn({ db, tickets, access, clock }),
    sync: new SyncCheckIns({ db, tickets, access, clock }),
    grantScanner: new GrantScanner({ db, grants, ownership: deps.ownership, users: deps.users }),
    revokeScanner: new RevokeScanner({ db, grants, ownership: deps.ownership }),
    counts: { countsOf: (eventId) => tickets.counts(eventId) },
  };
}
