/**
 * One scenario on a running session: fresh events through the API, the load (closed-loop
 * VUs, or the open model's fixed arrival rate), the resource and database samplers, then the
 * invariants in the database and, with RabbitMQ, the consumers' backlog drained. Every mode
 * of the bench (a plain run, --rate, --ramp, --compare) measures a scenario through here, so
 * their figures mean the same thing.
 */
import { checkInvariants, waitUntilSettled, type InvariantReport } from './invariants.js';
import { runVus, Stats, type EndpointSummary } from './load.js';
import { runOpen, type OpenRunResult } from './open-model.js';
import { sampleResources, type ResourceSummary } from './processes.js';
import {
  monotonicUs,
  samplePgActivity,
  type ActivitySummary,
  type ProfileSummary,
  type Window,
} from './profile.js';
import { ENDPOINT_HEADERS, endpointRows, table } from './report.js';
import {
  browse,
  EP,
  gaRush,
  mixed,
  SeatPicker,
  seatRush,
  type BrowseTarget,
  type Iteration,
  type ScenarioName,
  type VuContext,
} from './scenarios.js';
import { createEvent } from './seed.js';
import { drainMessages, type Backlog, type Session } from './session.js';

/** Closed loop: `vus` users back to back. Open: `rate` iterations started per second. */
export type Load =
  { kind: 'closed'; vus: number } | { kind: 'open'; rate: number; maxInFlight: number };

/** The scenarios the open model can drive: one iteration is one buyer's hold and booking. */
export const OPEN_SCENARIOS: readonly ScenarioName[] = ['seat-rush', 'ga-rush'];

export interface ScenarioResult {
  name: string;
  phase?: string;
  load: 'closed' | 'open';
  /** Closed loop: the VUs. */
  vus?: number;
  seconds: number;
  soldOut: boolean;
  confirmedBookingsPerSecond: number;
  holdsPerSecond: number;
  ticketsPerSecond: number;
  requestsPerSecond: number;
  confirmedBookings: number;
  ticketsSold: number;
  networkErrors: number;
  /** 503 OVERLOADED answers (load shed by the server; the VU waited and retried). */
  overloaded: number;
  /** Requests still refused as OVERLOADED at the deadline (not retried further). */
  overloadedGaveUp: number;
  /** Network errors and 5xx answers other than OVERLOADED. */
  errors: number;
  /** Every answer of every endpoint of the scenario together. */
  allAnswers: EndpointSummary;
  endpoints: Record<string, EndpointSummary>;
  /** The open model's schedule, and its iterations' latency from their scheduled starts. */
  open?: Omit<OpenRunResult, 'seconds' | 'finishedEarly'> & { iteration?: EndpointSummary };
  resources: ResourceSummary;
  database?: ActivitySummary;
  profile?: ProfileSummary | null;
  invariants?: InvariantReport;
  /** With RabbitMQ: the consumers' backlog when the scenario's requests were all answered. */
  backlog?: Backlog;
  /** When the scenario ran, for the CPU profile's samples (--cpu-prof). */
  window?: Window;
}

export interface ScenarioOptions {
  load: Load;
  durationMs: number;
  /** Each browse phase's length. */
  browseMs: number;
  idempotencyKeys: boolean;
  log: (line?: string) => void;
  /** Called with the scenario's fresh events before any load (to capture pristine answers). */
  beforeRun?: (events: { reservedId: string; gaId: string }) => Promise<void>;
}

export const loadLabel = (load: Load) =>
  load.kind === 'closed' ? `${load.vus} VUs` : `${load.rate} iterations/s (open model)`;

export async function runScenario(
  session: Session,
  name: ScenarioName,
  options: ScenarioOptions,
): Promise<ScenarioResult[]> {
  const { load, durationMs, log } = options;
  if (load.kind === 'open' && !OPEN_SCENARIOS.includes(name)) {
    throw new Error(`the open model drives ${OPEN_SCENARIOS.join(' and ')}, not ${name}`);
  }
  await session.start(); // stopped after the previous scenario's checks with PGlite
  const { client, adminToken, venueId } = session;
  // Fresh inventory for each scenario, created through the API.
  const reservedId = await createEvent(client, adminToken, {
    name: `Seat rush (${name})`,
    venueId,
  });
  const gaId = await createEvent(client, adminToken, {
    name: `GA rush (${name})`,
    capacity: 100_000,
  });
  await options.beforeRun?.({ reservedId, gaId });
  const eventIds = [reservedId, gaId];
  const window = { startUs: monotonicUs(), endUs: 0 };

  // Each phase builds its iteration once the context (and its clock) exists.
  const phases: Array<{
    phase?: string;
    ms: number;
    prepare: (ctx: VuContext) => Promise<Iteration>;
  }> = [];
  if (name === 'seat-rush') {
    phases.push({
      ms: durationMs,
      prepare: async (ctx) => {
        const picker = new SeatPicker(ctx, reservedId);
        await picker.load();
        return seatRush(ctx, picker);
      },
    });
  } else if (name === 'ga-rush') {
    phases.push({ ms: durationMs, prepare: async (ctx) => gaRush(ctx, gaId) });
  } else if (name === 'browse') {
    for (const target of ['list', 'detail', 'seats'] as BrowseTarget[]) {
      phases.push({
        phase: target,
        ms: options.browseMs,
        prepare: async (ctx) => browse(ctx, eventIds, target),
      });
    }
  } else {
    phases.push({
      ms: durationMs,
      prepare: async (ctx) => {
        const picker = new SeatPicker(ctx, reservedId);
        await picker.load();
        return mixed(ctx, picker, eventIds);
      },
    });
  }

  const results: ScenarioResult[] = [];
  for (const { phase, ms, prepare } of phases) {
    const label = phase ? `${name}/${phase}` : name;
    log(`\n== ${label}: ${loadLabel(load)} ==`);
    const stats = new Stats();
    const ctx: VuContext = {
      client,
      stats,
      tokens: session.tokens,
      // In the open model every buyer is its own VU: iteration i runs as the free buyer b.
      vus: load.kind === 'closed' ? load.vus : session.tokens.length,
      idempotencyKeys: options.idempotencyKeys,
      deadline: performance.now() + ms,
    };
    const sampler = sampleResources(session.serverPid);
    const activity = session.checkDb
      ? samplePgActivity(session.checkDb.db, session.database.name!)
      : null;
    const iteration = await prepare(ctx);
    ctx.deadline = performance.now() + ms;
    const outcome =
      load.kind === 'closed'
        ? await runVus(load.vus, ms, iteration)
        : await runOpen(
            { rate: load.rate, durationMs: ms, maxInFlight: load.maxInFlight, buyers: ctx.vus },
            stats,
            iteration,
          );
    const resources = sampler.stop();
    const database = activity ? await activity.stop() : undefined;
    const result = summarize(name, phase, load, stats, outcome, resources, database);
    printPhase(result, log);
    results.push(result);
  }
  window.endUs = monotonicUs();
  const last = results[results.length - 1]!;
  last.window = window;

  // Invariants, in the database, once the scenario's requests have all been answered.
  let report: InvariantReport;
  if (session.checkDb) {
    const unsettled = await waitUntilSettled(session.checkDb.db);
    report = await checkInvariants(session.checkDb.db, eventIds, await session.ledger(), unsettled);
  } else {
    await session.stop();
    const database = await session.database.open();
    try {
      const unsettled = await waitUntilSettled(database.db, 1000);
      report = await checkInvariants(database.db, eventIds, await session.ledger(), unsettled);
    } finally {
      await database.close();
    }
  }
  last.invariants = report;
  log(
    `invariants (${name}): ${report.violations.length === 0 ? 'all hold' : `${report.violations.length} FAILED`}; ` +
      report.events
        .map(
          (e) =>
            `${e.seating} capacity ${e.capacity}: sold ${e.sold}, held ${e.held}, available ${e.available}, ` +
            `tickets ${e.tickets}, confirmed bookings ${e.confirmedBookings}`,
        )
        .join('; ') +
      `; ledger ${report.ledger.charges} charges, ${report.ledger.refunds} refunds`,
  );
  for (const v of report.violations) log(`  VIOLATION ${v.kind} ${v.eventId ?? ''}: ${v.detail}`);
  if (session.running() && process.env.AMQP_URL && session.checkDb) {
    // The consumers (analytics, notifications, live counts) may trail a rush: say by how
    // much, and let them finish so the next scenario does not pay for this one's messages.
    const drain = await drainMessages(session.base, 180_000);
    last.backlog = drain;
    log(
      `message backlog at the end: ${drain.pendingAtStart} message(s); ` +
        (drain.drained ? `drained in ${drain.seconds} s` : `NOT drained after ${drain.seconds} s`),
    );
  }
  return results;
}

function summarize(
  name: string,
  phase: string | undefined,
  load: Load,
  stats: Stats,
  outcome: { seconds: number; finishedEarly: boolean } | OpenRunResult,
  resources: ResourceSummary,
  database: ActivitySummary | undefined,
): ScenarioResult {
  const s = outcome.seconds;
  const rate = (n: number) => Math.round((n / s) * 10) / 10;
  const result: ScenarioResult = {
    name,
    phase,
    load: load.kind,
    ...(load.kind === 'closed' ? { vus: load.vus } : {}),
    seconds: Math.round(s * 10) / 10,
    soldOut: outcome.finishedEarly,
    confirmedBookingsPerSecond: rate(stats.get('confirmedBookings')),
    holdsPerSecond: rate(stats.get('holds')),
    ticketsPerSecond: rate(stats.get('ticketsSold')),
    requestsPerSecond: Math.round(stats.totalRequests() / s),
    confirmedBookings: stats.get('confirmedBookings'),
    ticketsSold: stats.get('ticketsSold'),
    networkErrors: stats.networkErrors,
    overloaded: stats.overloaded(),
    overloadedGaveUp: stats.get('overloadedGaveUp'),
    errors: stats.errors(),
    allAnswers: stats.overall(s),
    endpoints: stats.summary(s),
    resources,
    database,
  };
  if ('rate' in outcome) {
    const { seconds: _s, finishedEarly: _f, ...schedule } = outcome;
    result.open = { ...schedule, iteration: stats.timingSummary(s).iteration };
  }
  return result;
}

function printPhase(result: ScenarioResult, log: (line?: string) => void) {
  const { resources, database } = result;
  log(
    `${result.seconds} s${result.soldOut ? ' (sold out)' : ''}: ${result.confirmedBookingsPerSecond} bookings/s, ` +
      `${result.holdsPerSecond} holds/s, ${result.requestsPerSecond} req/s; server ` +
      `${resources.serverCpuCores} cores (peak ${resources.serverCpuPeakCores}), ` +
      `${resources.serverRssMbMax} MB; load generator ${resources.loadGeneratorCpuCores} cores; ` +
      `machine ${Math.round(resources.machineBusy * 100)}% busy, load ${resources.loadAverage.join(' ')}`,
  );
  log(
    `every answer: p50 ${result.allAnswers.p50} / p99 ${result.allAnswers.p99} ms; ` +
      `503 OVERLOADED ${result.overloaded}` +
      (result.overloadedGaveUp ? ` (${result.overloadedGaveUp} still refused at the end)` : '') +
      `; errors ${result.errors}`,
  );
  if (result.open) {
    const o = result.open;
    log(
      `open model: ${o.rate}/s offered, ${o.started} of ${o.scheduled} scheduled starts made, ` +
        `${o.skipped} skipped, peak ${o.peakInFlight} in flight` +
        (o.failed ? `, ${o.failed} iterations threw` : '') +
        (o.iteration
          ? `; iteration from its scheduled start p50 ${o.iteration.p50} / p99 ${o.iteration.p99} ms`
          : ''),
    );
  }
  log(table(ENDPOINT_HEADERS, endpointRows(result.endpoints)));
  if (database) {
    log(
      `database: ${database.transactionsPerSecond} commits/s, ${database.rollbacksPerSecond} rollbacks/s, ` +
        `${database.averageActive} backends busy on average; waits: ` +
        database.byWait.map((w) => `${w.wait} ${w.share}%`).join(', '),
    );
  }
}

export const holdP99 = (r: ScenarioResult) => r.endpoints[EP.hold]?.p99;
export const bookP99 = (r: ScenarioResult) => r.endpoints[EP.book]?.p99;
