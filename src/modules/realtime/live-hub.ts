import type { WebSocket } from 'ws';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PubSub } from '../../platform/ports/cache-store.js';

export const LIVE_CHANNEL = 'live';

export interface LiveUpdate {
  eventId: string;
  changes: Array<{ seatId: string; status: 'available' | 'held' | 'sold' }>;
  availability: { available: number; held: number; sold: number } | null;
  /** After a check-in: how many of the event's live tickets are checked in. */
  checkins?: { checkedIn: number; total: number };
}

interface Client {
  socket: WebSocket;
  alive: boolean;
  /** Updates that arrived before the client's snapshot went out, sent right after it. */
  pending: string[] | null;
}

export interface LiveHubSettings {
  heartbeatMs: number;
  /** A client with more than this many bytes unsent is dropped rather than buffered. */
  maxBufferedBytes: number;
}

/**
 * This instance's WebSocket clients, by event. Updates arrive through pub/sub (Redis across
 * instances, in process when embedded), so a change handled anywhere reaches every client.
 */
export class LiveHub {
  private readonly clients = new Map<string, Set<Client>>();
  private readonly bySocket = new WeakMap<WebSocket, Client>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly dropped: Counter;

  constructor(
    private readonly pubsub: PubSub,
    private readonly settings: LiveHubSettings,
    registry: Registry,
  ) {
    const clients = this.clients;
    new Gauge({
      name: 'websocket_connections',
      help: 'Open WebSocket connections on this instance',
      registers: [registry],
      collect() {
        let n = 0;
        for (const set of clients.values()) n += set.size;
        this.set(n);
      },
    });
    this.dropped = new Counter({
      name: 'websocket_dropped_total',
      help: 'WebSocket clients dropped for not reading fast enough or not answering pings',
      registers: [registry],
    });
  }

  async start(): Promise<void> {
    await this.pubsub.subscribe(LIVE_CHANNEL, (message) =>
      this.dispatch(JSON.parse(message) as LiveUpdate),
    );
    this.heartbeat = setInterval(() => this.ping(), this.settings.heartbeatMs);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    for (const set of this.clients.values())
      for (const client of set) client.socket.close(1001, 'server shutting down');
    this.clients.clear();
  }

  /** Announces an update to every instance's clients. */
  publish(update: LiveUpdate): Promise<void> {
    return this.pubsub.publish(LIVE_CHANNEL, JSON.stringify(update));
  }

  /**
   * Registers a client before its snapshot is read, so no update can fall between the two;
   * updates arriving meanwhile wait until `sendSnapshot` has gone out.
   */
  add(eventId: string, socket: WebSocket): void {
    const client: Client = { socket, alive: true, pending: [] };
    let set = this.clients.get(eventId);
    if (!set) {
      set = new Set();
      this.clients.set(eventId, set);
    }
    set.add(client);
    this.bySocket.set(socket, client);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('close', () => {
      set.delete(client);
      this.bySocket.delete(socket);
      if (set.size === 0 && this.clients.get(eventId) === set) this.clients.delete(eventId);
    });
  }

  /** Sends the snapshot, then whatever changed while it was being read. */
  sendSnapshot(socket: WebSocket, snapshot: unknown): void {
    const client = this.bySocket.get(socket);
    if (!this.send(socket, snapshot) || !client) return;
    const held = client.pending ?? [];
    client.pending = null;
    for (const message of held) client.socket.send(message);
  }

  send(socket: WebSocket, payload: unknown): boolean {
    if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
      this.dropped.inc();
      socket.terminate();
      return false;
    }
    socket.send(JSON.stringify(payload));
    return true;
  }

  private dispatch(update: LiveUpdate): void {
    const set = this.clients.get(update.eventId);
    if (!set) return;
    const seats =
      update.changes.length > 0 ? JSON.stringify({ type: 'seats', changes: update.changes }) : null;
    const availability = update.availability
      ? JSON.stringify({ type: 'availability', ...update.availability })
      : null;
    const checkins = update.checkins
      ? JSON.stringify({ type: 'checkins', ...update.checkins })
      : null;
    for (const client of set) {
      if (client.socket.bufferedAmount > this.settings.maxBufferedBytes) {
        this.dropped.inc();
        client.socket.terminate();
        continue;
      }
      const messages = [seats, availability, checkins].filter((m): m is string => m !== null);
      if (client.pending) {
        client.pending.push(...messages);
        continue;
      }
      for (const message of messages) client.socket.send(message);
    }
  }

  private ping(): void {
    for (const set of this.clients.values()) {
      for (const client of set) {
        if (!client.alive) {
          this.dropped.inc();
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        client.socket.ping();
      }
    }
  }
}
