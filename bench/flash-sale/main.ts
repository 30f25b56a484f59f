/**
 * The flash-sale benchmark: `npm run bench -- [options]`
 *
 *   --scenario all|seat-rush|ga-rush|browse|mixed   (comma-separated list allowed; default all,
 *                       with --compare, --rate or --ramp: seat-rush,ga-rush)
 *   --vus 1000          concurrent virtual users, closed loop, 0 ms think time
 *   --duration 30       seconds per scenario (browse: per endpoint; --ramp: per step), or until
 *                       sold out
 *   --instances 1       Evently processes (`evently serve --instances N`; needs PostgreSQL+Redis)
 *   --embedded          Evently on PGlite in one process even when DATABASE_URL is set
 *   --quick             a ~1-2 minute smoke run (short durations, short pgbench)
 *   --users N           buyers (default max(4000, 4 x vus)); logged in before the clock starts
 *   --pool N            DATABASE_POOL_SIZE per instance (default: env or 20)
 *   --cpu-prof          run the server with --cpu-prof; summarize each scenario's samples
 *   --idempotency-keys  send Idempotency-Key on holds and bookings
 *   --no-ceilings       skip pgbench and the bare Fastify route
 *   --pgbench-seconds N length of each pgbench run (default 15, quick 5)
 *   --keep              keep the benchmark database (and the --compare worktree)
 *
 *   --rate R            open model instead of VUs (seat-rush, ga-rush): a buyer's hold + booking
 *                       starts every 1/R s whatever the earlier ones do; latencies from the
 *                       scheduled starts (open-model.ts)
 *   --max-in-flight N   the open model's bound on iterations in flight (default 5000, and at
 *                       most --users); a start past it is skipped and counted
 *   --ramp              open model from --rate (default 50/s), x1.5 per step of --duration s on
 *                       fresh events, until hold p99 > 100 ms, booking p99 > 250 ms, errors or
 *                       skipped starts; reports the knee (ramp.ts)
 *   --compare REF       A/B: REF built in a git worktree (A) against this working tree (B),
 *                       each on a fresh database, A B A B; prints B/A ratios (compare.ts)
 *   --rounds 2          --compare's rounds
 *
 * Starts the payment simulator (`evently payments-sim`, so charges can be checked in its
 * ledger) and Evently as child processes on a fresh database (a sibling of DATABASE_URL's, or
 * PGlite in a temporary DATA_DIR), seeds through SQL and the public API (session.ts), runs the
 * scenarios (scenario-run.ts), checks the inventory and money invariants in the database after
 * each one, measures the ceilings, prints tables and writes JSON to bench/results/. A 503
 * OVERLOADED answer is counted on its own and retried after Retry-After, not an error. Exits 1
 * on any invariant failure.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  pgbenchAvailable,
  runBareRoute,
  runPgbench,
  type BareResult,
  type PgbenchResult,
} from './ceilings.js';
import { runCompare } from './compare.js';
import { readOptions, type BenchOptions } from './options.js';
import { killAll, loadAverage, machine, ROOT } from './processes.js';
import { summarizeProfiles } from './profile.js';
import { runRampMode } from './ramp.js';
import { pct, table } from './report.js';
import { bookP99, holdP99, loadLabel, runScenario, type ScenarioResult } from './scenario-run.js';
import { EP } from './scenarios.js';
import { onAbort, openSession, startSimulator } from './session.js';

const log = (line = '') => process.stdout.write(`${line}\n`);

/** A target "at least half the bare route": null (not measured) without both figures. */
const atLeastHalf = (value: number | undefined, bare: number | undefined) =>
  value === undefined || !bare ? null : value >= 0.5 * bare;

/** A plain run: this tree, the scenarios once each, then the ceilings and the targets. */
async function main(options: BenchOptions): Promise<number> {
  const { mode: MODE, instances: INSTANCES, vus: VUS, pool: POOL, embedded: EMBEDDED } = options;
  const info = machine();
  log(
    `flash-sale bench: ${MODE}, ${INSTANCES} instance(s), ${loadLabel(options.load)}, ` +
      `${options.durationMs / 1000} s per scenario, ${options.users} users, pool ${POOL}; ` +
      `scenarios ${options.scenarios.join(', ')}`,
  );
  log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.memoryMb} MB, load ${info.loadAverageAtStart.join(' ')}`,
  );
  const RESULTS = options.resultsDir;
  const stamp = options.stamp;
  const sim = await startSimulator();
  const profileDir = options.cpuProf ? join(RESULTS, 'profiles', `${stamp}-${MODE}`) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const serverLog = join(RESULTS, `${stamp}-${MODE}-server.log`);
  const session = await openSession({
    root: ROOT,
    embedded: EMBEDDED,
    instances: INSTANCES,
    pool: POOL,
    users: options.users,
    sockets: options.sockets,
    simBase: sim.base,
    profileDir,
    keep: options.keep,
    serverLog,
    label: 'this tree',
    log,
  });

  const results: ScenarioResult[] = [];
  // The first scenario's pristine answers, served by the bare route (the ceiling).
  let captured: { seats: string; events: string; event: string } | null = null;
  const capture = async ({ reservedId }: { reservedId: string }) => {
    if (captured) return;
    const get = async (path: string) => (await fetch(`${session.base}${path}`)).text();
    captured = {
      seats: await get(`/api/v1/events/${reservedId}/seats`),
      events: await get('/api/v1/events'),
      event: await get(`/api/v1/events/${reservedId}`),
    };
  };
  try {
    for (const name of options.scenarios) {
      results.push(...(await runScenario(session, name, { ...options, log, beforeRun: capture })));
    }
  } finally {
    await session.close();
  }
  const failures = results.reduce((n, r) => n + (r.invariants?.violations.length ?? 0), 0);

  // Where the server's time went during each scenario (samples inside its window only).
  for (const result of results) {
    const profile =
      profileDir && result.window ? summarizeProfiles(profileDir, result.window) : null;
    if (!result.window) continue;
    result.profile = profile;
    if (!profile) continue;
    log(
      `\nprofile of ${result.name} (${profile.sampledMs} ms of non-idle samples on the main threads), by package:`,
    );
    log(
      table(
        ['package', 'self ms', 'share'],
        profile.byPackage.slice(0, 15).map((p) => [p.name, p.selfMs, `${p.share}%`]),
      ),
    );
    log(
      table(
        ['function', 'self ms', 'share'],
        profile.topFunctions.slice(0, 20).map((p) => [p.frame, p.selfMs, `${p.share}%`]),
      ),
    );
  }
  await sim.stop();

  // Ceilings, with Evently stopped: the same load generator on a bare Fastify route, and
  // pgbench on the booking path's core transactions.
  let bare: BareResult[] = [];
  let pgbench: PgbenchResult[] = [];
  if (options.ceilings) {
    log('\n== ceilings ==');
    if (captured) bare = await runBareRoute(captured, VUS, options.browseMs / 1000, log);
    const pgbenchBin = await pgbenchAvailable();
    const serverUrl = process.env.DATABASE_URL;
    if (pgbenchBin && serverUrl) {
      const runs = [
        { script: 'reserved.sql', clients: POOL },
        { script: 'reserved.sql', clients: 32 },
        { script: 'reserved-counter.sql', clients: POOL },
        { script: 'ga.sql', clients: POOL },
        { script: 'ga.sql', clients: 32 },
        // Everything the database does for one GA booking: its ceiling for bookings/s.
        { script: 'ga-booking-path.sql', clients: POOL, prepared: true },
      ];
      pgbench = await runPgbench(serverUrl, pgbenchBin, runs, options.pgbenchSeconds, log);
    } else {
      log('  pgbench skipped: needs pgbench and DATABASE_URL');
    }
  }

  // ---- The report ----
  const find = (name: string, phase?: string) =>
    results.find((r) => r.name === name && r.phase === phase);
  const pg = (script: string, clients: number) =>
    pgbench.find((p) => p.script === script && p.clients === clients)?.tps;
  const bareRps = (path: string) => bare.find((b) => b.path === path)?.summary.perSecond;
  // undefined when the scenario did not run: its ratios and targets are "not measured".
  const endpointRps = (r: ScenarioResult | undefined, endpoint: string) =>
    r ? (r.endpoints[endpoint]?.perSecond ?? 0) : undefined;

  log('\n== summary ==');
  log(
    table(
      [
        'scenario',
        'load',
        's',
        'bookings/s',
        'holds/s',
        'tickets/s',
        'req/s',
        'hold p99',
        'book p99',
        'all p99',
        '503 OVERLOADED',
        'errors',
        'server CPU',
        'RSS MB',
        'invariants',
      ],
      results.map((r) => [
        r.phase ? `${r.name}/${r.phase}` : r.name,
        r.load === 'closed' ? `${r.vus} VUs` : `${r.open?.rate}/s`,
        `${r.seconds}${r.soldOut ? ' (sold out)' : ''}`,
        r.confirmedBookingsPerSecond,
        r.holdsPerSecond,
        r.ticketsPerSecond,
        r.requestsPerSecond,
        holdP99(r) ?? '',
        bookP99(r) ?? '',
        r.allAnswers.p99,
        r.overloaded,
        r.errors,
        r.resources.serverCpuCores,
        r.resources.serverRssMbMax,
        r.invariants ? (r.invariants.violations.length === 0 ? 'ok' : 'FAILED') : '',
      ]),
    ),
  );

  const seat = find('seat-rush');
  const ga = find('ga-rush');
  const ratios: Array<[string, number | undefined, string, number | undefined]> = [
    [
      'seat rush bookings/s vs pgbench reserved.sql',
      seat?.confirmedBookingsPerSecond,
      `pgbench -c ${POOL}`,
      pg('reserved.sql', POOL),
    ],
    [
      'GA rush holds/s vs pgbench ga.sql (hot row)',
      ga?.holdsPerSecond,
      `pgbench -c ${POOL}`,
      pg('ga.sql', POOL),
    ],
    [
      'GA rush bookings/s vs pgbench ga.sql (hot row)',
      ga?.confirmedBookingsPerSecond,
      `pgbench -c ${POOL}`,
      pg('ga.sql', POOL),
    ],
    [
      'GA rush bookings/s vs pgbench ga-booking-path.sql',
      ga?.confirmedBookingsPerSecond,
      `pgbench -c ${POOL}`,
      pg('ga-booking-path.sql', POOL),
    ],
    [
      'seat rush bookings/s vs pgbench ga-booking-path.sql',
      seat?.confirmedBookingsPerSecond,
      `pgbench -c ${POOL}`,
      pg('ga-booking-path.sql', POOL),
    ],
    [
      'GET /events/:id/seats req/s vs bare route',
      endpointRps(find('browse', 'seats'), EP.seats),
      'bare /seats',
      bareRps('/seats'),
    ],
    [
      'GET /events req/s vs bare route',
      endpointRps(find('browse', 'list'), EP.list),
      'bare /events',
      bareRps('/events'),
    ],
    [
      'GET /events/:id req/s vs bare route',
      endpointRps(find('browse', 'detail'), EP.detail),
      'bare /event',
      bareRps('/event'),
    ],
  ];
  log(
    table(
      ['Evently figure', 'value', 'ceiling', 'ceiling value', 'ratio'],
      ratios.map(([label, value, ceiling, c]) => [
        label,
        value ?? 'not measured',
        ceiling,
        c ?? 'n/a',
        value === undefined ? 'n/a' : pct(value, c),
      ]),
    ),
  );
  if (pgbench.length > 0) {
    log(
      table(
        ['pgbench script', 'clients', 'tps', 'avg latency ms', 'failed'],
        pgbench.map((p) => [p.script, p.clients, p.tps, p.latencyMs, p.failed]),
      ),
    );
  }

  const targets = [
    EMBEDDED
      ? {
          target: 'embedded seat rush: zero invariant failures',
          met: seat ? (seat.invariants?.violations.length ?? 1) === 0 : null,
        }
      : {
          target: 'seat rush >= 1,000 confirmed bookings/s',
          met: seat ? seat.confirmedBookingsPerSecond >= 1000 : null,
        },
    {
      target: 'seat rush p99 hold and booking <= 250 ms',
      met: seat
        ? (seat.endpoints[EP.hold]?.p99 ?? Infinity) <= 250 &&
          (seat.endpoints[EP.book]?.p99 ?? Infinity) <= 250
        : null,
    },
    {
      target: `GA rush holds/s above pgbench ga.sql -c ${POOL}`,
      met: ga && pg('ga.sql', POOL) ? ga.holdsPerSecond > pg('ga.sql', POOL)! : null,
    },
    {
      target: 'GET /events/:id/seats >= 50% of the bare route',
      met: atLeastHalf(endpointRps(find('browse', 'seats'), EP.seats), bareRps('/seats')),
    },
    {
      target: 'GET /events >= 50% of the bare route',
      met: atLeastHalf(endpointRps(find('browse', 'list'), EP.list), bareRps('/events')),
    },
  ];
  log(
    table(
      ['target', 'met'],
      targets.map((t) => [t.target, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO']),
    ),
  );

  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${stamp}-${MODE}.json`);
  const report = {
    at: options.startedAt.toISOString(),
    mode: MODE,
    instances: INSTANCES,
    vus: VUS,
    load: options.load,
    durationSeconds: options.durationMs / 1000,
    users: options.users,
    poolSize: POOL,
    idempotencyKeys: options.idempotencyKeys,
    machine: { ...info, loadAverageAtEnd: loadAverage() },
    services: EMBEDDED
      ? 'PGlite + in-process Redis/RabbitMQ twins'
      : `PostgreSQL${process.env.REDIS_URL ? ' + Redis' : ''}${process.env.AMQP_URL ? ' + RabbitMQ' : ''}`,
    scenarios: results,
    ceilings: { pgbench, bare },
    ratios: ratios.map(([label, value, ceiling, c]) => ({
      label,
      ceiling,
      value: value ?? null,
      ceilingValue: c ?? null,
      ratio: c && value !== undefined ? value / c : null,
    })),
    targets,
    invariantFailures: failures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwritten to ${file} (server output: ${serverLog})`);
  if (failures > 0) log(`${failures} invariant violation(s)`);
  return failures > 0 ? 1 : 0;
}

process.on('SIGINT', () => {
  killAll();
  const timeout = new Promise((done) => setTimeout(done, 5_000));
  const cleanups = Promise.all([...onAbort].map((drop) => drop().catch(() => undefined)));
  void Promise.race([cleanups, timeout]).finally(() => process.exit(130));
});

async function dispatch(): Promise<number> {
  const options = readOptions();
  if (options.compare !== null) return runCompare(options, log);
  if (options.ramp) return runRampMode(options, log);
  return main(options);
}

dispatch().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    killAll();
    await Promise.all([...onAbort].map((drop) => drop().catch(() => undefined)));
    process.exit(1);
  },
);
