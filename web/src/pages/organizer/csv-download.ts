import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';
import { saveBlob } from '../../components/save-blob';

/** Saves the event's attendee list (GET /events/:id/bookings.csv); a message when refused. */
export async function downloadAttendeesCsv(eventId: string): Promise<string | null> {
  const { data, error, response } = await api.GET('/api/v1/events/{id}/bookings.csv', {
    params: { path: { id: eventId } },
    parseAs: 'blob',
  });
  if (!data) return problemMessage(error, response);
  saveBlob(data, `event-${eventId}-attendees.csv`);
  return null;
}
