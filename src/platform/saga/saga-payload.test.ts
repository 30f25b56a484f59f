import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { SagaPayloadInvalid, sagaPayload } from './saga-payload.js';

const payload = sagaPayload(
  Type.Object({
    holdId: Type.String(),
    amountCents: Type.Integer({ minimum: 0 }),
    chargeId: Type.Optional(Type.String()),
  }),
);
const row = (value: unknown) => ({ id: 'saga-1', type: 'booking', payload: value });

describe('sagaPayload', () => {
  it('reads back a payload that matches its schema, extra fields and all', () => {
    const stored = payload.write({ holdId: 'h1', amountCents: 5_000 });
    expect(payload.read(row({ ...stored, note: 'kept' }))).toEqual({
      holdId: 'h1',
      amountCents: 5_000,
      note: 'kept',
    });
  });

  it.each([
    ['a missing field', { holdId: 'h1' }, /\/amountCents/],
    ['a field of the wrong type', { holdId: 'h1', amountCents: '5000' }, /\/amountCents/],
    ['a fractional amount', { holdId: 'h1', amountCents: 50.5 }, /\/amountCents/],
    [
      'an optional field of the wrong type',
      { holdId: 'h1', amountCents: 1, chargeId: 7 },
      /\/chargeId/,
    ],
    ['no object at all', null, /saga saga-1 \(booking\): payload/],
  ])('refuses %s, naming the saga and the field', (_case, value, message) => {
    expect(() => payload.read(row(value))).toThrow(SagaPayloadInvalid);
    expect(() => payload.read(row(value))).toThrow(message);
  });
});
