// The admin module's public entry: what the composition root and the app use of it.
export { DeadLetterRepository, type DeadLetterRow } from './dead-letter.repository.js';
export { deadLetterRoutes } from './dead-letter.routes.js';
export { DeadLetterService } from './dead-letter.service.js';
