import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** A saga row whose payload is not what its type's schema says (written by a bug or by hand). */
export class SagaPayloadInvalid extends Error {
  override name = 'SagaPayloadInvalid';
}

/**
 * One saga type's payload: the TypeBox schema gives its type and checks every payload read
 * back from the `sagas` table, so a step never runs on a guess. A payload that does not match
 * fails the step loudly (the saga stays where it is, its error names the field) instead of
 * sending `undefined` to the payment provider.
 */
export interface SagaPayload<T> {
  read(saga: { id: string; type: string; payload: unknown }): T;
  /** The payload as the saga row stores it. */
  write(payload: T): Record<string, unknown>;
}

export function sagaPayload<S extends TSchema>(schema: S): SagaPayload<Static<S>> {
  const checker = TypeCompiler.Compile(schema);
  return {
    read(saga) {
      if (checker.Check(saga.payload)) return saga.payload;
      const first = checker.Errors(saga.payload).First();
      throw new SagaPayloadInvalid(
        `saga ${saga.id} (${saga.type}): payload ${first?.path || '/'} ${first?.message ?? 'is invalid'}`,
      );
    },
    write: (payload) => payload as Record<string, unknown>,
  };
}
