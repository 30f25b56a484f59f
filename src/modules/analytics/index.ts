// The analytics module's public entry: what the composition root and the app wire up.
export { analyticsConsumer } from './analytics.consumer.js';
export { AnalyticsRepository } from './analytics.repository.js';
export { analyticsRoutes } from './analytics.routes.js';
export { AnalyticsService } from './analytics.service.js';
export { BookingsExport } from './booking-export.js';
