/**
 * One Evently build on one fresh benchmark database, ready for scenarios: the database, the
 * build's own `create-admin` (which runs that build's migrations), the buyers, the server
 * (`node <root>/bin/evently.js serve`), logged-in tokens and the 20,000-seat venue.
 *
 * `root` is the build's repository root: this tree for a normal run, a git worktree of
 * another commit for `--compare`. Only the server and its migrations come from `root`; the
 * payment simulator, the load generator and the checks are always this tree's.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database } from '../../src/infra/postgres/database.js';
import type { LedgerEntry } from './invariants.js';
import { HttpClient } from './load.js';
import { CLI, freePort, startNode, stop, waitForOutput, type Child } from './processes.js';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createDatabase,
  createEvent,
  createVenue,
  insertUsers,
  login,
  loginUsers,
  type BenchDatabase,
} from './seed.js';

export interface SessionOptions {
  /** Repository root of the build to serve (its bin/evently.js, its migrations). */
  root: string;
  embedded: boolean;
  instances: number;
  pool: number;
  users: number;
  /** Keep-alive sockets of the load generator's client: the most requests in flight. */
  sockets: number;
  /** The payment simulator every build charges (its ledger is what the money checks read). */
  simBase: string;
  /** `--cpu-prof` output directory, or null. */
  profileDir: string | null;
  keep: boolean;
  /** The server's output is appended here, each start under a `label` heading. */
  serverLog: string;
  label: string;
  log: (line?: string) => void;
}

export interface Session {
  readonly base: string;
  readonly client: HttpClient;
  readonly adminToken: string;
  readonly tokens: string[];
  readonly venueId: string;
  readonly database: BenchDatabase;
  /** An open connection for checks with PostgreSQL; null with PGlite (open it while stopped). */
  readonly checkDb: Database | null;
  /** The server's root process id (-1 while stopped), for the resource sampler. */
  serverPid(): number;
  running(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  ledger(): Promise<LedgerEntry[] | null>;
  /** Drains the consumers (RabbitMQ), stops the server, drops the database unless --keep. */
  close(): Promise<void>;
}

/** Cleanups to run when the run is cut short (Ctrl-C, a crash): dropping databases. */
export const onAbort = new Set<() => Promise<void>>();

export async function openSession(options: SessionOptions): Promise<Session> {
  const { log } = options;
  const cli = join(options.root, 'bin', 'evently.js');
  const database = await createDatabase(
    options.embedded ? undefined : process.env.DATABASE_URL,
    'evently-bench',
    options.keep,
  );
  const drop = () => database.drop();
  onAbort.add(drop);
  log(
    `database: ${database.mode === 'postgres' ? database.name : `PGlite in ${database.dataDir}`}`,
  );

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
    DATA_DIR: database.dataDir,
    PAYMENTS_URL: options.simBase,
    DATABASE_POOL_SIZE: String(options.pool),
    // Its own Redis keys and RabbitMQ queues: a shared broker's other Evently stays apart.
    NAMESPACE: 'bench',
  };
  delete env.ADMIN_EMAIL;
  delete env.ADMIN_PASSWORD;
  delete env.NODE_OPTIONS;
  if (options.embedded) {
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.REDIS_CLUSTER_NODES;
    delete env.AMQP_URL;
  } else {
    env.DATABASE_URL = database.url;
  }

  // The admin through the build's own CLI, which migrates the database with the build's own
  // migrations; then the buyers by SQL with one precomputed hash (no migration of ours: the
  // database must have the schema of the build under test, not of this tree).
  const admin = startNode(
    'create-admin',
    cli,
    ['create-admin', '--email', ADMIN_EMAIL],
    { ...env, ADMIN_EMAIL, ADMIN_PASSWORD },
    [],
    options.root,
  );
  if ((await admin.exited) !== 0) throw new Error(`create-admin failed:\n${admin.output()}`);
  let seeding = performance.now();
  {
    const db = await database.open();
    await insertUsers(db, options.users, { migrate: false });
    await db.close();
  }
  log(`${options.users} users inserted in ${seconds(seeding)} s`);

  const base = `http://127.0.0.1:${port}`;
  let server: Child | null = null;
  const start = async () => {
    if (server) return;
    const nodeArgs = options.profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]
      : [];
    const instances = options.instances > 1 ? ['--instances', String(options.instances)] : [];
    const proc = startNode('evently', cli, ['serve', ...instances], env, nodeArgs, options.root);
    const banners = new RegExp(`(Evently is running[\\s\\S]*){${options.instances}}`);
    await waitForOutput(proc, banners, 180_000);
    server = proc;
  };
  // The server's own output (warnings and errors, e.g. behind a 500) is kept next to the JSON.
  const stopServer = async () => {
    if (!server) return;
    const proc: Child = server;
    server = null;
    const code = await stop(proc, 30_000);
    if (code !== 0) log(`evently exited with ${code}:\n${proc.output().slice(-2000)}`);
    mkdirSync(dirname(options.serverLog), { recursive: true });
    appendFileSync(options.serverLog, `==== ${options.label} ====\n${proc.output()}`);
  };

  await start();
  const client = new HttpClient(base, options.sockets);
  seeding = performance.now();
  const adminToken = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tokens = await loginUsers(client, options.users, 32);
  log(`${options.users} users logged in in ${seconds(seeding)} s`);
  seeding = performance.now();
  const venueId = await createVenue(client, adminToken);
  // Something to list: GET /events answers a full first page (20 events).
  for (let i = 0; i < 18; i++) {
    await createEvent(client, adminToken, { name: `Side show ${i + 1}`, capacity: 500 });
  }
  log(`venue (20,000 seats) and list events in ${seconds(seeding)} s`);

  // A check connection stays open with PostgreSQL; PGlite is opened when the server is down.
  const checkDb = options.embedded ? null : await database.open();
  const rabbit = Boolean(process.env.AMQP_URL) && !options.embedded;

  return {
    base,
    client,
    adminToken,
    tokens,
    venueId,
    database,
    checkDb,
    serverPid: () => (server as Child | null)?.child.pid ?? -1,
    running: () => server !== null,
    start,
    stop: stopServer,
    async ledger() {
      try {
        const response = await fetch(`${options.simBase}/ledger`);
        return ((await response.json()) as { entries: LedgerEntry[] }).entries;
      } catch {
        return null;
      }
    },
    async close() {
      if (server && rabbit) {
        // RabbitMQ queues are durable and named by NAMESPACE, not by run: a backlog left
        // here would be consumed by the next run's server against a database that does not
        // know its users and events. Let the consumers finish first.
        const { drained } = await drainMessages(base, 180_000);
        log(
          drained
            ? 'message backlog drained'
            : 'message backlog NOT drained after 180 s (the next run will see it)',
        );
      }
      await stopServer();
      client.close();
      await checkDb?.close();
      onAbort.delete(drop);
      await drop().catch((error: unknown) => log(`could not drop the database: ${String(error)}`));
    },
  };
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

export interface Backlog {
  drained: boolean;
  pendingAtStart: number;
  seconds: number;
}

/**
 * Waits until /metrics shows no unpublished outbox rows and no queued messages; answers
 * whether it got there, how many were pending at first and how long it took.
 */
export async function drainMessages(base: string, timeoutMs: number): Promise<Backlog> {
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

/**
 * The payment provider in its own process (this tree's `evently payments-sim`, whichever
 * build is measured): its ledger is what the money checks read.
 */
export async function startSimulator(): Promise<{ base: string; stop(): Promise<void> }> {
  const port = await freePort();
  const sim = startNode('payments-sim', CLI, ['payments-sim', '--port', String(port)], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
  });
  await waitForOutput(sim, /Payment simulator listening/, 60_000);
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      await stop(sim, 5_000);
    },
  };
}
