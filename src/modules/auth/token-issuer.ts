import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  importPKCS8,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import type { JwtKeys } from '../../config.js';
import type { UserRole } from '../../platform/database/schema.js';

export interface AccessClaims {
  userId: string;
  role: UserRole;
  sessionId: string;
  epoch: number;
  jti: string;
  expiresAt: number;
}

const ISSUER = 'evently';
const AUDIENCE = 'evently-api';
const ROLES = new Set<string>(['user', 'organizer', 'admin']);

type Key = CryptoKey | KeyObject | Uint8Array;

/** Signs and verifies access tokens. Only the configured algorithm is accepted (never `none`). */
export class TokenIssuer {
  private constructor(
    private readonly algorithm: 'HS256' | 'RS256',
    private readonly signingKey: Key,
    private readonly verifyingKey: Key,
    readonly ttlSeconds: number,
  ) {}

  static async create(keys: JwtKeys, ttlSeconds: number): Promise<TokenIssuer> {
    if (keys.algorithm === 'HS256') {
      // Imported once: handing jose the raw secret imports it again on every verification,
      // a third of its cost per request.
      const secret = await crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(keys.secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
      return new TokenIssuer('HS256', secret, secret, ttlSeconds);
    }
    return new TokenIssuer(
      'RS256',
      await importPKCS8(keys.privateKeyPem, 'RS256'),
      await importSPKI(keys.publicKeyPem, 'RS256'),
      ttlSeconds,
    );
  }

  async issue(claims: Omit<AccessClaims, 'jti' | 'expiresAt'>): Promise<string> {
    return new SignJWT({ role: claims.role, sid: claims.sessionId, ep: claims.epoch })
      .setProtectedHeader({ alg: this.algorithm, typ: 'JWT' })
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.signingKey);
  }

  /** Returns the claims of a valid token, or undefined for anything else. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.verifyingKey, {
        algorithms: [this.algorithm],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
      }));
    } catch {
      return undefined;
    }
    const { sub, jti, exp, role, sid, ep } = payload;
    if (
      typeof sub !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      typeof role !== 'string' ||
      !ROLES.has(role) ||
      typeof sid !== 'string' ||
      typeof ep !== 'number'
    ) {
      return undefined;
    }
    return {
      userId: sub,
      role: role as UserRole,
      sessionId: sid,
      epoch: ep,
      jti,
      expiresAt: exp,
    };
  }
}
