/**
 * The closed list of machine-readable error codes and the one place that maps them to HTTP
 * statuses. Every failure leaves the API as an RFC 9457 problem document carrying one of these.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  PAYMENT_DECLINED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TICKET_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  CAPACITY_CONFLICT: 409,
  INVALID_STATE: 409,
  SEAT_UNAVAILABLE: 409,
  SOLD_OUT: 409,
  TICKET_LIMIT_EXCEEDED: 409,
  SALES_CLOSED: 409,
  HOLD_IN_PROGRESS: 409,
  BOOKING_IN_PROGRESS: 409,
  ALREADY_CHECKED_IN: 409,
  TICKET_NOT_VALID: 409,
  HOLD_EXPIRED: 410,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  PAYMENT_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  OVERLOADED: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'The request is not valid',
  MALFORMED_REQUEST: 'The request could not be read',
  UNAUTHENTICATED: 'Authentication is required',
  INVALID_CREDENTIALS: 'Email or password is wrong',
  PAYMENT_DECLINED: 'The payment was declined',
  FORBIDDEN: 'You are not allowed to do this',
  NOT_FOUND: 'Not found',
  TICKET_NOT_FOUND: 'No such ticket for this event',
  ROUTE_NOT_FOUND: 'No such route',
  EMAIL_TAKEN: 'This email is already registered',
  CAPACITY_CONFLICT: 'Capacity conflicts with seats already held or sold',
  INVALID_STATE: 'Not possible in the current state',
  SEAT_UNAVAILABLE: 'Some seats are not available',
  SOLD_OUT: 'Not enough tickets left',
  TICKET_LIMIT_EXCEEDED: 'Over the per-person ticket limit',
  SALES_CLOSED: 'Ticket sales are closed',
  HOLD_IN_PROGRESS: 'Another hold request is running',
  BOOKING_IN_PROGRESS: 'The booking is still being processed',
  ALREADY_CHECKED_IN: 'This ticket was already checked in',
  TICKET_NOT_VALID: 'This ticket is not valid (cancelled)',
  HOLD_EXPIRED: 'The hold has expired',
  REQUEST_TIMEOUT: 'The request took too long to arrive',
  PAYLOAD_TOO_LARGE: 'The request body is too large',
  URI_TOO_LONG: 'The URL is too long',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported content type',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was used with a different request',
  RATE_LIMITED: 'Too many requests',
  HEADERS_TOO_LARGE: 'The request headers are too large',
  INTERNAL_ERROR: 'Internal server error',
  PAYMENT_UNAVAILABLE: 'Payments are temporarily unavailable',
  SERVICE_UNAVAILABLE: 'Service temporarily unavailable',
  OVERLOADED: 'The server is at capacity for booking work; retry shortly',
};

export interface FieldError {
  field: string;
  message: string;
}

/** An expected failure with a stable code; anything else thrown becomes a 500. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } & Record<
      string,
      unknown
    > = {},
  ) {
    super(detail ?? TITLES[code]);
    this.status = ERROR_STATUS[code];
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problemFor(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extensions: Record<string, unknown> = {},
): ProblemDocument {
  return {
    type: `/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[code],
    status: ERROR_STATUS[code],
    detail,
    code,
    requestId,
    ...extensions,
  };
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} was not found`);
export const forbidden = (detail = 'You are not allowed to do this') =>
  new AppError('FORBIDDEN', detail);
