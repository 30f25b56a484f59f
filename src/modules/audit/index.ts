// The audit module's public entry: other modules import from here, never from its files.
export * from './audit-context.js';
export * from './audit-log.writer.js';
