import type { Logger } from 'pino';
import type { DeadLetterRepository } from './modules/admin/index.js';
import { MemoryMessageBus } from './infra/memory/memory-message-bus.js';
import { RabbitMessageBus } from './infra/rabbitmq/rabbitmq-message-bus.js';
import {
  defaultRetryPolicy,
  type DeadLetterSink,
  type MessageBus,
} from './platform/ports/message-bus.js';

export interface BusSettings {
  amqpUrl?: string;
  namespace: string;
  quorumQueues: boolean;
  queueExpiresMs?: number;
  maxAttempts: number;
  retryBaseMs: number;
}

/**
 * The composition root's choice of message bus: RabbitMQ when AMQP_URL is set, the in-process
 * bus otherwise; dead letters land in PostgreSQL.
 */
export function createMessageBus(
  settings: BusSettings,
  deadLetters: Pick<DeadLetterRepository, 'record'>,
  logger: Logger,
): MessageBus {
  const deadLetter: DeadLetterSink = async (consumer, message, error, attempts) => {
    logger.error(
      { consumer, messageId: message.messageId, type: message.type, error },
      'message dead-lettered',
    );
    await deadLetters.record(consumer, message, error, attempts);
  };
  const retry = defaultRetryPolicy(settings.retryBaseMs, settings.maxAttempts);
  if (!settings.amqpUrl) return new MemoryMessageBus(retry, deadLetter);
  return new RabbitMessageBus(
    {
      url: settings.amqpUrl,
      namespace: settings.namespace,
      quorumQueues: settings.quorumQueues,
      queueExpiresMs: settings.queueExpiresMs,
      prefetch: 32,
    },
    retry,
    deadLetter,
    logger,
  );
}
