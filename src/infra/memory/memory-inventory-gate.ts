import type { Admission, InventoryGate } from '../../platform/ports/inventory-gate.js';

/** The embedded mode's twin of the Redis gate, with the same answers. */
export class MemoryInventoryGate implements InventoryGate {
  private readonly available = new Map<string, { value: number; until: number }>();
  private readonly locks = new Map<string, number>();

  constructor(private readonly options: { lockMs: number; rememberSeconds: number }) {}

  async admit(eventId: string, userId: string, quantity: number): Promise<Admission> {
    const now = Date.now();
    const known = this.available.get(eventId);
    if (known && known.until > now && known.value < quantity) return 'sold_out';
    const key = `${eventId}:${userId}`;
    const lockedUntil = this.locks.get(key);
    if (lockedUntil !== undefined && lockedUntil > now) return 'busy';
    this.locks.set(key, now + this.options.lockMs);
    return 'admit';
  }

  async done(eventId: string, userId: string): Promise<void> {
    this.locks.delete(`${eventId}:${userId}`);
  }

  async remember(eventId: string, available: number): Promise<void> {
    this.available.set(eventId, {
      value: available,
      until: Date.now() + this.options.rememberSeconds * 1000,
    });
  }
}
