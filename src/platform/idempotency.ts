import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from './database/schema.js';
import type { Clock } from './clock.js';
import { AppError, type ErrorCode } from './errors.js';

export interface IdempotencyScope {
  userId: string;
  scope: string;
  key: string;
  requestHash: string;
}

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

const KEEP_MS = 24 * 3_600_000;
const POLL_MS = 25;

export function hashRequest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * `Idempotency-Key` support, stored in PostgreSQL. The first request claims the key; its
 * result is stored (in the same transaction as its effect where the caller can) and every
 * repeat with the same body gets that result, concurrent repeats included. A claim whose owner
 * died is taken over after `claimMs`.
 */
export class IdempotencyStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly options: { claimMs: number; waitMs: number },
  ) {}

  /** Either the stored response to replay, or null: the caller owns the key and must finish. */
  async claim(id: IdempotencyScope): Promise<StoredResponse | null> {
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      const now = this.clock.now();
      const claimed = await sql<{ key: string }>`
        INSERT INTO idempotency_keys (user_id, scope, key, request_hash, expires_at, locked_until)
        VALUES (${id.userId}, ${id.scope}, ${id.key}, ${id.requestHash},
                ${new Date(now.getTime() + KEEP_MS)}, ${new Date(now.getTime() + this.options.claimMs)})
        ON CONFLICT (user_id, scope, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, expires_at = EXCLUDED.expires_at,
              locked_until = EXCLUDED.locked_until, status_code = NULL, response = NULL,
              created_at = ${now}
          WHERE idempotency_keys.expires_at <= ${now}
             OR (idempotency_keys.status_code IS NULL
                 AND idempotency_keys.locked_until <= ${now}
                 AND idempotency_keys.request_hash = EXCLUDED.request_hash)
        RETURNING key`.execute(this.db);
      if (claimed.rows.length > 0) return null;

      const row = await this.db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'status_code', 'response'])
        .where('user_id', '=', id.userId)
        .where('scope', '=', id.scope)
        .where('key', '=', id.key)
        .executeTakeFirst();
      if (!row) continue;
      if (row.request_hash !== id.requestHash) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request body',
        );
      }
      if (row.status_code !== null) return { statusCode: row.status_code, body: row.response };
      if (Date.now() > deadline) {
        throw new AppError(
          'SERVICE_UNAVAILABLE',
          'The first request with this key is still running',
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Stores the outcome; pass the transaction that made the effect when there is one. */
  async complete(
    id: IdempotencyScope,
    response: StoredResponse,
    trx: Kysely<DB> = this.db,
  ): Promise<void> {
    await trx
      .updateTable('idempotency_keys')
      .set({
        status_code: response.statusCode,
        response: JSON.stringify(response.body),
        locked_until: null,
      })
      .where('user_id', '=', id.userId)
      .where('scope', '=', id.scope)
      .where('key', '=', id.key)
      .execute();
  }

  /** Gives the key up after an unexpected failure, so a retry runs the request again. */
  async abandon(id: IdempotencyScope): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('user_id', '=', id.userId)
      .where('scope', '=', id.scope)
      .where('key', '=', id.key)
      .where('status_code', 'is', null)
      .execute();
  }
}

/**
 * How the work of a request with an `Idempotency-Key` stores its answer together with its
 * effect: through the transaction that makes it, or in the very statement that makes it.
 */
export interface IdempotentCompletion {
  readonly key: IdempotencyScope;
  /** Stores the response inside the transaction that made the effect. */
  inTransaction(trx: Kysely<DB>, response: StoredResponse): Promise<void>;
  /** The statement that made the effect stored the response itself (the hold statement). */
  storedWithEffect(): void;
}

interface StoredProblem {
  problem: { code: ErrorCode; detail: string; extra: Record<string, unknown> };
}

/**
 * Runs `work` at most once per key: repeats get the first outcome back, errors included
 * (a stored 4xx is thrown again as the same AppError). Unexpected failures free the key.
 */
export async function withIdempotency(
  store: IdempotencyStore,
  id: IdempotencyScope | undefined,
  work: (completion?: IdempotentCompletion) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  if (!id) return work();
  const replay = await store.claim(id);
  if (replay) {
    const stored = replay.body as Partial<StoredProblem> | null;
    if (replay.statusCode >= 400 && stored?.problem) {
      throw new AppError(stored.problem.code, stored.problem.detail, stored.problem.extra);
    }
    return replay;
  }
  let completed = false;
  try {
    const result = await work({
      key: id,
      inTransaction: async (trx, response) => {
        await store.complete(id, response, trx);
        completed = true;
      },
      storedWithEffect: () => {
        completed = true;
      },
    });
    if (!completed) await store.complete(id, result);
    return result;
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const { headers: _headers, ...extra } = error.extra;
      const body: StoredProblem = { problem: { code: error.code, detail: error.message, extra } };
      await store.complete(id, { statusCode: error.status, body });
    } else {
      await store.abandon(id).catch(() => undefined);
    }
    throw error;
  }
}
