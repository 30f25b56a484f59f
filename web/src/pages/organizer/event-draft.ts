import type { paths } from '../../api/client';
import type { FieldErrors } from './field-errors';
import { fromLocalInput, toLocalInput } from './local-time';

export type EventView =
  paths['/api/v1/events/{id}']['get']['responses'][200]['content']['application/json'];
export type CreateEventBody =
  paths['/api/v1/events']['post']['requestBody']['content']['application/json'];
export type UpdateEventBody = NonNullable<
  paths['/api/v1/events/{id}']['patch']['requestBody']
>['content']['application/json'];

/** The fields EventForm shows a message at; the API's other complaints go to the summary. */
export const EVENT_FIELDS =
  /^(name|description|venueId|capacity|startsAt|endsAt|priceCents|currency|maxTicketsPerUser|salesStartAt|salesEndAt|sectionPrices\..+)$/;

/** The editor's fields as typed (strings, times in local wall-clock time). */
export interface EventDraft {
  name: string;
  description: string;
  seating: 'reserved' | 'general';
  venueId: string;
  capacity: string;
  startsAt: string;
  endsAt: string;
  price: string;
  currency: string;
  /** Section name → price as typed; empty means the event's price. */
  sectionPrices: Record<string, string>;
  maxTicketsPerUser: string;
  salesStartAt: string;
  salesEndAt: string;
}

const cents = (price: string): number | null =>
  /^\d{1,7}([.,]\d{1,2})?$/.test(price.trim())
    ? Math.round(Number(price.trim().replace(',', '.')) * 100)
    : null;
const priceOf = (priceCents: number) => (priceCents / 100).toFixed(2);
const whole = (value: string, min: number, max: number): number | null => {
  const n = Number(value);
  return /^\d+$/.test(value.trim()) && n >= min && n <= max ? n : null;
};

/** A new event: in four weeks at 19:30 local time, three hours long, sales open now. */
export function newEventDraft(venueId = ''): EventDraft {
  const start = new Date();
  start.setDate(start.getDate() + 28);
  start.setHours(19, 30, 0, 0);
  const end = new Date(start.getTime() + 3 * 3_600_000);
  return {
    name: '',
    description: '',
    seating: venueId ? 'reserved' : 'general',
    venueId,
    capacity: '100',
    startsAt: toLocalInput(start.toISOString()),
    endsAt: toLocalInput(end.toISOString()),
    price: '25.00',
    currency: 'EUR',
    sectionPrices: {},
    maxTicketsPerUser: '10',
    salesStartAt: '',
    salesEndAt: '',
  };
}

export function draftOf(event: EventView): EventDraft {
  return {
    name: event.name,
    description: event.description,
    seating: event.seating,
    venueId: event.venueId ?? '',
    capacity: String(event.capacity),
    startsAt: toLocalInput(event.startsAt),
    endsAt: toLocalInput(event.endsAt),
    price: priceOf(event.priceCents),
    currency: event.currency,
    sectionPrices: Object.fromEntries(
      Object.entries(event.sectionPrices).map(([name, c]) => [name, priceOf(c)]),
    ),
    maxTicketsPerUser: String(event.maxTicketsPerUser),
    salesStartAt: toLocalInput(event.salesStartAt),
    salesEndAt: toLocalInput(event.salesEndAt),
  };
}

/**
 * What the API would refuse, by its field names. `creating`: the start must still be ahead
 * (on an edit only when the start is changed, as PATCH checks it).
 */
export function validateEvent(
  draft: EventDraft,
  options: { creating: boolean; startChanged: boolean },
): FieldErrors {
  const errors: FieldErrors = {};
  if (!draft.name.trim()) errors.name = 'Name the event.';
  if (draft.description.length > 10_000) errors.description = 'At most 10,000 characters.';
  if (draft.seating === 'reserved' && !draft.venueId) {
    errors.venueId = 'Reserved seating needs a venue: choose one or create it first.';
  }
  if (draft.seating === 'general' && whole(draft.capacity, 1, 1_000_000) === null) {
    errors.capacity = 'A whole number of tickets from 1 to 1,000,000.';
  }
  const startsAt = fromLocalInput(draft.startsAt);
  const endsAt = fromLocalInput(draft.endsAt);
  if (!startsAt) errors.startsAt = 'Choose when the event starts.';
  else if ((options.creating || options.startChanged) && Date.parse(startsAt) <= Date.now()) {
    errors.startsAt = 'The start must be in the future.';
  }
  if (!endsAt) errors.endsAt = 'Choose when the event ends.';
  else if (startsAt && Date.parse(endsAt) <= Date.parse(startsAt)) {
    errors.endsAt = 'The end must be after the start.';
  }
  if (cents(draft.price) === null) errors.priceCents = 'A price such as 25 or 25.50 (0 for free).';
  if (!/^[A-Z]{3}$/.test(draft.currency.trim().toUpperCase())) {
    errors.currency = 'A three-letter currency code such as EUR.';
  }
  for (const [section, price] of Object.entries(draft.sectionPrices)) {
    if (price.trim() && cents(price) === null) {
      errors[`sectionPrices.${section}`] =
        'A price such as 25 or 25.50, or empty for the event’s price.';
    }
  }
  if (whole(draft.maxTicketsPerUser, 1, 100) === null) {
    errors.maxTicketsPerUser = 'A whole number from 1 to 100.';
  }
  const salesStart = fromLocalInput(draft.salesStartAt);
  const salesEnd = fromLocalInput(draft.salesEndAt);
  if (salesStart && salesEnd && Date.parse(salesEnd) <= Date.parse(salesStart)) {
    errors.salesEndAt = 'Sales must close after they open.';
  } else if (salesEnd && endsAt && Date.parse(salesEnd) > Date.parse(endsAt)) {
    errors.salesEndAt = 'Sales must close by the end of the event.';
  }
  return errors;
}

function sectionPricesOf(draft: EventDraft): Record<string, number> {
  return Object.fromEntries(
    Object.entries(draft.sectionPrices)
      .filter(([, price]) => price.trim() !== '')
      .map(([section, price]) => [section, cents(price)!]),
  );
}

/** The body of POST /events for a draft that passed validateEvent. */
export function toCreateBody(draft: EventDraft): CreateEventBody {
  const reserved = draft.seating === 'reserved';
  const prices = sectionPricesOf(draft);
  return {
    name: draft.name.trim(),
    description: draft.description,
    seating: draft.seating,
    ...(draft.venueId ? { venueId: draft.venueId } : {}),
    ...(reserved ? {} : { capacity: Number(draft.capacity) }),
    startsAt: fromLocalInput(draft.startsAt)!,
    endsAt: fromLocalInput(draft.endsAt)!,
    priceCents: cents(draft.price)!,
    currency: draft.currency.trim().toUpperCase(),
    ...(reserved && Object.keys(prices).length > 0 ? { sectionPrices: prices } : {}),
    maxTicketsPerUser: Number(draft.maxTicketsPerUser),
    ...(draft.salesStartAt ? { salesStartAt: fromLocalInput(draft.salesStartAt)! } : {}),
    ...(draft.salesEndAt ? { salesEndAt: fromLocalInput(draft.salesEndAt)! } : {}),
  };
}

/**
 * The body of PATCH /events/:id: only what differs from the event as loaded (times compared
 * as the editor shows them, to the minute). Null when nothing changed.
 */
export function toPatchBody(draft: EventDraft, event: EventView): UpdateEventBody | null {
  const before = draftOf(event);
  const body: UpdateEventBody = {};
  if (draft.name.trim() !== event.name) body.name = draft.name.trim();
  if (draft.description !== event.description) body.description = draft.description;
  if (draft.startsAt !== before.startsAt) body.startsAt = fromLocalInput(draft.startsAt)!;
  if (draft.endsAt !== before.endsAt) body.endsAt = fromLocalInput(draft.endsAt)!;
  if (event.seating === 'general' && Number(draft.capacity) !== event.capacity) {
    body.capacity = Number(draft.capacity);
  }
  if (cents(draft.price) !== event.priceCents) body.priceCents = cents(draft.price)!;
  const currency = draft.currency.trim().toUpperCase();
  if (currency !== event.currency) body.currency = currency;
  const prices = sectionPricesOf(draft);
  if (event.seating === 'reserved' && !samePrices(prices, event.sectionPrices)) {
    body.sectionPrices = prices;
  }
  if (Number(draft.maxTicketsPerUser) !== event.maxTicketsPerUser) {
    body.maxTicketsPerUser = Number(draft.maxTicketsPerUser);
  }
  if (draft.salesStartAt !== before.salesStartAt) {
    body.salesStartAt = fromLocalInput(draft.salesStartAt);
  }
  if (draft.salesEndAt !== before.salesEndAt) body.salesEndAt = fromLocalInput(draft.salesEndAt);
  return Object.keys(body).length > 0 ? body : null;
}

function samePrices(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export { cents as centsOf };
