// The notifications module's public entry: what the composition root and the app wire up.
export * from './notifications.module.js';
export { notificationRoutes } from './notification.routes.js';
