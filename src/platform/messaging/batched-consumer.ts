import { GroupCommitter } from '../group-commit.js';
import type { BusMessage, ConsumerSpec } from '../ports/message-bus.js';

export interface BatchConsumerSpec {
  name: string;
  bindings: string[];
  /**
   * Does the work of several messages in one statement (or one transaction), exactly once
   * per message; throws to fail all of them (each is then tried alone, so only the bad one
   * goes to its retry queue).
   */
  handleBatch(messages: BusMessage[]): Promise<void>;
}

/**
 * A consumer whose messages share their database work: the bus delivers up to its prefetch
 * at once, and the messages that arrive while one batch is in flight go together in the
 * next (group commit), so a flash sale's thousands of messages cost one statement per batch,
 * not one per message. Each message is still acknowledged, retried or dead-lettered on its
 * own by the bus.
 */
export function batchedConsumer(
  spec: BatchConsumerSpec,
  options: { maxBatch: number },
): ConsumerSpec {
  const batches = new GroupCommitter<BusMessage, void>(async (_name, messages) => {
    await spec.handleBatch(messages);
    return messages.map(() => undefined);
  }, options);
  return {
    name: spec.name,
    bindings: spec.bindings,
    handle: (message) => batches.submit(spec.name, message),
  };
}
