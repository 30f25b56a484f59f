import type { TokenDenylist, TokenIdentity } from '../../platform/ports/token-denylist.js';

/** In-process denylist for the embedded mode: one process, so a Map is the shared state. */
export class MemoryTokenDenylist implements TokenDenylist {
  private readonly revoked = new Map<string, number>();
  private readonly epochs = new Map<string, number>();

  async revokeToken(_userId: string, jti: string, ttlSeconds: number): Promise<void> {
    this.remember(`jti:${jti}`, ttlSeconds);
  }

  async revokeSession(_userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    this.remember(`sid:${sessionId}`, ttlSeconds);
  }

  async setUserEpoch(userId: string, epoch: number): Promise<void> {
    this.epochs.set(userId, Math.max(epoch, this.epochs.get(userId) ?? 0));
  }

  async isRevoked(token: TokenIdentity): Promise<boolean> {
    if (token.epoch < (this.epochs.get(token.userId) ?? 0)) return true;
    return this.isLive(`jti:${token.jti}`) || this.isLive(`sid:${token.sessionId}`);
  }

  private remember(key: string, ttlSeconds: number): void {
    this.revoked.set(key, Date.now() + ttlSeconds * 1000);
    if (this.revoked.size % 1024 === 0) this.sweep();
  }

  private isLive(key: string): boolean {
    const until = this.revoked.get(key);
    return until !== undefined && until > Date.now();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, until] of this.revoked) if (until <= now) this.revoked.delete(key);
  }
}
