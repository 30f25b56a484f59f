import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { AuditContext } from '../audit/index.js';

/** One hold request as the hold statement takes it (migration 010, `hold_batch`). */
export interface HoldRequest {
  holdId: string;
  userId: string;
  seatIds?: string[];
  quantity?: number;
  expiresAt: string;
  audit: AuditContext;
  /** When set, the statement stores the 201 answer under this key with the hold. */
  idempotency: { scope: string; key: string } | null;
  traceContext: Record<string, string> | null;
}

export type HoldOutcome =
  | 'HELD'
  | 'NOT_FOUND'
  | 'SALES_CLOSED'
  | 'WRONG_SEATING'
  | 'TICKET_LIMIT_EXCEEDED'
  | 'DUPLICATE_SEATS'
  | 'UNKNOWN_SEATS'
  | 'SEAT_UNAVAILABLE'
  | 'SOLD_OUT';

/** The statement's answer to one request: a hold, or the reason there is none. */
export interface HoldAnswer {
  outcome: HoldOutcome;
  /** HELD: the seats held; UNKNOWN_SEATS / SEAT_UNAVAILABLE: the seats refused. */
  seatIds: string[];
  totalCents: number | null;
  currency: string | null;
  detail: Record<string, unknown> | null;
}

/** One row of `hold_batch`'s answer. */
export interface HoldBatchRow {
  idx: number;
  outcome: HoldOutcome;
  seat_ids: string[] | null;
  total_cents: number | null;
  currency: string | null;
  detail: Record<string, unknown> | null;
}

/**
 * The hold path's one round trip: a batch of hold requests for one event in one statement
 * (the seats or the capacity, the hold rows, audit, outbox and idempotency answers, the
 * event's counters), all or nothing per request, one answer per request.
 */
export class HoldBatchStatement {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly options: { asyncCommit: boolean },
  ) {}

  async run(eventId: string, now: Date, requests: HoldRequest[]): Promise<HoldAnswer[]> {
    const { rows } = await sql<HoldBatchRow>`
      SELECT idx, outcome, seat_ids::text[] AS seat_ids, total_cents, currency, detail
      FROM hold_batch(${eventId}::uuid, ${now}::timestamptz, ${this.options.asyncCommit},
                      ${JSON.stringify(requests)}::jsonb)`.execute(this.db);
    return holdAnswers(rows, requests.length);
  }
}

/** The statement's rows as one answer per request, in request order. */
export function holdAnswers(rows: readonly HoldBatchRow[], count: number): HoldAnswer[] {
  if (rows.length !== count) {
    throw new Error(`hold_batch answered ${rows.length} of ${count} requests`);
  }
  const answers: HoldAnswer[] = new Array(count);
  for (const row of rows) {
    answers[row.idx] = {
      outcome: row.outcome,
      seatIds: row.seat_ids ?? [],
      totalCents: row.total_cents,
      currency: row.currency,
      detail: row.detail,
    };
  }
  return answers;
}
