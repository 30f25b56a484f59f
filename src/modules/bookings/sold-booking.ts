import { BOOKING_DATE_COLUMNS, rowFromJson } from '../../infra/postgres/json-row.js';
import type { SoldBookingJson } from '../holds/index.js';
import type { BookingRow, BookingWithDetails } from './booking.repository.js';

/** The sale statement's JSON of a booking as the repository would have read it. */
export function soldBooking(json: SoldBookingJson): BookingWithDetails {
  return {
    row: rowFromJson<BookingRow>(json.booking, BOOKING_DATE_COLUMNS),
    tickets: json.tickets as BookingWithDetails['tickets'],
    saga: json.saga as BookingWithDetails['saga'],
  };
}
