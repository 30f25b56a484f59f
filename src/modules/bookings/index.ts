// The bookings module's public entry: what the composition root and the app wire up.
export { createBookingModule, type BookingModule, type BookingUseCases } from './booking.module.js';
export { bookingRoutes } from './booking.routes.js';
export { sagaWorkerConsumer } from './saga-worker.consumer.js';
