import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryMessageBus } from '../src/infra/memory/memory-message-bus.js';
import { RabbitMessageBus } from '../src/infra/rabbitmq/rabbitmq-message-bus.js';
import {
  defaultRetryPolicy,
  type BusMessage,
  type DeadLetterSink,
  type MessageBus,
  UnknownConsumerError,
} from '../src/platform/ports/message-bus.js';
import { eventually, sleep } from './support/kit.js';

// The MessageBus port's contract, the same cases for the in-process bus (always) and for
// RabbitMQ (when the run has a broker, on queues of its own that expire after the run).
// Retries are fast here: 40 ms, doubling, 4 attempts.
interface Made {
  bus: MessageBus;
  deadLetters: Array<{ consumer: string; messageId: string; attempts: number }>;
}

const RETRY = defaultRetryPolicy(40, 4);
const adapters: Array<[string, () => Made]> = [
  [
    'memory',
    () => {
      const deadLetters: Made['deadLetters'] = [];
      const sink: DeadLetterSink = async (consumer, message, _error, attempts) =>
        void deadLetters.push({ consumer, messageId: message.messageId, attempts });
      return { bus: new MemoryMessageBus(RETRY, sink), deadLetters };
    },
  ],
];
const amqpUrl = process.env.AMQP_URL;
if (amqpUrl) {
  adapters.push([
    'rabbitmq',
    () => {
      const deadLetters: Made['deadLetters'] = [];
      const sink: DeadLetterSink = async (consumer, message, _error, attempts) =>
        void deadLetters.push({ consumer, messageId: message.messageId, attempts });
      const bus = new RabbitMessageBus(
        {
          url: amqpUrl,
          namespace: `test-contract-${randomUUID().slice(0, 8)}.`,
          quorumQueues: false,
          queueExpiresMs: 120_000,
          prefetch: 8,
        },
        RETRY,
        sink,
        pino({ level: 'silent' }),
      );
      return { bus, deadLetters };
    },
  ]);
}

const message = (type: string): BusMessage => ({
  messageId: randomUUID(),
  type,
  payload: { n: 1 },
});

describe.each(adapters)('MessageBus contract (%s)', (_name, make) => {
  const opened: MessageBus[] = [];
  const bus = () => {
    const made = make();
    opened.push(made.bus);
    return made;
  };
  afterEach(async () => {
    for (const b of opened.splice(0)) await b.close();
  });

  it('delivers a message to every consumer bound to its type, and to no other', async () => {
    const { bus: b } = bus();
    const got: Record<string, string[]> = { a: [], b: [], other: [] };
    const type = `contract.${randomUUID()}`;
    for (const name of ['a', 'b'] as const) {
      await b.consume({
        name: `${name}-${randomUUID().slice(0, 8)}`,
        bindings: [type],
        handle: async (m) => void got[name]!.push(m.messageId),
      });
    }
    await b.consume({
      name: `other-${randomUUID().slice(0, 8)}`,
      bindings: [`contract.${randomUUID()}`],
      handle: async (m) => void got.other!.push(m.messageId),
    });
    const sent = message(type);
    await b.publish([sent]);
    await eventually(() => got.a!.length === 1 && got.b!.length === 1, 'both consumers');
    await sleep(100);
    expect(got).toEqual({ a: [sent.messageId], b: [sent.messageId], other: [] });
  });

  it('retries a failing handler until it succeeds', async () => {
    const { bus: b, deadLetters } = bus();
    const type = `contract.${randomUUID()}`;
    let attempts = 0;
    await b.consume({
      name: `flaky-${randomUUID().slice(0, 8)}`,
      bindings: [type],
      handle: async () => {
        attempts += 1;
        if (attempts < 3) throw new Error(`failure ${attempts}`);
      },
    });
    await b.publish([message(type)]);
    await eventually(() => attempts === 3, 'the third attempt', 10_000);
    await sleep(300);
    expect(attempts).toBe(3);
    expect(deadLetters).toEqual([]);
  });

  it('dead-letters a message after its last attempt, once; requeue gives it one more', async () => {
    const { bus: b, deadLetters } = bus();
    const type = `contract.${randomUUID()}`;
    const consumer = `broken-${randomUUID().slice(0, 8)}`;
    let attempts = 0;
    let healed = false;
    await b.consume({
      name: consumer,
      bindings: [type],
      handle: async () => {
        attempts += 1;
        if (!healed) throw new Error('always');
      },
    });
    const sent = message(type);
    await b.publish([sent]);
    await eventually(() => deadLetters.length === 1, 'the dead letter', 10_000);
    await sleep(300);
    expect(deadLetters).toEqual([{ consumer, messageId: sent.messageId, attempts: 4 }]);
    expect(attempts).toBe(4);

    healed = true;
    await b.requeue(consumer, sent);
    await eventually(() => attempts === 5, 'the requeued delivery', 10_000);
    await sleep(200);
    expect(attempts).toBe(5);
    expect(deadLetters).toHaveLength(1);
  });

  it('refuses to requeue for a consumer that has no queue, instead of dropping the message', async () => {
    const { bus: b } = bus();
    const nobody = `retired-${randomUUID().slice(0, 8)}`;
    await expect(b.requeue(nobody, message(`contract.${randomUUID()}`))).rejects.toBeInstanceOf(
      UnknownConsumerError,
    );
    // The bus still works after the refusal (the check's channel error stayed on its channel).
    const type = `contract.${randomUUID()}`;
    const got: string[] = [];
    await b.consume({
      name: `after-${randomUUID().slice(0, 8)}`,
      bindings: [type],
      handle: async (m) => void got.push(m.messageId),
    });
    const sent = message(type);
    await b.publish([sent]);
    await eventually(() => got.length === 1, 'a delivery after the refusal', 10_000);
    expect(got).toEqual([sent.messageId]);
  });
});
