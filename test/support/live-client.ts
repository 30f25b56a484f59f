import WebSocket from 'ws';

/**
 * A WebSocket client for WS /api/v1/events/:id/live that records every message with its arrival
 * time, shared by the live-update tests.
 */

/** How long `waitFor` waits by default. */
const WAIT_MS = 5_000;

export type SeatStatus = 'available' | 'held' | 'sold';

export interface LiveMessage {
  type: string;
  [key: string]: unknown;
}

export interface Received {
  index: number;
  at: number;
  message: LiveMessage;
}

/** A WebSocket client that records every message with its arrival time. */
export class LiveClient {
  /** Every client opened and not yet closed, so a test file can close them all in a hook. */
  static readonly opened = new Set<LiveClient>();

  readonly received: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    // Listening from the start: the snapshot may arrive right after the handshake.
    socket.on('message', (data: WebSocket.RawData) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      this.received.push({
        index: this.received.length,
        at: Date.now(),
        message: JSON.parse(text) as LiveMessage,
      });
      for (const listener of this.listeners) listener();
    });
    this.closed = new Promise((done) =>
      socket.once('close', (code: number, reason: Buffer) =>
        done({ code, reason: reason.toString('utf8') }),
      ),
    );
    void this.closed.then(() => {
      for (const listener of this.listeners) listener();
    });
  }

  static open(url: string): Promise<LiveClient> {
    const socket = new WebSocket(url);
    const client = new LiveClient(socket);
    LiveClient.opened.add(client);
    return new Promise((done, fail) => {
      socket.once('open', () => done(client));
      socket.once('error', fail);
      socket.once('unexpected-response', (_request, response) =>
        fail(new Error(`WebSocket upgrade refused: HTTP ${response.statusCode}`)),
      );
    });
  }

  /** The first message after `after` (an index) that matches; fails after `timeoutMs`. */
  waitFor(
    what: string,
    matches: (message: LiveMessage) => boolean,
    options: { after?: number; timeoutMs?: number } = {},
  ): Promise<Received> {
    const after = options.after ?? -1;
    const timeoutMs = options.timeoutMs ?? WAIT_MS;
    return new Promise((done, fail) => {
      const check = () => {
        const found = this.received.find((r) => r.index > after && matches(r.message));
        if (!found) return false;
        finish();
        done(found);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        fail(
          new Error(
            `no ${what} within ${timeoutMs} ms; received:\n${JSON.stringify(
              this.received.map((r) => r.message),
              null,
              1,
            )}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      check();
    });
  }

  /**
   * Closes the socket: by default with a close handshake (code 1000, terminated if the server has
   * not answered within 2 s); with `{ terminate: true }`, by dropping the connection at once.
   */
  async close(options: { terminate?: boolean } = {}): Promise<void> {
    LiveClient.opened.delete(this);
    if (this.socket.readyState === WebSocket.CLOSED) return;
    if (options.terminate) {
      this.socket.terminate();
      await this.closed;
      return;
    }
    this.socket.close(1000);
    const timer = setTimeout(() => this.socket.terminate(), 2_000);
    await this.closed;
    clearTimeout(timer);
  }
}
