import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, SagaStatus, SagasTable } from '../database/schema.js';
import { newestFirstPage } from '../database/keyset-page.js';

export type SagaRow = Selectable<SagasTable>;

/**
 * `attempts` counts takeovers: a saga that never had a driver (no lease yet) is claimed as a
 * first attempt, so its steps know nothing can have happened before them.
 */
const TAKEOVER_COUNT = sql<number>`attempts + CASE WHEN locked_until IS NULL THEN 0 ELSE 1 END`;

export interface SagaChange {
  step?: string;
  status?: SagaStatus;
  payload?: Record<string, unknown>;
  lastError?: string | null;
  lockedUntil?: Date | null;
  finishedAt?: Date;
}

/** The saga was taken over (its lease ran out) or finished by another driver. */
export class SagaLeaseLost extends Error {
  override name = 'SagaLeaseLost';
  constructor(readonly sagaId: string) {
    super(`saga ${sagaId} is no longer this driver's`);
  }
}

/** Persisted sagas: each step is written before the next runs, so any instance can resume. */
export class SagaRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Inserts a saga; undefined when the booking already has a live saga of that type. */
  async insert(
    saga: {
      type: string;
      bookingId: string;
      step: string;
      payload: Record<string, unknown>;
      lockedUntil: Date | null;
    },
    executor: Kysely<DB> = this.db,
  ): Promise<SagaRow | undefined> {
    const { rows } = await sql<SagaRow>`
      INSERT INTO sagas (type, booking_id, step, payload, locked_until)
      VALUES (${saga.type}, ${saga.bookingId}, ${saga.step}, ${JSON.stringify(saga.payload)}::jsonb, ${saga.lockedUntil})
      ON CONFLICT (booking_id, type) WHERE status IN ('running', 'compensating') DO NOTHING
      RETURNING *`.execute(executor);
    return rows[0];
  }

  /**
   * Writes a step of a saga the caller drives, only while the caller still holds its lease
   * (the `locked_until` it was given or last wrote) and the saga is unfinished. A driver
   * whose step outlived its lease gets SagaLeaseLost and must stop: the saga is another
   * driver's now, and overwriting it could undo what that driver finished.
   */
  async update(
    held: Pick<SagaRow, 'id' | 'locked_until'>,
    change: SagaChange,
    executor: Kysely<DB> = this.db,
  ): Promise<SagaRow> {
    const row = await executor
      .updateTable('sagas')
      .set({
        ...(change.step !== undefined ? { step: change.step } : {}),
        ...(change.status !== undefined ? { status: change.status } : {}),
        ...(change.payload !== undefined ? { payload: JSON.stringify(change.payload) } : {}),
        ...(change.lastError !== undefined ? { last_error: change.lastError } : {}),
        ...(change.lockedUntil !== undefined ? { locked_until: change.lockedUntil } : {}),
        ...(change.finishedAt !== undefined ? { finished_at: change.finishedAt } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', held.id)
      .where('status', 'in', ['running', 'compensating'])
      .where('locked_until', 'is not distinct from', held.locked_until)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new SagaLeaseLost(held.id);
    return row;
  }

  findById(id: string): Promise<SagaRow | undefined> {
    return this.db.selectFrom('sagas').selectAll().where('id', '=', id).executeTakeFirst();
  }

  latestForBooking(bookingId: string): Promise<SagaRow | undefined> {
    return this.db
      .selectFrom('sagas')
      .selectAll()
      .where('booking_id', '=', bookingId)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  liveForBooking(bookingId: string, type: string): Promise<SagaRow | undefined> {
    return this.db
      .selectFrom('sagas')
      .selectAll()
      .where('booking_id', '=', bookingId)
      .where('type', '=', type)
      .where('status', 'in', ['running', 'compensating'])
      .executeTakeFirst();
  }

  /**
   * Claims unfinished sagas whose lease has run out (their driver died, or asked to be woken
   * later). SKIP LOCKED lets many instances claim at once without taking the same saga.
   */
  async claimDue(now: Date, leaseMs: number, limit: number): Promise<SagaRow[]> {
    return this.db.transaction().execute((trx) => this.claimDueIn(now, leaseMs, limit, trx));
  }

  /** `claimDue` inside the caller's transaction, so a dispatch message commits with the claim. */
  async claimDueIn(now: Date, leaseMs: number, limit: number, trx: Kysely<DB>): Promise<SagaRow[]> {
    const due = await trx
      .selectFrom('sagas')
      .select('id')
      // Literals, not parameters: a prepared statement's generic plan must still match the
      // partial index sagas_unfinished_idx (status IN ('running', 'compensating')).
      .where('status', 'in', [sql.lit('running' as const), sql.lit('compensating' as const)])
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .orderBy('locked_until')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    return trx
      .updateTable('sagas')
      .set({ locked_until: new Date(now.getTime() + leaseMs), attempts: TAKEOVER_COUNT })
      .where(
        'id',
        'in',
        due.map((d) => d.id),
      )
      .returningAll()
      .execute();
  }

  /**
   * Claims one saga for a worker, unless someone holds a live lease on it. `dispatchedUntil`
   * is the lease the dispatcher took when it queued the saga: presenting it hands that lease
   * over (the dispatcher already counted the takeover), and only the first of several copies
   * of one message can present it.
   */
  async claimById(
    id: string,
    now: Date,
    leaseMs: number,
    dispatchedUntil?: Date,
  ): Promise<SagaRow | undefined> {
    const attempts = dispatchedUntil
      ? sql<number>`CASE WHEN locked_until = ${dispatchedUntil} THEN attempts ELSE ${TAKEOVER_COUNT} END`
      : TAKEOVER_COUNT;
    return this.db
      .updateTable('sagas')
      .set({ locked_until: new Date(now.getTime() + leaseMs), attempts })
      .where('id', '=', id)
      .where('status', 'in', ['running', 'compensating'])
      .where((eb) => {
        const free = [eb('locked_until', 'is', null), eb('locked_until', '<=', now)];
        if (dispatchedUntil) free.push(eb('locked_until', '=', dispatchedUntil));
        return eb.or(free);
      })
      .returningAll()
      .executeTakeFirst();
  }

  async list(options: {
    limit: number;
    status?: SagaStatus;
    after?: { createdAt: Date; id: string };
  }): Promise<{ rows: SagaRow[]; hasMore: boolean }> {
    let query = this.db.selectFrom('sagas').selectAll();
    if (options.status) query = query.where('status', '=', options.status);
    return newestFirstPage(query, options.limit, options.after);
  }
}
