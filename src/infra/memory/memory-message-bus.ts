import type {
  BusMessage,
  ConsumerSpec,
  DeadLetterSink,
  MessageBus,
  RetryPolicy,
} from '../../platform/ports/message-bus.js';
import { UnknownConsumerError } from '../../platform/ports/message-bus.js';

/**
 * The embedded mode's bus: same contract as RabbitMQ (at-least-once, growing retry delays,
 * dead letters), delivered within this process. Messages not yet handled when the process
 * stops are not lost: the outbox only marks a row sent once the bus accepted it, and a
 * consumer's work is recorded in the database, so a restart's relay and recovery catch up.
 */
export class MemoryMessageBus implements MessageBus {
  private readonly consumers: ConsumerSpec[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Deliveries scheduled and not yet handed to each consumer (retry waits included). */
  private readonly pending = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly retry: RetryPolicy,
    private readonly deadLetter: DeadLetterSink,
  ) {}

  async publish(messages: BusMessage[]): Promise<void> {
    for (const message of messages) {
      for (const consumer of this.consumers) {
        if (consumer.bindings.includes(message.type)) this.deliver(consumer, message, 1, 0);
      }
    }
  }

  async consume(spec: ConsumerSpec): Promise<void> {
    this.consumers.push(spec);
  }

  async requeue(consumer: string, message: BusMessage): Promise<void> {
    const spec = this.consumers.find((c) => c.name === consumer);
    if (!spec) throw new UnknownConsumerError(consumer);
    this.deliver(spec, message, 1, 0);
  }

  async assertReachable(): Promise<void> {
    // Delivered within this process: there is nothing to reach.
  }

  async queueDepth(consumer: string): Promise<number> {
    return this.pending.get(consumer) ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private count(consumer: string, change: 1 | -1): void {
    this.pending.set(consumer, (this.pending.get(consumer) ?? 0) + change);
  }

  // Delivery is always asynchronous: a publisher's transaction is never inside a handler.
  private deliver(
    consumer: ConsumerSpec,
    message: BusMessage,
    attempt: number,
    delayMs: number,
  ): void {
    if (this.closed) return;
    this.count(consumer.name, 1);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      this.count(consumer.name, -1);
      consumer.handle(message).catch(async (error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        if (attempt >= this.retry.maxAttempts) {
          await this.deadLetter(consumer.name, message, text, attempt).catch(() => undefined);
          return;
        }
        this.deliver(consumer, message, attempt + 1, this.retry.delayMs(attempt));
      });
    }, delayMs);
    this.timers.add(timer);
  }
}
