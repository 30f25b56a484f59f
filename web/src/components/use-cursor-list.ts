import { useCallback, useEffect, useRef, useState } from 'react';
import { problemMessage } from '../api/problems';

/** What openapi-fetch answers for a cursor-paged list route. */
export interface PageAnswer<T> {
  data?: { items: T[]; nextCursor: string | null };
  error?: unknown;
  response: Response;
}

export interface CursorList<T> {
  /** null until the first page arrives. */
  items: T[] | null;
  error: string | null;
  loading: boolean;
  /** Loads the next page after the shown ones; null when there is none. */
  more: (() => void) | null;
  /** Starts again from the first page (after a change, or to see what is new). */
  reload: () => void;
  /** Replaces one shown item (after a change the API answered with). */
  replace: (match: (item: T) => boolean, next: T) => void;
}

/**
 * A list the API pages with `?cursor=`: the first page whenever `key` changes (a new filter),
 * then "more" appends the next. An answer that arrives after the filter changed is dropped.
 */
export function useCursorList<T>(
  key: string,
  fetchPage: (cursor: string | undefined) => Promise<PageAnswer<T>>,
): CursorList<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);
  // The latest fetchPage, without making every render a new "filter".
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const load = useCallback(async (cursor: string | undefined, gen: number) => {
    setLoading(true);
    setError(null);
    const { data, error: problem, response } = await fetchRef.current(cursor);
    if (gen !== generation.current) return;
    setLoading(false);
    if (!data) return setError(problemMessage(problem, response));
    setItems((shown) => (cursor && shown ? [...shown, ...data.items] : data.items));
    setNext(data.nextCursor);
  }, []);

  const reload = useCallback(() => {
    generation.current += 1;
    setItems(null);
    setNext(null);
    void load(undefined, generation.current);
  }, [load]);

  useEffect(reload, [key, reload]);

  return {
    items,
    error,
    loading,
    more: next && !loading ? () => void load(next, generation.current) : null,
    reload,
    replace: (match, replacement) =>
      setItems((shown) => shown?.map((item) => (match(item) ? replacement : item)) ?? null),
  };
}
