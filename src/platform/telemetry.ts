import { createRequire } from 'node:module';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type SpanOptions,
} from '@opentelemetry/api';
import { AppError } from './errors.js';
import type { BusMessage, ConsumerSpec } from './ports/message-bus.js';

/** OpenTelemetry tracing: on when an OTLP endpoint is configured, absent otherwise. */
export interface TelemetrySettings {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`; unset means no SDK is loaded at all. */
  otlpEndpoint?: string;
  serviceName: string;
}

export interface Telemetry {
  /** Exports the spans still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

// Without a registered SDK the API hands out no-op tracers and spans, so the helpers below
// cost next to nothing when tracing is off.
const tracer = trace.getTracer('evently');

/**
 * Starts the SDK and the HTTP, Fastify, pg, ioredis and amqplib instrumentations. They patch
 * those libraries as they are loaded, so this must run before the application imports them
 * (src/cli.ts imports the application only afterwards). The exporter reads the standard
 * `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, per-signal endpoint) itself.
 */
export async function startTelemetry(settings: TelemetrySettings): Promise<Telemetry> {
  if (!settings.otlpEndpoint) return { shutdown: async () => undefined };
  const [sdk, otlp, resources, instrumentation, http, pg, ioredis, amqplib, fastify] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-amqplib'),
      import('@fastify/otel'),
    ]);
  const provider = new sdk.NodeTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter())],
  });
  // Also installs the W3C trace-context (and baggage) propagator, which carries a trace
  // through the outbox and RabbitMQ headers (see activeTraceContext and tracedConsumer).
  provider.register();
  if (!propagation.fields().includes('traceparent')) {
    throw new Error('OpenTelemetry started without the W3C trace-context propagator');
  }
  const unobserved = (path: string) => path.startsWith('/health') || path === '/metrics';
  instrumentation.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => unobserved(request.url ?? ''),
      }),
      // Hook spans would outnumber everything else; the request and handler spans remain.
      new fastify.FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        ignorePaths: (route) => unobserved(route.url),
        requestHook: (span, request) => span.updateName(`request ${routeOf(request)}`),
        // Fastify names an anonymous plugin by its source text; the route reads better.
        lifecycleHook: (span, { hookName, request }) => {
          span.updateName(`${hookName} ${routeOf(request)}`);
          span.setAttribute('hook.name', `${hookName} ${routeOf(request)}`);
        },
      }),
      // Only inside a traced operation: the background loops' polling would otherwise be a
      // stream of root spans, and a connection opened in a span would lend it to its listeners.
      new pg.PgInstrumentation({ requireParentSpan: true }),
      new ioredis.IORedisInstrumentation({ requireParentSpan: true }),
      new amqplib.AmqplibInstrumentation(),
    ],
  });
  // The instrumentations hook require(), which an ESM import of a CommonJS package bypasses.
  // Loading the packages through require() here patches them, and the application's later
  // imports receive these same, already patched modules from the CommonJS cache.
  const require = createRequire(import.meta.url);
  for (const name of ['pg', 'ioredis', 'amqplib']) require(name);
  return { shutdown: () => provider.shutdown() };
}

// The route pattern, never the raw URL: a query string is not for traces.
const routeOf = (request: { method: string; routeOptions: { url?: string } }) =>
  `${request.method} ${request.routeOptions.url ?? ''}`;

/**
 * Runs `work` in a span that becomes the parent of every span started inside it (SQL,
 * Redis, RabbitMQ, nested use cases); a thrown error marks the span failed and is rethrown.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  options: SpanOptions = {},
  parent: Context = context.active(),
): Promise<T> {
  return tracer.startActiveSpan(name, { ...options, attributes }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError) span.setAttribute('evently.error.code', error.code);
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Adds an event to the current span (a no-op outside one, or with tracing off). */
export function spanEvent(name: string, attributes: Attributes = {}): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/**
 * The active span's W3C context as a carrier (`traceparent`, maybe `tracestate`), for a
 * message to take along; undefined outside a span and whenever tracing is off (no SDK: the
 * API's spans carry no valid context, so this returns before any propagator runs).
 */
export function activeTraceContext(): Record<string, string> | undefined {
  const active = context.active();
  const spanContext = trace.getSpanContext(active);
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

// Identifiers worth searching a trace by; payload values beyond these never reach a span.
const CORRELATION_KEYS = ['bookingId', 'sagaId', 'holdId', 'eventId'] as const;

/**
 * A span per message handled: consumer, message type and id, and the ids it concerns. A
 * message that carries the trace context of the transaction that wrote it (through the
 * outbox) is handled in that trace, as a child of that span; the delivery span the consumer
 * runs in (RabbitMQ's, if any) is kept as a link.
 */
export function tracedConsumer(spec: ConsumerSpec): ConsumerSpec {
  return {
    ...spec,
    handle: (message: BusMessage) => {
      const origin = message.traceContext
        ? propagation.extract(ROOT_CONTEXT, message.traceContext)
        : undefined;
      const originSpan = origin && trace.getSpanContext(origin);
      const delivery = trace.getActiveSpan()?.spanContext();
      const joins = originSpan !== undefined && isSpanContextValid(originSpan);
      return withSpan(
        `consume ${spec.name}`,
        {
          'messaging.consumer.group.name': spec.name,
          'messaging.message.id': message.messageId,
          'evently.message.type': message.type,
          ...correlation(message),
        },
        () => spec.handle(message),
        {
          kind: SpanKind.CONSUMER,
          links: joins && delivery && isSpanContextValid(delivery) ? [{ context: delivery }] : [],
        },
        joins ? origin : context.active(),
      );
    },
  };
}

function correlation(message: BusMessage): Attributes {
  const attributes: Attributes = {};
  for (const key of CORRELATION_KEYS) {
    const value = message.payload[key];
    if (typeof value === 'string') attributes[`evently.${key.replace(/Id$/, '')}.id`] = value;
  }
  return attributes;
}
