import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { Clock } from '../../platform/clock.js';
import { GroupCommitter } from '../../platform/group-commit.js';
import { SaleBatchStatement, type SaleAnswer, type SaleRequest } from './sale-batch.statement.js';

/**
 * Turns paid holds into sales. Confirmations of one event that arrive together share one
 * statement (group commit), so a flash sale's confirmations cost one commit per batch.
 */
export class HoldSales {
  private readonly statement: SaleBatchStatement;
  private readonly batches: GroupCommitter<SaleRequest, SaleAnswer>;

  constructor(
    db: Kysely<DB>,
    private readonly clock: Clock,
    options: { maxBatch: number },
  ) {
    this.statement = new SaleBatchStatement(db);
    this.batches = new GroupCommitter(
      (eventId, requests) => this.statement.run(eventId, this.clock.now(), requests),
      options,
    );
  }

  /** Sells the hold of a paid booking of `eventId`, or says why it cannot. */
  sell(eventId: string, request: SaleRequest): Promise<SaleAnswer> {
    return this.batches.submit(eventId, request);
  }
}
