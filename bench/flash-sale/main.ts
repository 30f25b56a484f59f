/**
 * The flash-sale benchmark: `npm run bench -- [options]`
 *
 *   --scenario all|seat-rush|ga-rush|browse|mixed   (comma-separated list allowed; default all)
 *   --vus 1000          concurrent virtual users, closed loop, 0 ms think time
 *   --duration 30       seconds per scenario (browse: per endpoint), or until sold out
 *   --instances 1       Evently processes (`evently serve --instances N`; needs PostgreSQL+Redis)
 *   --embedded          Evently on PGlite in one process even when DATABASE_URL is set
 *   --quick             a ~1-2 minute smoke run (short durations, short pgbench)
 *   --users N           buyers (default max(4000, 4 x vus)); logged in before the clock starts
 *   --pool N            DATABASE_POOL_SIZE per instance (default: env or 20)
 *   --cpu-prof          run the server with --cpu-prof; summarize each scenario's samples
 *   --idempotency-keys  send Idempotency-Key on holds and bookings
 *   --no-ceilings       skip pgbench and the bare Fastify route
 *   --pgbench-seconds N length of each pgbench run (default 15, quick 5)
 *   --keep              keep the benchmark database
 *
 * Starts the payment simulator (`evently payments-sim`, so charges can be checked in its
 * ledger) and Evently as child processes on a fresh database (a sibling of DATABASE_URL's, or
 * PGlite in a temporary DATA_DIR), seeds through SQL and the public API, runs the scenarios,
 * checks the inventory and money invariants in the database after each one, measures the
 * ceilings, prints tables and writes JSON to bench/results/. Exits 1 on any invariant failure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Database } from '../../src/infra/postgres/database.js';
import {
  pgbenchAvailable,
  runBareRoute,
  runPgbench,
  type BareResult,
  type PgbenchResult,
} from './ceilings.js';
import {
  checkInvariants,
  waitUntilSettled,
  type InvariantReport,
  type LedgerEntry,
} from './invariants.js';
import { HttpClient, runVus, Stats, type EndpointSummary } from './load.js';
import {
  CLI,
  freePort,
  killAll,
  ROOT,
  sampleResources,
  startNode,
  stop,
  waitForOutput,
  type Child,
  type ResourceSummary,
} from './processes.js';
import {
  monotonicUs,
  samplePgActivity,
  summarizeProfiles,
  type Window,
  type ActivitySummary,
  type ProfileSummary,
} from './profile.js';
import { ENDPOINT_HEADERS, endpointRows, pct, table } from './report.js';
import {
  browse,
  EP,
  gaRush,
  mixed,
  SCENARIOS,
  SeatPicker,
  seatRush,
  type BrowseTarget,
  type ScenarioName,
  type VuContext,
} from './scenarios.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createDatabase,
  createEvent,
  createVenue,
  insertUsers,
  login,
  loginUsers,
} from './seed.js';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    vus: { type: 'string', default: '1000' },
    duration: { type: 'string' },
    instances: { type: 'string', default: '1' },
    embedded: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    pool: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'idempotency-keys': { type: 'boolean', default: false },
    'no-ceilings': { type: 'boolean', default: false },
    'pgbench-seconds': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const positive = (name: string, text: string | undefined, fallback: number) => {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number`);
  return value;
};
const VUS = positive('vus', args.vus, 1000);
const DURATION_S = positive('duration', args.duration, args.quick ? 6 : 30);
const BROWSE_S = Math.max(3, Math.round(DURATION_S / 2));
const INSTANCES = positive('instances', args.instances, 1);
const USERS = positive('users', args.users, Math.max(4000, 4 * VUS));
const POOL = positive('pool', args.pool ?? process.env.DATABASE_POOL_SIZE, 20);
const PGBENCH_S = positive('pgbench-seconds', args['pgbench-seconds'], args.quick ? 5 : 15);
const EMBEDDED = args.embedded || !process.env.DATABASE_URL;
const MODE = EMBEDDED ? 'embedded' : 'postgres';
const selected: ScenarioName[] =
  args.scenario === 'all'
    ? [...SCENARIOS]
    : args.scenario.split(',').map((s) => {
        if (!(SCENARIOS as readonly string[]).includes(s)) {
          throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')} or all`);
        }
        return s as ScenarioName;
      });
if (EMBEDDED && INSTANCES > 1) throw new Error('--instances > 1 needs DATABASE_URL (PostgreSQL)');

const log = (line = '') => process.stdout.write(`${line}\n`);
const startedAt = new Date();
const stamp = startedAt.toISOString().replaceAll(':', '-').replace(/\..*/, '');
const RESULTS = join(ROOT, 'bench', 'results');

function machine() {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  let postgres: string | undefined;
  try {
    postgres = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    postgres = undefined;
  }
  return {
    cpus: cpus().length,
    cpuModel,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    postgresClient: postgres,
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
  };
}

interface Backlog {
  drained: boolean;
  pendingAtStart: number;
  seconds: number;
}

interface ScenarioResult {
  name: string;
  phase?: string;
  vus: number;
  seconds: number;
  soldOut: boolean;
  confirmedBookingsPerSecond: number;
  holdsPerSecond: number;
  ticketsPerSecond: number;
  requestsPerSecond: number;
  confirmedBookings: number;
  ticketsSold: number;
  networkErrors: number;
  endpoints: Record<string, EndpointSummary>;
  resources: ResourceSummary;
  database?: ActivitySummary;
  profile?: ProfileSummary | null;
  invariants?: InvariantReport;
  /** With RabbitMQ: the consumers' backlog when the scenario's requests were all answered. */
  backlog?: Backlog;
}

async function main(): Promise<number> {
  const info = machine();
  log(
    `flash-sale bench: ${MODE}, ${INSTANCES} instance(s), ${VUS} VUs, ${DURATION_S} s per scenario, ` +
      `${USERS} users, pool ${POOL}; scenarios ${selected.join(', ')}`,
  );
  log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.memoryMb} MB, load ${info.loadAverageAtStart.join(' ')}`,
  );
  const bench = await createDatabase(
    EMBEDDED ? undefined : process.env.DATABASE_URL,
    'evently-bench',
    args.keep,
  );
  log(`database: ${bench.mode === 'postgres' ? bench.name : `PGlite in ${bench.dataDir}`}`);
  dropOnExit = () => bench.drop();

  // The payment provider in its own process: its ledger is what the money checks read.
  const simPort = await freePort();
  const simBase = `http://127.0.0.1:${simPort}`;
  const sim = startNode('payments-sim', CLI, ['payments-sim', '--port', String(simPort)], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
  });
  await waitForOutput(sim, /Payment simulator listening/, 60_000);

  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    RATE_LIMIT_ENABLED: 'false',
    BCRYPT_COST: '4',
    HOLD_TTL_SECONDS: '1800',
    ACCESS_TOKEN_TTL_SECONDS: '7200',
    DATA_DIR: bench.dataDir,
    PAYMENTS_URL: simBase,
    DATABASE_POOL_SIZE: String(POOL),
    // Its own Redis keys and RabbitMQ queues: a shared broker's other Evently stays apart.
    NAMESPACE: 'bench',
  };
  delete env.ADMIN_EMAIL;
  delete env.ADMIN_PASSWORD;
  delete env.NODE_OPTIONS;
  if (EMBEDDED) {
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.REDIS_CLUSTER_NODES;
    delete env.AMQP_URL;
  } else {
    env.DATABASE_URL = bench.url;
  }

  // The admin (migrates the database), then the buyers by SQL with one precomputed hash.
  const admin = startNode('create-admin', CLI, ['create-admin', '--email', ADMIN_EMAIL], {
    ...env,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
  });
  if ((await admin.exited) !== 0) throw new Error(`create-admin failed:\n${admin.output()}`);
  let seeding = performance.now();
  {
    const database = await bench.open();
    await insertUsers(database, USERS);
    await database.close();
  }
  log(`${USERS} users inserted in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

  const base = `http://127.0.0.1:${port}`;
  let server: Child | null = null;
  const profileDir = args['cpu-prof'] ? join(RESULTS, 'profiles', `${stamp}-${MODE}`) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const windows: Array<{ result: ScenarioResult; window: Window }> = [];
  const startEvently = async () => {
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const proc = startNode(
      'evently',
      CLI,
      ['serve', ...(INSTANCES > 1 ? ['--instances', String(INSTANCES)] : [])],
      env,
      nodeArgs,
    );
    const banners = new RegExp(`(Evently is running[\\s\\S]*){${INSTANCES}}`);
    await waitForOutput(proc, banners, 180_000);
    server = proc;
    return proc;
  };
  // The server's own output (warnings and errors, e.g. behind a 500) is kept next to the JSON.
  const serverLog = join(RESULTS, `${stamp}-${MODE}-server.log`);
  const stopEvently = async () => {
    if (!server) return;
    const code = await stop(server, 30_000);
    if (code !== 0) log(`evently exited with ${code}:\n${server.output().slice(-2000)}`);
    mkdirSync(RESULTS, { recursive: true });
    appendFileSync(serverLog, server.output());
    server = null;
  };

  await startEvently();
  const client = new HttpClient(base, VUS + 32);
  seeding = performance.now();
  const adminToken = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tokens = await loginUsers(client, USERS, 32);
  log(`${USERS} users logged in in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
  seeding = performance.now();
  const venueId = await createVenue(client, adminToken);
  // Something to list: GET /events answers a full first page (20 events).
  for (let i = 0; i < 18; i++) {
    await createEvent(client, adminToken, { name: `Side show ${i + 1}`, capacity: 500 });
  }
  log(
    `venue (20,000 seats) and list events in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
  );

  // A check connection stays open with PostgreSQL; PGlite is opened when the server is down.
  const checkDb: Database | null = EMBEDDED ? null : await bench.open();
  const ledger = async (): Promise<LedgerEntry[] | null> => {
    try {
      const response = await fetch(`${simBase}/ledger`);
      return ((await response.json()) as { entries: LedgerEntry[] }).entries;
    } catch {
      return null;
    }
  };

  const results: ScenarioResult[] = [];
  let captured: { seats: string; events: string; event: string } | null = null;
  let failures = 0;

  for (const name of selected) {
    // Fresh inventory for each scenario, created through the API.
    const reservedId = await createEvent(client, adminToken, {
      name: `Seat rush (${name})`,
      venueId,
    });
    const gaId = await createEvent(client, adminToken, {
      name: `GA rush (${name})`,
      capacity: 100_000,
    });
    if (!captured) {
      const get = async (path: string) => {
        const response = await fetch(`${base}${path}`);
        return response.text();
      };
      captured = {
        seats: await get(`/api/v1/events/${reservedId}/seats`),
        events: await get('/api/v1/events'),
        event: await get(`/api/v1/events/${reservedId}`),
      };
    }
    const window = { startUs: monotonicUs(), endUs: 0 };

    const phases: Array<{ phase?: string; run: (ctx: VuContext) => Promise<unknown> }> = [];
    const durationMs = DURATION_S * 1000;
    const eventIds = [reservedId, gaId];
    if (name === 'seat-rush') {
      phases.push({
        run: async (ctx) => {
          const picker = new SeatPicker(ctx, reservedId);
          await picker.load();
          return runVus(VUS, durationMs, seatRush(ctx, picker));
        },
      });
    } else if (name === 'ga-rush') {
      phases.push({ run: (ctx) => runVus(VUS, durationMs, gaRush(ctx, gaId)) });
    } else if (name === 'browse') {
      for (const target of ['list', 'detail', 'seats'] as BrowseTarget[]) {
        phases.push({
          phase: target,
          run: (ctx) => runVus(VUS, BROWSE_S * 1000, browse(ctx, eventIds, target)),
        });
      }
    } else {
      phases.push({
        run: async (ctx) => {
          const picker = new SeatPicker(ctx, reservedId);
          await picker.load();
          return runVus(VUS, durationMs, mixed(ctx, picker, eventIds));
        },
      });
    }

    const scenarioResults: ScenarioResult[] = [];
    for (const { phase, run } of phases) {
      const label = phase ? `${name}/${phase}` : name;
      log(`\n== ${label}: ${VUS} VUs ==`);
      const stats = new Stats();
      const ctx: VuContext = {
        client,
        stats,
        tokens,
        vus: VUS,
        idempotencyKeys: args['idempotency-keys'],
      };
      const proc = server as Child | null;
      const sampler = sampleResources(() => proc?.child.pid ?? -1);
      const activity = checkDb ? samplePgActivity(checkDb.db, bench.name!) : null;
      const outcome = (await run(ctx)) as { seconds: number; finishedEarly: boolean };
      const resources = sampler.stop();
      const database = activity ? await activity.stop() : undefined;
      const s = outcome.seconds;
      const rate = (n: number) => Math.round((n / s) * 10) / 10;
      const result: ScenarioResult = {
        name,
        phase,
        vus: VUS,
        seconds: Math.round(s * 10) / 10,
        soldOut: outcome.finishedEarly,
        confirmedBookingsPerSecond: rate(stats.get('confirmedBookings')),
        holdsPerSecond: rate(stats.get('holds')),
        ticketsPerSecond: rate(stats.get('ticketsSold')),
        requestsPerSecond: Math.round(stats.totalRequests() / s),
        confirmedBookings: stats.get('confirmedBookings'),
        ticketsSold: stats.get('ticketsSold'),
        networkErrors: stats.networkErrors,
        endpoints: stats.summary(s),
        resources,
        database,
      };
      log(
        `${result.seconds} s${result.soldOut ? ' (sold out)' : ''}: ${result.confirmedBookingsPerSecond} bookings/s, ` +
          `${result.holdsPerSecond} holds/s, ${result.requestsPerSecond} req/s; server ` +
          `${resources.serverCpuCores} cores (peak ${resources.serverCpuPeakCores}), ` +
          `${resources.serverRssMbMax} MB; load generator ${resources.loadGeneratorCpuCores} cores; ` +
          `machine ${Math.round(resources.machineBusy * 100)}% busy, load ${resources.loadAverage.join(' ')}`,
      );
      log(table(ENDPOINT_HEADERS, endpointRows(result.endpoints)));
      if (database) {
        log(
          `database: ${database.transactionsPerSecond} commits/s, ${database.rollbacksPerSecond} rollbacks/s, ` +
            `${database.averageActive} backends busy on average; waits: ` +
            database.byWait.map((w) => `${w.wait} ${w.share}%`).join(', '),
        );
      }
      scenarioResults.push(result);
    }

    window.endUs = monotonicUs();
    // Invariants, in the database, once the scenario's requests have all been answered.
    let report: InvariantReport;
    if (checkDb) {
      const unsettled = await waitUntilSettled(checkDb.db);
      report = await checkInvariants(checkDb.db, eventIds, await ledger(), unsettled);
    } else {
      await stopEvently();
      const database = await bench.open();
      try {
        const unsettled = await waitUntilSettled(database.db, 1000);
        report = await checkInvariants(database.db, eventIds, await ledger(), unsettled);
      } finally {
        await database.close();
      }
    }
    windows.push({ result: scenarioResults[scenarioResults.length - 1]!, window });
    const last = scenarioResults[scenarioResults.length - 1]!;
    last.invariants = report;
    failures += report.violations.length;
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
    if (server && process.env.AMQP_URL && !EMBEDDED) {
      // The consumers (analytics, notifications, live counts) may trail a rush: say by how
      // much, and let them finish so the next scenario does not pay for this one's messages.
      const drain = await drainMessages(base, 180_000);
      last.backlog = drain;
      log(
        `message backlog at the end: ${drain.pendingAtStart} message(s); ` +
          (drain.drained
            ? `drained in ${drain.seconds} s`
            : `NOT drained after ${drain.seconds} s`),
      );
    }
    results.push(...scenarioResults);
    if (!server && name !== selected[selected.length - 1]) await startEvently();
  }

  if (server && process.env.AMQP_URL && !EMBEDDED) {
    // RabbitMQ queues are durable and named without a per-run prefix (Evently has no setting
    // for one): a backlog left here would be consumed by the next run's server against a
    // database that does not know its users and events. Let the consumers finish first.
    const { drained } = await drainMessages(base, 180_000);
    log(
      drained
        ? 'message backlog drained'
        : 'message backlog NOT drained after 180 s (the next run will see it)',
    );
  }
  await stopEvently();
  client.close();
  // Where the server's time went during each scenario (samples inside its window only).
  for (const { result, window } of windows) {
    const profile = profileDir ? summarizeProfiles(profileDir, window) : null;
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
  await checkDb?.close();
  await stop(sim, 5_000);

  // Ceilings, with Evently stopped: the same load generator on a bare Fastify route, and
  // pgbench on the booking path's core transactions.
  let bare: BareResult[] = [];
  let pgbench: PgbenchResult[] = [];
  if (!args['no-ceilings']) {
    log('\n== ceilings ==');
    if (captured) bare = await runBareRoute(captured, VUS, BROWSE_S, log);
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
      pgbench = await runPgbench(serverUrl, pgbenchBin, runs, PGBENCH_S, log);
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
  const endpointRps = (r: ScenarioResult | undefined, endpoint: string) =>
    r?.endpoints[endpoint]?.perSecond ?? 0;

  log('\n== summary ==');
  log(
    table(
      [
        'scenario',
        'VUs',
        's',
        'bookings/s',
        'holds/s',
        'tickets/s',
        'req/s',
        'hold p99',
        'book p99',
        'server CPU',
        'RSS MB',
        'invariants',
      ],
      results.map((r) => [
        r.phase ? `${r.name}/${r.phase}` : r.name,
        r.vus,
        `${r.seconds}${r.soldOut ? ' (sold out)' : ''}`,
        r.confirmedBookingsPerSecond,
        r.holdsPerSecond,
        r.ticketsPerSecond,
        r.requestsPerSecond,
        r.endpoints[EP.hold]?.p99 ?? '',
        r.endpoints[EP.book]?.p99 ?? '',
        r.resources.serverCpuCores,
        r.resources.serverRssMbMax,
        r.invariants ? (r.invariants.violations.length === 0 ? 'ok' : 'FAILED') : '',
      ]),
    ),
  );

  const seat = find('seat-rush');
  const ga = find('ga-rush');
  const ratios: Array<[string, number, string, number | undefined]> = [
    [
      'seat rush bookings/s vs pgbench reserved.sql',
      seat?.confirmedBookingsPerSecond ?? 0,
      `pgbench -c ${POOL}`,
      pg('reserved.sql', POOL),
    ],
    [
      'GA rush holds/s vs pgbench ga.sql (hot row)',
      ga?.holdsPerSecond ?? 0,
      `pgbench -c ${POOL}`,
      pg('ga.sql', POOL),
    ],
    [
      'GA rush bookings/s vs pgbench ga.sql (hot row)',
      ga?.confirmedBookingsPerSecond ?? 0,
      `pgbench -c ${POOL}`,
      pg('ga.sql', POOL),
    ],
    [
      'GA rush bookings/s vs pgbench ga-booking-path.sql',
      ga?.confirmedBookingsPerSecond ?? 0,
      `pgbench -c ${POOL}`,
      pg('ga-booking-path.sql', POOL),
    ],
    [
      'seat rush bookings/s vs pgbench ga-booking-path.sql',
      seat?.confirmedBookingsPerSecond ?? 0,
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
        value,
        ceiling,
        c ?? 'n/a',
        pct(value, c),
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
      met: bareRps('/seats')
        ? endpointRps(find('browse', 'seats'), EP.seats) >= 0.5 * bareRps('/seats')!
        : null,
    },
    {
      target: 'GET /events >= 50% of the bare route',
      met: bareRps('/events')
        ? endpointRps(find('browse', 'list'), EP.list) >= 0.5 * bareRps('/events')!
        : null,
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
    at: startedAt.toISOString(),
    mode: MODE,
    instances: INSTANCES,
    vus: VUS,
    durationSeconds: DURATION_S,
    users: USERS,
    poolSize: POOL,
    idempotencyKeys: args['idempotency-keys'],
    machine: {
      ...info,
      loadAverageAtEnd: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    },
    services: EMBEDDED
      ? 'PGlite + in-process Redis/RabbitMQ twins'
      : `PostgreSQL${process.env.REDIS_URL ? ' + Redis' : ''}${process.env.AMQP_URL ? ' + RabbitMQ' : ''}`,
    scenarios: results,
    ceilings: { pgbench, bare },
    ratios: ratios.map(([label, value, ceiling, c]) => ({
      label,
      value,
      ceiling,
      ceilingValue: c ?? null,
      ratio: c ? value / c : null,
    })),
    targets,
    invariantFailures: failures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwritten to ${file} (server output: ${serverLog})`);
  await bench
    .drop()
    .catch((error: unknown) => log(`could not drop the database: ${String(error)}`));
  if (failures > 0) log(`${failures} invariant violation(s)`);
  return failures > 0 ? 1 : 0;
}

/**
 * Waits until /metrics shows no unpublished outbox rows and no queued messages; answers
 * whether it got there, how many were pending at first and how long it took.
 */
async function drainMessages(base: string, timeoutMs: number): Promise<Backlog> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let pendingAtStart: number | undefined;
  const result = (drained: boolean): Backlog => ({
    drained,
    pendingAtStart: pendingAtStart ?? 0,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  while (Date.now() < deadline) {
    try {
      const text = await (await fetch(`${base}/metrics`)).text();
      const pending = [...text.matchAll(/^(?:outbox_pending_messages|queue_depth)\S* (\S+)$/gm)]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
      pendingAtStart ??= pending;
      if (pending === 0) return result(true);
    } catch {
      // not answering right now; try again
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  return result(false);
}

/** Drops the benchmark database when the run is cut short (set once it exists). */
let dropOnExit: (() => Promise<void>) | null = null;

process.on('SIGINT', () => {
  killAll();
  const timeout = new Promise((done) => setTimeout(done, 5_000));
  void Promise.race([dropOnExit?.().catch(() => undefined), timeout]).finally(() =>
    process.exit(130),
  );
});

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    killAll();
    await dropOnExit?.().catch(() => undefined);
    process.exit(1);
  },
);
