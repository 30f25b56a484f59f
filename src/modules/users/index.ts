// The users module's public entry: other modules import from here, never from its files.
export * from './user.view.js';
export type { UserAccounts, UserPage, UserRow } from './user.repository.js';
