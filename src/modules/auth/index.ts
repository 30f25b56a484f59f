// The auth module's public entry: other modules import from here, never from its files.
export type { AuthModule } from './auth.module.js';
export type { AuthResult, ClientInfo } from './session-tokens.js';
export type { Revocations } from './revocations.js';
export type { Principal } from '../../platform/principal.js';
export { PasswordHasher } from './password-hasher.js';
