import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from 'amqplib';
import type { Logger } from 'pino';
import type {
  BusMessage,
  ConsumerSpec,
  DeadLetterSink,
  MessageBus,
  RetryPolicy,
} from '../../platform/ports/message-bus.js';
import { UnknownConsumerError } from '../../platform/ports/message-bus.js';

export interface RabbitSettings {
  url: string;
  /** Prefixes the exchange and every queue, so deployments (and tests) can share a broker. */
  namespace: string;
  /** Quorum queues survive the loss of a broker node in a cluster. */
  quorumQueues: boolean;
  /** Unused queues disappear after this long (tests); undefined keeps them. */
  queueExpiresMs?: number;
  prefetch: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The outbox writer's trace context travels as `x-trace-traceparent` (and `x-trace-tracestate`)
 * headers: the amqplib instrumentation writes its own publish span into `traceparent` itself.
 * Headers survive the retry queues' dead-lettering, and `forward` copies them.
 */
const TRACE_HEADER = 'x-trace-';

function traceHeaders(message: BusMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.traceContext ?? {})) {
    headers[`${TRACE_HEADER}${key}`] = value;
  }
  return headers;
}

function traceHeadersOf(raw: ConsumeMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.properties.headers ?? {})) {
    if (key.startsWith(TRACE_HEADER) && value != null) headers[key] = String(value);
  }
  return headers;
}

function traceContextOf(raw: ConsumeMessage): Record<string, string> | undefined {
  const entries = Object.entries(traceHeadersOf(raw));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([key, value]) => [key.slice(TRACE_HEADER.length), value]));
}

/**
 * RabbitMQ with publisher confirms, one durable queue per consumer, retries through a TTL
 * queue that dead-letters back into the main queue, and a dead-letter queue after the last
 * attempt. The connection is re-established (with topology and consumers) whenever it drops;
 * a publish while it is down fails, and the outbox simply tries again.
 */
export class RabbitMessageBus implements MessageBus {
  private connection: ChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;
  private connecting: Promise<void> | undefined;
  private readonly consumers: ConsumerSpec[] = [];
  private closed = false;

  constructor(
    private readonly settings: RabbitSettings,
    private readonly retry: RetryPolicy,
    private readonly deadLetter: DeadLetterSink,
    private readonly logger: Logger,
  ) {}

  get exchange(): string {
    return `${this.settings.namespace}evently`;
  }

  queueOf(consumer: string, suffix = ''): string {
    return `${this.settings.namespace}evently.${consumer}${suffix}`;
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const channel = await this.publishChannel();
    for (const message of messages) {
      channel.publish(this.exchange, message.type, Buffer.from(JSON.stringify(message.payload)), {
        persistent: true,
        messageId: message.messageId,
        type: message.type,
        contentType: 'application/json',
        headers: traceHeaders(message),
      });
    }
    await channel.waitForConfirms();
  }

  async consume(spec: ConsumerSpec): Promise<void> {
    this.consumers.push(spec);
    if (this.connection) await this.startConsumer(this.connection, spec);
    else await this.ensureConnected();
  }

  async requeue(consumer: string, message: BusMessage): Promise<void> {
    // Sent to a queue that does not exist, the broker would confirm and drop the message.
    await this.queueDepth(consumer).catch((error: unknown) => {
      throw isNotFound(error) ? new UnknownConsumerError(consumer) : error;
    });
    const channel = await this.publishChannel();
    channel.sendToQueue(this.queueOf(consumer), Buffer.from(JSON.stringify(message.payload)), {
      persistent: true,
      messageId: message.messageId,
      type: message.type,
      contentType: 'application/json',
      headers: traceHeaders(message),
    });
    await channel.waitForConfirms();
  }

  async assertReachable(): Promise<void> {
    if (this.closed) throw new Error('RabbitMQ bus is closed');
    // The connection is dropped (and reconnected in the background) when the broker goes away;
    // between connections this tries one now, so a health check sees the broker as it is.
    await this.ensureConnected();
  }

  /** Messages ready in the consumer's queue (own channel: a missing queue would close it). */
  async queueDepth(consumer: string): Promise<number> {
    if (this.closed) throw new Error('RabbitMQ bus is closed');
    await this.ensureConnected();
    if (!this.connection) throw new Error('RabbitMQ is not connected');
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(this.queueOf(consumer))).messageCount;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Short-lived topologies (tests) leave no exchange behind; their queues expire by themselves.
    if (this.settings.queueExpiresMs && this.publisher) {
      await this.publisher.deleteExchange(this.exchange).catch(() => undefined);
    }
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
  }

  private retryQueueOf(consumer: string, attempt: number): string {
    return this.queueOf(consumer, `.retry.${attempt}`);
  }

  private async publishChannel(): Promise<ConfirmChannel> {
    await this.ensureConnected();
    if (!this.publisher) throw new Error('RabbitMQ is not connected');
    return this.publisher;
  }

  private ensureConnected(): Promise<void> {
    if (this.connection && this.publisher) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const connection = await amqp.connect(this.settings.url);
    if (this.closed) {
      // close() ran while this connection was being made (a health check or scrape asked).
      await connection.close().catch(() => undefined);
      throw new Error('RabbitMQ bus is closed');
    }
    connection.on('error', (error: unknown) =>
      this.logger.warn({ err: error }, 'RabbitMQ connection error'),
    );
    connection.on('close', () => {
      this.connection = undefined;
      this.publisher = undefined;
      if (!this.closed) void this.reconnect();
    });
    const publisher = await connection.createConfirmChannel();
    publisher.on('error', () => undefined);
    await publisher.assertExchange(this.exchange, 'topic', { durable: true });
    this.connection = connection;
    this.publisher = publisher;
    for (const spec of this.consumers) await this.startConsumer(connection, spec);
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      await sleep(Math.min(100 * 2 ** attempt, 5000));
      try {
        await this.ensureConnected();
        this.logger.info('RabbitMQ reconnected');
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'RabbitMQ reconnect failed');
      }
    }
  }

  private queueArguments(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...(this.settings.quorumQueues ? { 'x-queue-type': 'quorum' } : {}),
      ...(this.settings.queueExpiresMs ? { 'x-expires': this.settings.queueExpiresMs } : {}),
      ...extra,
    };
  }

  private async startConsumer(connection: ChannelModel, spec: ConsumerSpec): Promise<void> {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    const queue = this.queueOf(spec.name);
    const deadQueue = this.queueOf(spec.name, '.dlq');
    await channel.assertExchange(this.exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, arguments: this.queueArguments() });
    // One retry queue per attempt, each with its own TTL: a message waits out its delay there,
    // then dead-letters back into the main queue. (A single queue with per-message TTLs would
    // hold a short delay behind a longer one, since only the head of a queue expires.)
    for (let attempt = 1; attempt < this.retry.maxAttempts; attempt++) {
      await channel.assertQueue(this.retryQueueOf(spec.name, attempt), {
        durable: true,
        arguments: this.queueArguments({
          'x-message-ttl': this.retry.delayMs(attempt),
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
        }),
      });
    }
    await channel.assertQueue(deadQueue, { durable: true, arguments: this.queueArguments() });
    for (const key of spec.bindings) await channel.bindQueue(queue, this.exchange, key);
    await channel.prefetch(this.settings.prefetch);
    await channel.consume(queue, (raw) => {
      if (raw) void this.handle(channel, spec, raw, deadQueue);
    });
  }

  private async handle(
    channel: ConfirmChannel,
    spec: ConsumerSpec,
    raw: ConsumeMessage,
    deadQueue: string,
  ): Promise<void> {
    const attempt = Number(raw.properties.headers?.['x-attempt'] ?? 1);
    const traceContext = traceContextOf(raw);
    const message: BusMessage = {
      messageId: String(raw.properties.messageId),
      type: String(raw.properties.type ?? raw.fields.routingKey),
      payload: JSON.parse(raw.content.toString('utf8')) as Record<string, unknown>,
      ...(traceContext ? { traceContext } : {}),
    };
    try {
      await spec.handle(message);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      try {
        if (attempt >= this.retry.maxAttempts) {
          await this.deadLetter(spec.name, message, text, attempt);
          this.forward(channel, deadQueue, raw, {
            'x-attempt': attempt,
            'x-error': text.slice(0, 500),
          });
        } else {
          this.forward(channel, this.retryQueueOf(spec.name, attempt), raw, {
            'x-attempt': attempt + 1,
          });
        }
        await channel.waitForConfirms();
      } catch (forwardError) {
        // Could not park it: let the broker deliver it again.
        this.logger.warn({ err: forwardError }, 'could not forward a failed message');
        safely(() => channel.nack(raw, false, true));
        return;
      }
    }
    safely(() => channel.ack(raw));
  }

  private forward(
    channel: Channel,
    queue: string,
    raw: ConsumeMessage,
    headers: Record<string, unknown>,
  ): void {
    channel.sendToQueue(queue, raw.content, {
      persistent: true,
      messageId: raw.properties.messageId,
      type: raw.properties.type,
      contentType: 'application/json',
      // The trace context goes along to the retry and dead-letter queues.
      headers: { ...traceHeadersOf(raw), ...headers },
    });
  }
}

// Acks on a channel that closed meanwhile throw; the broker redelivers, consumers are idempotent.
function safely(action: () => void): void {
  try {
    action();
  } catch {
    // redelivered later
  }
}

/** The broker's answer to checkQueue on a queue that does not exist (channel error 404). */
function isNotFound(error: unknown): boolean {
  return (error as { code?: number } | undefined)?.code === 404;
}
