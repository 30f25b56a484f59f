import { useEffect, useState } from 'react';
import { api, type paths } from '../../api/client';
import { problemMessage } from '../../api/problems';

export type VenueSummary =
  paths['/api/v1/venues']['get']['responses'][200]['content']['application/json']['items'][number];
export type VenueDetail =
  paths['/api/v1/venues/{id}']['get']['responses'][200]['content']['application/json'];

/**
 * Venues a page at a time (GET /venues, oldest first): every venue, or with `mine` the
 * caller's own (`owner=me`). `more` loads the next page while there is one.
 */
export function useVenues(mine: boolean) {
  const [venues, setVenues] = useState<VenueSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor?: string) => {
    const { data, error, response } = await api.GET('/api/v1/venues', {
      params: { query: { limit: 100, cursor, ...(mine ? { owner: 'me' as const } : {}) } },
    });
    if (!data) return setError(problemMessage(error, response));
    setVenues((shown) => (cursor && shown ? [...shown, ...data.items] : data.items));
    setNext(data.nextCursor);
  };
  useEffect(() => {
    void load();
  }, [mine]);
  return { venues, error, more: next ? () => void load(next) : null };
}

/** One venue with its layout, for section prices and the preview; null while none is chosen. */
export function useVenueDetail(id: string) {
  const [venue, setVenue] = useState<VenueDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setVenue(null);
    setError(null);
    if (!id) return;
    let current = true;
    void api.GET('/api/v1/venues/{id}', { params: { path: { id } } }).then((answer) => {
      if (!current) return;
      if (answer.data) setVenue(answer.data);
      else setError(problemMessage(answer.error, answer.response));
    });
    return () => {
      current = false;
    };
  }, [id]);
  return { venue, error };
}
