/**
 * The command line of `npm run bench` (documented in main.ts and docs/performance.md), read
 * and checked once; every mode (plain run, --rate, --ramp, --compare) takes what it needs.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './processes.js';
import { OPEN_SCENARIOS, type Load } from './scenario-run.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';

export interface BenchOptions {
  mode: 'postgres' | 'embedded';
  embedded: boolean;
  scenarios: ScenarioName[];
  /** Closed-loop VUs; also the bare route's VUs. */
  vus: number;
  load: Load;
  durationMs: number;
  browseMs: number;
  instances: number;
  users: number;
  pool: number;
  cpuProf: boolean;
  idempotencyKeys: boolean;
  ceilings: boolean;
  pgbenchSeconds: number;
  keep: boolean;
  /** --compare: the git ref to build as A (B is this working tree). */
  compare: string | null;
  rounds: number;
  /** The open model's bound on iterations in flight (also bounded by the buyers). */
  maxInFlight: number;
  /** --ramp: the open model's first rate (then x1.5 per step). */
  ramp: { startRate: number } | null;
  /** Keep-alive sockets the load generator may open: its most concurrent requests. */
  sockets: number;
  startedAt: Date;
  /** A file-name-safe timestamp for the results. */
  stamp: string;
  resultsDir: string;
}

export function readOptions(argv = process.argv.slice(2)): BenchOptions {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
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
      compare: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      rate: { type: 'string' },
      ramp: { type: 'boolean', default: false },
      'max-in-flight': { type: 'string', default: '5000' },
    },
  });

  const positive = (name: string, text: string | undefined, fallback: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number`);
    return value;
  };
  const vus = positive('vus', args.vus, 1000);
  const durationS = positive('duration', args.duration, args.quick ? 6 : 30);
  const instances = positive('instances', args.instances, 1);
  const users = positive('users', args.users, Math.max(4000, 4 * vus));
  const embedded = args.embedded || !process.env.DATABASE_URL;
  const open = args.rate !== undefined || args.ramp;
  const rate = args.rate === undefined ? 50 : Number(args.rate);
  if (!(rate > 0)) throw new Error('--rate must be a positive number of iterations per second');
  const maxInFlight = positive('max-in-flight', args['max-in-flight'], 5000);
  const load: Load = open ? { kind: 'open', rate, maxInFlight } : { kind: 'closed', vus };

  // The rushes are what --compare and the open model are for; --scenario overrides.
  const fallback = args.compare !== undefined || open ? OPEN_SCENARIOS.join(',') : 'all';
  const scenarioText = args.scenario ?? fallback;
  const scenarios: ScenarioName[] =
    scenarioText === 'all'
      ? [...SCENARIOS]
      : scenarioText.split(',').map((s) => {
          if (!(SCENARIOS as readonly string[]).includes(s)) {
            throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')} or all`);
          }
          return s as ScenarioName;
        });

  if (embedded && instances > 1) throw new Error('--instances > 1 needs DATABASE_URL (PostgreSQL)');
  if (open) {
    const other = scenarios.filter((s) => !OPEN_SCENARIOS.includes(s));
    if (other.length > 0) {
      throw new Error(`--rate and --ramp drive ${OPEN_SCENARIOS.join(' and ')}, not ${other}`);
    }
  }
  if (args.compare !== undefined && args.ramp) throw new Error('--compare with --ramp: pick one');
  if (args.compare !== undefined && args['cpu-prof']) {
    throw new Error('--cpu-prof is not supported with --compare');
  }

  const startedAt = new Date();
  return {
    mode: embedded ? 'embedded' : 'postgres',
    embedded,
    scenarios,
    vus,
    load,
    durationMs: durationS * 1000,
    browseMs: Math.max(3, Math.round(durationS / 2)) * 1000,
    instances,
    users,
    pool: positive('pool', args.pool ?? process.env.DATABASE_POOL_SIZE, 20),
    cpuProf: args['cpu-prof'],
    idempotencyKeys: args['idempotency-keys'],
    // Ceilings belong to one build's full picture, not to an A/B or a ramp.
    ceilings: !args['no-ceilings'] && args.compare === undefined && !args.ramp,
    pgbenchSeconds: positive('pgbench-seconds', args['pgbench-seconds'], args.quick ? 5 : 15),
    keep: args.keep,
    compare: args.compare ?? null,
    rounds: positive('rounds', args.rounds, 2),
    maxInFlight,
    ramp: args.ramp ? { startRate: rate } : null,
    sockets: (open ? Math.min(maxInFlight, users) : vus) + 32,
    startedAt,
    stamp: startedAt.toISOString().replaceAll(':', '-').replace(/\..*/, ''),
    resultsDir: join(ROOT, 'bench', 'results'),
  };
}
