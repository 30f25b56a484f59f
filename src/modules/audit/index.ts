// The audit module's public entry: other modules import from here, never from its files.
// The request's audit context is a platform concept (every module passes it along); it is
// re-exported here because the audit log is what records it.
export * from '../../platform/audit-context.js';
export * from './audit-log.writer.js';
