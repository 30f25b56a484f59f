import type { paths } from './schema';

/** The item type of a cursor-paged GET list route, e.g. ListItem<'/api/v1/admin/users'>. */
export type ListItem<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': { items: Array<infer I> } } } } };
}
  ? I
  : never;
