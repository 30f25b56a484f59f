// The auth module's public entry: other modules import from here, never from its files.
export type { AuthResult, AuthService, ClientInfo, Principal } from './auth.service.js';
export { PasswordHasher } from './password-hasher.js';
