// The tickets module's public entry: what the composition root, the app and the realtime
// module use. Tickets are created and cancelled by the bookings module with their booking;
// this module shows them, prints them and checks them in.
export { createTicketsModule, type CheckInCounts, type TicketsModule } from './tickets.module.js';
export { ticketRoutes } from './ticket.routes.js';
export { checkInRoutes } from './check-in.routes.js';
export { TICKET_CHECKED_IN } from './check-in-effects.js';
