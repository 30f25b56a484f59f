import type { RedisClient } from './redis-client.js';
import type { Admission, InventoryGate } from '../../platform/ports/inventory-gate.js';

// Both keys carry the event's hash tag, so the script runs unchanged on Redis Cluster.
const availableKey = (eventId: string) => `inventory:{event:${eventId}}:available`;
const userLockKey = (eventId: string, userId: string) =>
  `inventory:{event:${eventId}}:user:${userId}`;

// KEYS[1] available counter, KEYS[2] the user's lock; ARGV[1] quantity, ARGV[2] lock ms.
const ADMIT = `
local available = redis.call('GET', KEYS[1])
if available and tonumber(available) < tonumber(ARGV[1]) then return 'sold_out' end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 'busy' end
return 'admit'`;

export class RedisInventoryGate implements InventoryGate {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: { lockMs: number; rememberSeconds: number },
  ) {}

  async admit(eventId: string, userId: string, quantity: number): Promise<Admission> {
    const answer = await this.redis.eval(
      ADMIT,
      2,
      availableKey(eventId),
      userLockKey(eventId, userId),
      String(quantity),
      String(this.options.lockMs),
    );
    return answer as Admission;
  }

  async done(eventId: string, userId: string): Promise<void> {
    await this.redis.del(userLockKey(eventId, userId));
  }

  async remember(eventId: string, available: number): Promise<void> {
    // Short-lived: a stale number heals itself from the database within seconds.
    await this.redis.set(
      availableKey(eventId),
      String(available),
      'EX',
      this.options.rememberSeconds,
    );
  }
}
