import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The booking path's Prometheus metrics, registered on the app's registry. */
export class BookingMetrics {
  private readonly operations: Counter<'operation' | 'status'>;
  private readonly sagaOutcomes: Counter<'type' | 'outcome'>;
  private readonly sagaDuration: Histogram<'type' | 'outcome'>;

  constructor(registry: Registry, activeHolds: () => Promise<number>) {
    this.operations = new Counter({
      name: 'booking_operations_total',
      help: 'Hold, booking and cancellation attempts by outcome',
      labelNames: ['operation', 'status'],
      registers: [registry],
    });
    this.sagaOutcomes = new Counter({
      name: 'saga_outcomes_total',
      help: 'Finished sagas by type and outcome',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    });
    this.sagaDuration = new Histogram({
      name: 'saga_duration_seconds',
      help: 'Time from saga start to its end',
      labelNames: ['type', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    new Gauge({
      name: 'active_holds',
      help: 'Holds that are active and not expired',
      registers: [registry],
      async collect() {
        this.set(await activeHolds().catch(() => 0));
      },
    });
  }

  operation(operation: string, status: string): void {
    this.operations.inc({ operation, status });
  }

  sagaFinished(type: string, outcome: string, startedAt: Date): void {
    this.sagaOutcomes.inc({ type, outcome });
    this.sagaDuration.observe({ type, outcome }, (Date.now() - startedAt.getTime()) / 1000);
  }
}
