import { api } from '../../api/client';
import { problemMessage } from '../../api/problems';

/**
 * GET /events/:id/bookings.csv needs the bearer token, so a plain link cannot fetch it: the
 * typed client fetches it (with its token refresh) and the file is handed to the browser as a
 * Blob. Returns a message when the API refuses.
 */
export async function downloadAttendeesCsv(eventId: string): Promise<string | null> {
  const { data, error, response } = await api.GET('/api/v1/events/{id}/bookings.csv', {
    params: { path: { id: eventId } },
    parseAs: 'blob',
  });
  if (!data) return problemMessage(error, response);
  const url = URL.createObjectURL(data);
  const link = document.createElement('a');
  link.href = url;
  link.download = `event-${eventId}-attendees.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked a moment later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return null;
}
