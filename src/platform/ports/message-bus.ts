/** A message as it travels: the outbox row's id makes redeliveries recognisable. */
export interface BusMessage {
  messageId: string;
  type: string;
  payload: Record<string, unknown>;
  /**
   * The W3C trace context (traceparent, tracestate) of the transaction that wrote the message,
   * so its consumers' spans join that trace; absent when tracing is off.
   */
  traceContext?: Record<string, string>;
}

export interface ConsumerSpec {
  /** Also the queue's name; one queue per consumer, shared by every instance. */
  name: string;
  /** Message types (routing keys) the consumer receives. */
  bindings: string[];
  /** Throws to ask for a retry; after `maxAttempts` the message is dead-lettered. */
  handle(message: BusMessage): Promise<void>;
}

/** Where messages end that failed every attempt. */
export type DeadLetterSink = (
  consumer: string,
  message: BusMessage,
  error: string,
  attempts: number,
) => Promise<void>;

/**
 * Durable publish/subscribe with at-least-once delivery, growing retry delays and dead
 * letters: RabbitMQ in production, in process when embedded. Consumers must be idempotent.
 */
export interface MessageBus {
  /** Resolves once the broker has confirmed every message. */
  publish(messages: BusMessage[]): Promise<void>;
  consume(spec: ConsumerSpec): Promise<void>;
  /**
   * Puts a message straight back on one consumer's queue (dead-letter retry). Throws
   * UnknownConsumerError when no such consumer has a queue, rather than dropping the message.
   */
  requeue(consumer: string, message: BusMessage): Promise<void>;
  /**
   * Throws when the broker cannot be reached now (connecting first if the bus is between
   * connections); the in-process bus is always reachable. For health checks.
   */
  assertReachable(): Promise<void>;
  /** Messages waiting for one consumer (RabbitMQ: ready in its queue); for metrics. */
  queueDepth(consumer: string): Promise<number>;
  close(): Promise<void>;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** Delay before attempt n+1, after attempt n (1-based) failed. */
  delayMs(attempt: number): number;
}

export const defaultRetryPolicy = (baseMs: number, maxAttempts: number): RetryPolicy => ({
  maxAttempts,
  delayMs: (attempt) => Math.min(baseMs * 2 ** (attempt - 1), 60_000),
});

/** A requeue named a consumer that has no queue (here: no process ever consumed under it). */
export class UnknownConsumerError extends Error {
  override name = 'UnknownConsumerError';
  constructor(readonly consumer: string) {
    super(`no consumer ${consumer}`);
  }
}
