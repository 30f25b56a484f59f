export type Admission = 'admit' | 'sold_out' | 'busy';

/**
 * The fast path in front of the hold transaction: it sheds requests for events it knows are
 * sold out and collapses one user's double-click into one attempt. It is only an accelerator:
 * it may be empty, stale or down, and PostgreSQL still refuses every oversell.
 */
export interface InventoryGate {
  /** Checks the remembered inventory and takes the user's short per-event lock. */
  admit(eventId: string, userId: string, quantity: number): Promise<Admission>;
  /** Drops the user's lock once the attempt has finished. */
  done(eventId: string, userId: string): Promise<void>;
  /** Remembers the inventory PostgreSQL reported after a change. */
  remember(eventId: string, available: number): Promise<void>;
}
