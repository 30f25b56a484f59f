// The realtime module's public entry: what the composition root and the app wire up.
export { LiveHub } from './live-hub.js';
export { liveUpdateConsumer } from './live-update.consumer.js';
export { registerLiveRoutes } from './live.routes.js';
