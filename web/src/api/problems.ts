/** An RFC 9457 problem document as the API sends it. */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
  [extension: string]: unknown;
}

/** What each problem code means to a buyer, in words they can act on. */
const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: 'Your session has ended. Please sign in again.',
  INVALID_CREDENTIALS: 'That email and password do not match an account.',
  EMAIL_TAKEN: 'An account with this email already exists. Sign in instead?',
  VALIDATION_FAILED: 'Some fields need another look.',
  FORBIDDEN: 'You are not allowed to do this.',
  NOT_FOUND: 'We could not find that.',
  SEAT_UNAVAILABLE:
    'Someone else just took one of those seats. They are marked on the map: pick others.',
  SOLD_OUT: 'Not enough tickets are left for that many.',
  TICKET_LIMIT_EXCEEDED: 'That is more than the per-person ticket limit for this event.',
  SALES_CLOSED: 'Ticket sales for this event are closed.',
  HOLD_IN_PROGRESS: 'Your previous selection is still being held. Try again in a moment.',
  BOOKING_IN_PROGRESS: 'Your booking is still being processed.',
  HOLD_EXPIRED: 'Your hold expired and the tickets went back on sale. Please choose again.',
  PAYMENT_DECLINED: 'Your card was declined. Your tickets are still held: try another card.',
  PAYMENT_UNAVAILABLE: 'Payments are unavailable right now. Your tickets are still held.',
  OVERLOADED: 'We are very busy right now. Nothing was changed.',
  RATE_LIMITED: 'Too many attempts.',
  SERVICE_UNAVAILABLE: 'The service is unavailable right now.',
  IDEMPOTENCY_KEY_REUSED: 'This checkout was already submitted with different details.',
};

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'status' in value;
}

/** A sentence for the buyer; with a Retry-After, when to try again. */
export function problemMessage(problem: unknown, response?: Response): string {
  if (!isProblem(problem)) return 'Something went wrong. Please try again.';
  const base = MESSAGES[problem.code] ?? problem.detail ?? problem.title;
  const retryAfter = Number(response?.headers.get('retry-after'));
  return retryAfter > 0 ? `${base} Try again in ${retryAfter} s.` : base;
}
